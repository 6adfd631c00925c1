"""The explainers' puzzle test: explain each puzzle from its top records, score it like the true one.

Each synthetic neuron of superpose/explainer/puzzles.py gets records as in
benchmarks/bench_puzzles.py (top sequences by hits and random ones, cut by --subject's tokenizer
from the corpus); each explainer sees only the split's explain set (never the held-out records),
exactly as `superpose explain` does. The embedding simulator scores the explanation written and
the puzzle's true explanation on the same held-out records (correlation pooled over held-out
tokens). An explanation is **within** when its correlation reaches the lower end of the true
explanation's 95% bootstrap interval (records resampled, --bootstrap resamples, fixed seed); the
paired margin true minus written, with its interval, is recorded beside it.

    python benchmarks/bench_explainer_puzzles.py --explainers top-tokens smollm2-135m qwen2.5-coder-0.5b

Writes --out .json and .md.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from superpose.config import CompareParams, RecordParams


def _bench_puzzles() -> Any:
    """benchmarks/bench_puzzles.py as a module: its corpus cutting and record drawing, unchanged."""
    path = Path(__file__).with_name("bench_puzzles.py")
    spec = importlib.util.spec_from_file_location("bench_puzzles", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def interval(stats: np.ndarray, n_boot: int, seed: int) -> dict[str, float | None]:
    """Correlations of candidate 0 (true) and 1 (written), the true one's 95% interval and the
    paired interval of true minus written, over the same record resamples."""
    from superpose.explainer.puzzles import pooled_corr

    corr = pooled_corr(stats.sum(axis=1))
    n_rec = stats.shape[1]
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, n_rec, n_rec), minlength=n_rec) for _ in range(n_boot)])
    boot = pooled_corr(np.einsum("br,crk->bck", counts, stats))
    true = boot[:, 0][~np.isnan(boot[:, 0])]
    diff = boot[:, 0] - boot[:, 1]
    diff = diff[~np.isnan(diff)]

    def q(x: np.ndarray, p: float) -> float | None:
        return float(np.quantile(x, p)) if x.size else None

    value = lambda v: None if np.isnan(v) else float(v)  # noqa: E731
    return {"true_correlation": value(corr[0]), "written_correlation": value(corr[1]),
            "true_ci_low": q(true, 0.025), "true_ci_high": q(true, 0.975),
            "margin_ci_low": q(diff, 0.025), "margin_ci_high": q(diff, 0.975)}


def make_explainer(name: str) -> Any:
    """A chat client as `superpose explain` builds it: a top-tokens kind or a local model."""
    from superpose.explainer.clients import Backend, make_client

    return make_client(Backend(kind=name) if name.startswith("top-tokens") else Backend(model=name))


def run(args: argparse.Namespace) -> dict:
    import torch

    from superpose.core.fileio import write_json_atomic, write_text_atomic
    from superpose.core.provenance import versions
    from superpose.explainer.explain import explain_records
    from superpose.explainer.local_models import load_local_model
    from superpose.explainer.puzzles import PUZZLES, record_stats

    torch.set_num_threads(args.threads)
    bench = _bench_puzzles()
    puzzles = [p for p in PUZZLES if not args.puzzles or p.name in args.puzzles]
    subject = load_local_model(args.subject)
    sequences = bench.corpus_sequences(subject.tokenizer, args.corpus_source, args.seq_len, args.corpus_tokens)
    records = {p.name: bench.puzzle_records(p, sequences, args.top, args.random, seed=args.seed + k)
               for k, p in enumerate(PUZZLES) if p in puzzles}
    simulator = bench.build_simulator("embedding")
    rows, runs = [], []
    for name in args.explainers:
        client = make_explainer(name)
        start, cpu = time.monotonic(), time.process_time()
        for p in puzzles:
            split = records[p.name].split()
            row: dict[str, Any] = {"explainer": name, "puzzle": p.name, "true_explanation": p.explanation}
            try:
                written = explain_records(split.explain, client)
            except Exception as err:  # noqa: BLE001 - an explainer failure is a lost puzzle, recorded
                row.update(written=None, error=str(err), within=False)
                rows.append(row)
                continue
            seqs, true = [r.tokens for r in split.holdout], [r.activations for r in split.holdout]
            preds = [simulator.simulate(t, seqs) for t in (p.explanation, written)]
            row.update(written=written, **interval(record_stats(true, preds), args.bootstrap, args.seed))
            low, got = row["true_ci_low"], row["written_correlation"]
            row["within"] = bool(low is not None and got is not None and got >= low)
            rows.append(row)
            print(f"{name:22} {p.name:18} {row['within']!s:5} {got} vs {row['true_correlation']} "
                  f"[{low}]  {written[:60]!r}", flush=True)
        runs.append({"explainer": name, "seconds": round(time.monotonic() - start, 1),
                     "cpu_seconds": round(time.process_time() - cpu, 1)})
    results = {"parameters": vars(args), "simulator": simulator.name, "simulator_method": simulator.method,
               "within": "written correlation >= the lower end of the true explanation's 95% bootstrap interval",
               "runs": runs, "per_puzzle": rows, "versions": versions()}
    out = Path(args.out)
    write_json_atomic(out.with_suffix(".json"), results)
    write_text_atomic(out.with_suffix(".md"), markdown(results))
    return results


def markdown(results: dict) -> str:
    p = results["parameters"]
    lines = ["# Explainers on the puzzles: the written explanation scored like the true one", "",
             f"Simulator: {results['simulator']}. Records: {p['top']} top and {p['random']} random of "
             f"{p['seq_len']} tokens from the first {p['corpus_tokens']:,} corpus tokens; the explainer sees the "
             f"split's explain set only. Within: {results['within']} ({p['bootstrap']} resamples, seed {p['seed']}).",
             "", "| explainer | within | puzzles | share | mean written corr | mean true corr | seconds |",
             "|---|---|---|---|---|---|---|"]
    for run in results["runs"]:
        mine = [r for r in results["per_puzzle"] if r["explainer"] == run["explainer"]]
        hits = sum(r["within"] for r in mine)
        written = [r.get("written_correlation") for r in mine]
        written = [w if w is not None else 0.0 for w in written]
        true = [r.get("true_correlation") for r in mine if r.get("true_correlation") is not None]
        lines.append(f"| {run['explainer']} | {hits} | {len(mine)} | {100 * hits / max(len(mine), 1):.0f}% | "
                     f"{np.mean(written):+.3f} | {np.mean(true) if true else float('nan'):+.3f} | {run['seconds']} |")
    lines += ["", "Undefined or failed written explanations count as correlation 0 in the mean and as not within.",
              "", "| explainer | puzzle | written | its corr | true corr [95%] | within |", "|---|---|---|---|---|---|"]
    for r in results["per_puzzle"]:
        def f(v: float | None) -> str:
            return "n/a" if v is None else f"{v:+.3f}"
        text = (r.get("written") or r.get("error") or "").replace("|", "/")[:70]
        lines.append(f"| {r['explainer']} | {r['puzzle']} | {text} | {f(r.get('written_correlation'))} | "
                     f"{f(r.get('true_correlation'))} [{f(r.get('true_ci_low'))}, {f(r.get('true_ci_high'))}] | "
                     f"{'yes' if r['within'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--explainers", nargs="+", default=["top-tokens", "smollm2-135m"],
                        help="top-tokens or local chat models (smollm2-135m, qwen2.5-coder-0.5b, ...)")
    parser.add_argument("--subject", default="smollm2-135m", help="model whose tokenizer cuts the corpus")
    parser.add_argument("--corpus-source", default="default")
    parser.add_argument("--corpus-tokens", type=int, default=300_000)
    parser.add_argument("--seq-len", type=int, default=24)
    parser.add_argument("--top", type=int, default=RecordParams.top_k)
    parser.add_argument("--random", type=int, default=RecordParams.n_random)
    parser.add_argument("--bootstrap", type=int, default=CompareParams.bootstrap)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--puzzles", nargs="*", default=[], help="names (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="results/bench_explainer_puzzles")
    args = parser.parse_args(argv)
    results = run(args)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
