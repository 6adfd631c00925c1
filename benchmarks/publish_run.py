"""Copy a finished mining run's shareable outputs into results/: bulk tables, summaries, a slice.

A full run holds three files per unit and polarity (276k for SmolLM2); the repository keeps the
bulk tables (the topics table recompressed as xz), run.json, the mined-versus-random summary,
the random baseline's bulk tables, and the per-unit files of the paper's layout for one small
slice of units only, beside the tables (the run reader merges both: the slice's pools and sets
show in the report).
"""

from __future__ import annotations

import argparse
import gzip
import lzma
import shutil
from pathlib import Path


def recompress_xz(source: Path, target: Path) -> None:
    """The run's gzip table as xz: a third smaller, read by pandas and `xzcat` alike."""
    with gzip.open(source, "rb") as src, lzma.open(target, "wb", preset=9 | lzma.PRESET_EXTREME) as dst:
        shutil.copyfileobj(src, dst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path, help="a mining run folder {out}/{model}/{mode}")
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("--slice-layer", type=int, default=15)
    parser.add_argument("--slice-neurons", default="0-9", help="first-last units of the slice")
    args = parser.parse_args()
    first, last = (int(x) for x in args.slice_neurons.split("-"))
    args.dest.mkdir(parents=True, exist_ok=True)
    recompress_xz(args.run / "topics.csv.gz", args.dest / "topics.csv.xz")
    for name in ("pools.csv.gz", "run.json", "summary.csv", "summary.md"):
        if (args.run / name).is_file():
            shutil.copy2(args.run / name, args.dest / name)
    random_dest = args.dest / "random"
    if (args.run / "random").is_dir():
        random_dest.mkdir(exist_ok=True)
        for name in ("topics.csv.gz", "pools.csv.gz", "baseline.json"):
            shutil.copy2(args.run / "random" / name, random_dest / name)
    slice_dest = args.dest
    copied = 0
    for neuron in range(first, last + 1):
        for path in args.run.glob(f"{args.slice_layer}_{neuron}_*"):
            shutil.copy2(path, slice_dest / path.name)
            copied += 1
    print(f"published {args.run} -> {args.dest} ({copied} per-unit files of layer {args.slice_layer})")


if __name__ == "__main__":
    main()
