"""Write the k-clique instances of a mining run (its shortlisted isets) as an .npz for bench_solver.

Each iset of ``RUN/*_isets.csv`` becomes its NPMI matrix on the run's corpus, stored as
``weights_0``, ``weights_1``, ... with ``labels`` ("{layer}_{neuron}_{polarity}_iset{i}").
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from superpose.corpus.npmi import npmi_matrix
from superpose.corpus.store import load_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path, help="a mining run folder {out}/{model}/{mode}")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--layers", default=None, help="only these layers, e.g. 3,15,27 (default: all)")
    parser.add_argument("--sample", type=int, default=None, help="keep a seeded random sample of N isets")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    layers = None if args.layers is None else {int(x) for x in args.layers.split(",")}
    request = json.loads((args.run / "run.json").read_text())["request"]
    counts = load_corpus(request["corpus"]["path"], mmap=True)
    weights, labels = [], []
    for path in sorted(args.run.glob("*_isets.csv")):
        if layers is not None and int(path.name.split("_")[0]) not in layers:
            continue
        text = path.read_text()
        for row in csv.DictReader(text.splitlines()) if text else []:
            ids = [counts.index[w] for w in row["words"].split()]
            weights.append(npmi_matrix(counts, ids))
            labels.append(f"{path.name.removesuffix('_isets.csv')}_iset{row['iset']}")
    if args.sample is not None and args.sample < len(weights):
        keep = sorted(np.random.default_rng(args.seed).choice(len(weights), size=args.sample, replace=False))
        weights, labels = [weights[i] for i in keep], [labels[i] for i in keep]
    np.savez_compressed(args.out, labels=np.array(labels), **{f"weights_{i}": w for i, w in enumerate(weights)})
    print(f"{len(weights)} instances from {args.run} -> {args.out}")


if __name__ == "__main__":
    main()
