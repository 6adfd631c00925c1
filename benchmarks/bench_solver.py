"""Benchmark the exact k-clique step: the strong formulation against the paper's, in one run.

Five configurations solve every instance with the same time limit:

- ``paper``: the paper's formulation through CVXPY/SCIP, without a starting solution (as the
  paper ran it);
- ``strong-cvxpy``: the strong formulation through CVXPY/SCIP, with the local-search start;
- ``default``: what ``solve_mekc`` does by default (the dedicated branch and bound);
- ``strong-highs``: the strong formulation through HiGHS;
- ``triangle-highs``: the strong formulation plus triangle inequalities, through HiGHS.

Instances come from ``--instances FILE.npz`` or are generated with ``--synthetic N``. The .npz
holds one square symmetric float matrix per instance, named ``weights_0``, ``weights_1``, ...
(in that order; other arrays are ignored), or a single object array ``weights`` of matrices;
an optional string array ``labels`` names them (e.g. "layer3_n17_pos_iset0"). Write such a file
with ``np.savez(path, **{f"weights_{i}": w for i, w in enumerate(isets)})``.

Prints and writes (``--out``, default results/bench_solver.json) per configuration the median,
mean and worst wall time and the count proven optimal, the speed-up of medians against
``paper``, and on every instance that two configurations both proved optimal whether their
optimal scores agree (1e-9).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from harness import write_result

from superpose.config import MiningConfig
from superpose.mining.clique import DEFAULT_SOLVER
from superpose.mining.clique.solve import solve_mekc

CONFIGS = {
    "paper": {"formulation": "paper", "backend": "cvxpy-scip", "warm_start": False},
    "strong-cvxpy": {"formulation": "strong", "backend": "cvxpy-scip", "warm_start": True},
    "default": {},
    "strong-highs": {"formulation": "strong", "backend": "highs"},
    "triangle-highs": {"formulation": "triangle", "backend": "highs"},
}
SCORE_TOL = 1e-9


def synthetic_instances(count: int, seed: int) -> list[np.ndarray]:
    """Iset-like NPMI matrices: 10-24 words, mostly weak pairs, a centre word and a planted topic.

    Pairs are N(0.02, 0.08); the centre's pairs are U(0.1, 0.35) (the star heuristic puts every
    word of an iset within theta of its centre); a planted subset of 5-14 words has N(0.18,
    0.07) pairs. Values are clipped to [-1, 1] and the word order is shuffled.
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n = int(rng.integers(10, 25))
        w = rng.normal(0.02, 0.08, (n, n))
        size = int(rng.integers(5, min(n, 14) + 1))
        topic = rng.choice(n, size, replace=False)
        w[np.ix_(topic, topic)] = rng.normal(0.18, 0.07, (size, size))
        w[0, :] = rng.uniform(0.1, 0.35, n)
        w = np.triu(w, 1)
        w = np.clip(w + w.T, -1.0, 1.0)
        perm = rng.permutation(n)
        out.append(w[np.ix_(perm, perm)])
    return out


def load_instances(path: Path) -> tuple[list[np.ndarray], list[str]]:
    with np.load(path, allow_pickle=True) as data:
        if "weights" in data.files:
            mats = [np.asarray(w, dtype=float) for w in data["weights"]]
        else:
            names = sorted((f for f in data.files if f.startswith("weights_")), key=lambda f: int(f[8:]))
            mats = [np.asarray(data[f], dtype=float) for f in names]
        labels = [str(s) for s in data["labels"]] if "labels" in data.files else []
    return mats, labels or [f"instance_{i}" for i in range(len(mats))]


def summarise(rows: list[dict], k: int) -> dict:
    """Times per configuration, speed-ups of medians, and agreement of proven optima."""
    summary: dict = {"instances": len(rows), "k": k, "configs": {}, "agreement": {}}
    for name in CONFIGS:
        times = np.array([r[name]["seconds"] for r in rows])
        summary["configs"][name] = {
            "median_s": float(np.median(times)),
            "mean_s": float(times.mean()),
            "worst_s": float(times.max()),
            "proven_optimal": sum(r[name]["status"] == "optimal" for r in rows),
        }
    base = summary["configs"]["paper"]["median_s"]
    for name in CONFIGS:
        summary["configs"][name]["median_speedup_vs_paper"] = base / summary["configs"][name]["median_s"]
    names = list(CONFIGS)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            both = [r for r in rows if r[a]["status"] == "optimal" and r[b]["status"] == "optimal"]
            bad = [r["label"] for r in both if abs(r[a]["score"] - r[b]["score"]) > SCORE_TOL]
            summary["agreement"][f"{a} vs {b}"] = {"both_optimal": len(both), "score_mismatch": bad}
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--instances", type=Path, help=".npz of weight matrices (format above)")
    source.add_argument("--synthetic", type=int, metavar="N", help="generate N iset-like instances")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic instances")
    parser.add_argument("--k", type=int, default=MiningConfig.k)
    parser.add_argument("--time-limit", type=float, default=MiningConfig.time_limit,
                        help="seconds per instance and solve")
    parser.add_argument("--limit", type=int, help="use only the first N instances")
    parser.add_argument("--out", type=Path, default=Path("results/bench_solver.json"))
    args = parser.parse_args(argv)

    if args.instances is not None:
        mats, labels = load_instances(args.instances)
        source_desc = str(args.instances)
    else:
        mats = synthetic_instances(args.synthetic, args.seed)
        labels = [f"synthetic_{i}" for i in range(len(mats))]
        source_desc = f"synthetic (seed {args.seed})"
    mats, labels = mats[: args.limit], labels[: args.limit]
    solve_mekc(np.eye(args.k + 1), args.k, backend="cvxpy-scip")  # pay the imports up front
    solve_mekc(np.eye(args.k + 1), args.k)

    rows = []
    for i, (w, label) in enumerate(zip(mats, labels, strict=True)):
        row: dict = {"label": label, "n": int(w.shape[0])}
        for name, opts in CONFIGS.items():
            t0 = time.perf_counter()
            res = solve_mekc(w, args.k, time_limit=args.time_limit, **opts)
            row[name] = {
                "seconds": time.perf_counter() - t0,
                "status": res.status,
                "score": res.score,
                "gap": res.gap,
                "indices": list(res.indices),
            }
        rows.append(row)
        if (i + 1) % 20 == 0:
            print(f"{i + 1}/{len(mats)} instances", file=sys.stderr, flush=True)

    summary = summarise(rows, args.k)
    summary.update(source=source_desc, time_limit_s=args.time_limit, default_backend=DEFAULT_SOLVER)
    for name, s in summary["configs"].items():
        print(
            f"{name:>13}: median {s['median_s']:.3f} s, mean {s['mean_s']:.3f} s, worst {s['worst_s']:.3f} s, "
            f"proven optimal {s['proven_optimal']}/{len(rows)}, median speed-up vs paper "
            f"{s['median_speedup_vs_paper']:.1f}x"
        )
    for pair, agree in summary["agreement"].items():
        print(f"{pair}: {agree['both_optimal']} both optimal, {len(agree['score_mismatch'])} score mismatches")
    write_result(args.out, {"summary": summary, "rows": rows})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
