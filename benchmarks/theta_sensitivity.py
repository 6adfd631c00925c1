"""How the share of pools with topics depends on the NPMI threshold theta_l, mined against random.

The star heuristic (docs/method.md step 4) keeps edges with ``theta_l <= npmi <= theta_u`` (paper: 0.1). This
projects a sample of neurons (every ``--every``-th of each layer, both polarities), mines their
pools at several ``theta_l`` values, and does the same for random pools of the same sizes
(the baseline's ``random_pool``, same seed), so the mined-versus-random gap can be read per theta.

    python benchmarks/theta_sensitivity.py --corpus corpus/build/default --every 32

Writes results/theta_sensitivity.json and .md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from superpose.config import MODES, ExecutionConfig, MiningConfig, ProjectionConfig, parse_workers


def _summary(results: list) -> dict:
    """Share of pools with a topic, topics per pool, mean and median topic NPMI (None: no topic)."""
    scores = [t.score for r in results for t in r.topics]
    return {"pools": len(results),
            "share_with_topic": sum(bool(r.topics) for r in results) / max(len(results), 1),
            "topics_per_pool": len(scores) / max(len(results), 1),
            "mean_topic_npmi": float(np.mean(scores)) if scores else None,
            "median_topic_npmi": float(np.median(scores)) if scores else None}


def _npmi(value: float | None) -> str:
    return "n/a (no topic)" if value is None else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--corpus", default="corpus/build/default")
    parser.add_argument("--mode", default=ProjectionConfig.mode, choices=MODES)
    parser.add_argument("--every", type=int, default=32, help="every n-th neuron of each layer")
    parser.add_argument("--thetas", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.2, 0.25])
    parser.add_argument("--tau", type=int, default=ProjectionConfig.tau)
    parser.add_argument("--workers", type=parse_workers, default=ExecutionConfig.workers,
                        help="mining processes: a number or auto")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random pools")
    parser.add_argument("--out", default="results/theta_sensitivity")
    args = parser.parse_args()

    from superpose.core.provenance import timestamp, versions
    from superpose.corpus.store import load_corpus
    from superpose.execution import make_executor
    from superpose.mining.baseline import random_pool
    from superpose.mining.run import Task, mine_task, mining_setup
    from superpose.mining.store import POLARITIES
    from superpose.models import load_model
    from superpose.projection.pools import TokenWords
    from superpose.projection.run import CorpusWords, project_to_files
    from superpose.projection.store import load_layer

    counts = load_corpus(args.corpus, mmap=True)
    lm = load_model(args.model)
    neurons = list(range(0, lm.n_neurons, args.every))
    layers = list(range(lm.n_layers))
    started = time.monotonic()
    mined: list[Task] = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = project_to_files(lm, args.mode, layers, tmp, neurons=neurons, tau=args.tau,
                                 corpus=CorpusWords.load(args.corpus))
        for path in paths:
            layer_file = load_layer(path)
            for row, neuron in enumerate(layer_file.neurons.tolist()):
                for polarity in POLARITIES:
                    mined.append(Task(layer_file.meta["layer"], neuron, polarity,
                                      np.asarray(layer_file.pool(row, polarity))))
    projection_s = time.monotonic() - started
    universe = np.unique(TokenWords.build(lm.tokenizer, counts.index, lm.vocab_size).word_ids)
    universe = universe[universe >= 0]
    random = [Task(t.layer, t.neuron, t.polarity,
                   random_pool(universe, len(t.pool), args.seed, t.layer, t.neuron, t.polarity))
              for t in mined]
    rows = []
    for theta in args.thetas:
        params = dataclasses.replace(MiningConfig(), theta_l=theta)
        row: dict = {"theta_l": theta}
        for kind, tasks in (("mined", mined), ("random", random)):
            t0 = time.monotonic()
            executor = make_executor(ExecutionConfig(workers=args.workers))
            setup = partial(mining_setup, args.corpus, params)
            results = [r for _, r in executor.map_unordered(mine_task, setup, tasks)]
            row[kind] = {**_summary(results), "seconds": round(time.monotonic() - t0, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = {"settings": {**vars(args), "neurons_per_layer": len(neurons), "layers": len(layers),
                        "params": MiningConfig().to_json(), "projection_seconds": round(projection_s, 1)},
           "rows": rows, "created": timestamp(), "versions": versions()}
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n")
    lines = ["# Topics against the NPMI threshold theta_l", "",
             f"{args.model} {args.mode}, tau {args.tau}, every {args.every}th neuron of each layer "
             f"({len(mined)} pools, both polarities), corpus `{args.corpus}`; other parameters as "
             "the defaults (theta_u 1, kappa 10/24, k 10). Random: pools of the same sizes drawn "
             "from the words the tokenizer can reach (the baseline's sampler).", "",
             "| theta_l | share with a topic: mined | random | topics per pool: mined | random "
             "| mean topic NPMI: mined | random |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        m, x = r["mined"], r["random"]
        lines.append(f"| {r['theta_l']:.2f} | {100 * m['share_with_topic']:.1f}% | "
                     f"{100 * x['share_with_topic']:.1f}% | {m['topics_per_pool']:.2f} | "
                     f"{x['topics_per_pool']:.2f} | {_npmi(m['mean_topic_npmi'])} | "
                     f"{_npmi(x['mean_topic_npmi'])} |")
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
