"""Copy a finished mining run's shareable outputs into results/: bulk tables, summaries, a slice.

A full run holds three files per unit and polarity (276k for SmolLM2); the repository keeps the
bulk tables (the topics table recompressed as xz), run.json, the mined-versus-random summary,
the random baseline's bulk tables, and the per-unit files of the paper's layout for one small
slice of units only, beside the tables (the run reader merges both: the slice's pools and sets
show in the report). A run in the shards layout has no per-unit files: its per-layer tables are
joined into the same bulk tables (pools without their word columns), and ``--slice-run`` names a
paper-layout run of the slice to copy the per-unit files from.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import lzma
import shutil
from pathlib import Path

_POOL_COLUMNS = 8  # model, mode, layer, neuron, polarity, pool_size, isets, topics


def bulk_table(run: Path, table: str, target: Path) -> None:
    """The run's ``{table}.csv.gz`` written to ``target`` (xz or gz by its suffix): the bulk
    table of a paper-layout run, or the shards' per-layer tables joined in layer order."""
    source = run / f"{table}.csv.gz"
    shards = sorted((run / "shards").glob(f"layer_*_{table}.csv.gz"))
    if not source.is_file() and not shards:
        raise SystemExit(f"{run} has neither {table}.csv.gz nor shards/layer_*_{table}.csv.gz")
    opener = (lambda p: lzma.open(p, "wt", encoding="utf-8", preset=9 | lzma.PRESET_EXTREME)) \
        if target.name.endswith(".xz") else (lambda p: gzip.open(p, "wt", encoding="utf-8"))
    with opener(target) as dst:
        for i, path in enumerate([source] if source.is_file() else shards):
            with gzip.open(path, "rt", encoding="utf-8", newline="") as src:
                rows = csv.reader(src)
                header = next(rows)
                keep = _POOL_COLUMNS if table == "pools" else len(header)
                writer = csv.writer(dst, lineterminator="\n")
                if i == 0:
                    writer.writerow(header[:keep])
                writer.writerows(row[:keep] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path, help="a mining run folder {out}/{model}/{mode}")
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("--slice-layer", type=int, default=15)
    parser.add_argument("--slice-neurons", default="0-9", help="first-last units of the slice")
    parser.add_argument("--slice-run", type=Path, default=None,
                        help="paper-layout run holding the slice's per-unit files (default: the run)")
    args = parser.parse_args()
    first, last = (int(x) for x in args.slice_neurons.split("-"))
    args.dest.mkdir(parents=True, exist_ok=True)
    bulk_table(args.run, "topics", args.dest / "topics.csv.xz")
    bulk_table(args.run, "pools", args.dest / "pools.csv.gz")
    for name in ("run.json", "summary.csv", "summary.md"):
        if (args.run / name).is_file():
            shutil.copy2(args.run / name, args.dest / name)
    random_dest = args.dest / "random"
    if (args.run / "random").is_dir():
        random_dest.mkdir(exist_ok=True)
        for table in ("topics", "pools"):
            bulk_table(args.run / "random", table, random_dest / f"{table}.csv.gz")
        shutil.copy2(args.run / "random" / "baseline.json", random_dest / "baseline.json")
    slice_dest = args.dest
    copied = 0
    for neuron in range(first, last + 1):
        for path in (args.slice_run or args.run).glob(f"{args.slice_layer}_{neuron}_*"):
            shutil.copy2(path, slice_dest / path.name)
            copied += 1
    print(f"published {args.run} -> {args.dest} ({copied} per-unit files of layer {args.slice_layer})")


if __name__ == "__main__":
    main()
