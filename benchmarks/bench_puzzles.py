"""Puzzle benchmark: synthetic neurons with known rules; does the true explanation win cleanly?

Each puzzle (:mod:`superpose.explainer.puzzles`) is a rule on corpus tokens that is exactly what its
explanation says; it defines a synthetic neuron (1 where the rule fires, else 0). Records are
chosen as for real neurons: the top sequences by activation (number of hits) and random ones,
split by the library's :meth:`NeuronRecords.split`, whose held-out set mixes top and random
records 1:1. On the held-out records the simulator predicts activations for the true
explanation and for false ones: the puzzle's near misses (the true explanation without its
condition, a broader or narrower class) and three other puzzles' explanations (fixed by the
seed); the score is the correlation pooled over all held-out tokens. Results are reported
overall, for the context-dependent puzzles and per kind.

A clean win: the true explanation's correlation is positive and the bootstrap 95% interval
(records resampled with replacement, fixed seed; the best false explanation re-chosen in every
resample) of its margin over the best false explanation lies above zero.

    python benchmarks/bench_puzzles.py --simulators qwen2.5-coder-0.5b smollm2-135m

Writes results/bench_puzzles.json (rows in ``per_puzzle``) and results/bench_puzzles.md.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from superpose.activations.formats import SPLIT, ActivationRecord, NeuronRecords
from superpose.explainer.puzzles import PUZZLES, Puzzle, auc_margin_interval, margin_interval, record_stats
from superpose.explainer.simulators.ensemble import standardized_mean


def false_explanations(index: int, n: int = 3, seed: int = 0) -> list[str]:
    """The puzzle's near misses, then ``n`` other puzzles' explanations (fixed by the seed and
    the puzzle's index; none that is already a near miss)."""
    rng = np.random.default_rng(seed + index)
    near = list(PUZZLES[index].near_misses)
    others = [p.explanation for j, p in enumerate(PUZZLES) if j != index and p.explanation not in near]
    return near + [others[k] for k in rng.choice(len(others), size=n, replace=False)]


def corpus_sequences(tokenizer: Any, source: str, seq_len: int, n_tokens: int
                     ) -> list[list[str]]:
    """The first ``n_tokens`` of the corpus as token texts, documents taken in turn from each
    of the source's parts (``default`` is three corpora), so that every part is represented."""
    from itertools import zip_longest

    from superpose.activations.collect import cut_sequences
    from superpose.corpus.sources import DEFAULT_SOURCES, iter_documents

    parts = DEFAULT_SOURCES if source == "default" else (source,)
    turns = zip_longest(*(iter_documents(p) for p in parts))
    ids = cut_sequences(tokenizer, (d for turn in turns for d in turn if d is not None),
                        seq_len, n_tokens)
    table = {int(i): tokenizer.decode([int(i)]) for i in np.unique(ids)}
    return [[table[int(i)] for i in row] for row in ids]


def puzzle_records(puzzle: Puzzle, sequences: list[list[str]], n_top: int, n_random: int,
                   seed: int) -> NeuronRecords:
    """Top sequences by number of hits (ties: corpus order) and random others."""
    acts = [puzzle.activations(s) for s in sequences]
    strength = np.array([a.sum() for a in acts])
    order = [int(i) for i in np.argsort(-strength, kind="stable")[:n_top] if strength[i] > 0]
    rng = np.random.default_rng(seed)
    taken = set(order)
    rest = np.array([i for i in range(len(sequences)) if i not in taken])
    rand = sorted(int(i) for i in rng.choice(rest, size=min(n_random, len(rest)), replace=False))
    top = [ActivationRecord(sequences[i], acts[i], i, "top") for i in order]
    random = [ActivationRecord(sequences[i], acts[i], i, "random") for i in rand]
    return NeuronRecords("synthetic", 0, 0, top, random)


def run(args: argparse.Namespace) -> dict:
    import torch

    from superpose.core.provenance import versions
    from superpose.explainer.local_models import load_local_model

    torch.set_num_threads(args.threads)
    puzzles = [p for p in PUZZLES if not args.puzzles or p.name in args.puzzles]
    subject = load_local_model(args.subject)
    sequences = corpus_sequences(subject.tokenizer, args.corpus_source, args.seq_len,
                                 args.corpus_tokens)
    records = {p.name: puzzle_records(p, sequences, args.top, args.random, seed=args.seed + k)
               for k, p in enumerate(PUZZLES) if p in puzzles}
    index = {p.name: k for k, p in enumerate(PUZZLES)}
    out = Path(args.out)
    results: dict[str, Any] = {
        "parameters": {k: v for k, v in vars(args).items() if k not in ("out", "merge")},
        "split": SPLIT, "score": "Pearson correlation pooled over all held-out tokens",
        "clean_win": "true correlation > 0 and bootstrap 95% interval of its margin over the "
                     "best false explanation above zero",
        "baseline_explanation": args.baseline, "versions": versions(),
        "per_puzzle": [], "runs": []}
    embed = build_simulator("embedding") if args.ensemble else None
    print(f"{len(puzzles)} puzzles, {sum(p.context_dependent for p in puzzles)} context-dependent",
          flush=True)
    for name in args.simulators if not args.judges_only else []:
        sim = build_simulator(name, args.server)
        start, cpu = time.monotonic(), time.process_time()
        for p in puzzles:
            recs = records[p.name]
            holdout = recs.split().holdout
            seqs, true = [r.tokens for r in holdout], [r.activations for r in holdout]
            texts = [p.explanation, *false_explanations(index[p.name], args.n_false, args.seed)]
            preds = [sim.simulate(t, seqs) for t in texts]
            variants = {sim.name: preds}
            if args.contrast:
                neutral = sim.simulate(args.baseline, seqs)
                variants[f"{sim.name} contrast"] = [
                    [a - b for a, b in zip(pr, neutral, strict=True)] for pr in preds]
            if hasattr(sim, "components"):  # each signal of a combined simulator on its own
                parts = [sim.components(t, seqs) for t in texts]
                for part in parts[0]:
                    variants[f"{sim.name} [{part} only]"] = [pt[part] for pt in parts]
            if embed is not None and name not in JUDGE_FREE:  # the ensemble simulator's rule
                variants[f"{sim.name} + {embed.name}"] = [
                    standardized_mean([pr, embed.simulate(t, seqs)]) for pr, t in zip(preds, texts, strict=True)]
            for label, values in variants.items():
                row = {"simulator": label, "puzzle": p.name, "kind": p.kind,
                       "context_dependent": p.context_dependent,
                       **margin_interval(record_stats(true, values), args.bootstrap,
                                         args.seed + index[p.name]),
                       "explanation": p.explanation, "false_explanations": texts[1:],
                       "n_near_misses": len(p.near_misses),
                       "n_holdout_top": sum(r.kind == "top" for r in holdout),
                       "n_holdout_random": sum(r.kind != "top" for r in holdout),
                       "n_holdout_tokens": int(sum(len(s) for s in seqs)),
                       "n_holdout_active_tokens": int(sum(a.sum() for a in true))}
                results["per_puzzle"].append(row)
                print(f"{label:32s} {p.name:15s} r={_fmt(row['true_correlation'])} "
                      f"false={_fmt(row['best_false_correlation'])} "
                      f"CI=[{_fmt(row['margin_ci_low'])}, {_fmt(row['margin_ci_high'])}] "
                      f"{'WIN' if row['clean_win'] else ''}", flush=True)
            results["runs"] = [r for r in results["runs"] if r["model"] != sim.name] + [{
                "model": sim.name, "method": sim.method,
                "puzzles": sum(1 for r in results["per_puzzle"] if r["simulator"] == sim.name),
                "wall_seconds": round(time.monotonic() - start, 1),
                "cpu_seconds": round(time.process_time() - cpu, 1)}]
            save(results, out)  # after every puzzle, so a stopped run keeps what it did
        del sim
    for spec in args.judges:  # detection / fuzzing
        run_judge(spec, args, puzzles, records, index, results, out)
    return results


def run_judge(spec: str, args: argparse.Namespace, puzzles: list[Puzzle], records: dict,
              index: dict[str, int], results: dict, out: Path) -> None:
    """Detection or fuzzing (``TASK:MODEL``, a local judge model): the judge's P(yes) on the
    scorer's examples for every candidate explanation; clean win by :func:`auc_margin_interval`."""
    from superpose.explainer.clients import Backend
    from superpose.explainer.scorers.classifier import (
        TASKS,
        ClassifierParams,
        Cost,
        detection_examples,
        fuzzing_examples,
        judge_probabilities,
        make_judge,
    )

    task_name, model = spec.split(":", 1)
    task = TASKS[task_name]
    make = detection_examples if task_name == "detection" else fuzzing_examples
    params = ClassifierParams(n_activating=args.judge_activating, n_non_activating=args.judge_activating,
                              window=0, seed=args.seed)
    judge = make_judge(Backend(model=model))
    label = f"{task_name} ({judge.name})"
    start, cpu, prompts = time.monotonic(), time.process_time(), 0
    for p in puzzles:
        examples = make(records[p.name], params)
        texts = [p.explanation, *false_explanations(index[p.name], args.n_false, args.seed)]
        probs = []
        for text in texts:
            cost = Cost()
            probs.append(judge_probabilities(task, text, examples, judge, params, cost))
            prompts += cost.prompts
        truth = [e.truth for e in examples]
        stats = auc_margin_interval(truth, probs, args.bootstrap, args.seed + index[p.name]) if examples \
            else {"true_auc": None, "best_false_auc": None, "margin": None, "margin_ci_low": None,
                  "margin_ci_high": None, "clean_win": False}
        results["per_puzzle"].append({
            "simulator": label, "puzzle": p.name, "kind": p.kind,
            "context_dependent": p.context_dependent, "score": "AUC of the judge's P(yes)", **stats,
            "explanation": p.explanation, "false_explanations": texts[1:],
            "n_near_misses": len(p.near_misses), "n_examples_true": int(sum(truth)),
            "n_examples_false": len(truth) - int(sum(truth))})
        print(f"{label:32s} {p.name:15s} auc={_fmt(stats['true_auc'])} false={_fmt(stats['best_false_auc'])} "
              f"CI=[{_fmt(stats['margin_ci_low'])}, {_fmt(stats['margin_ci_high'])}] "
              f"{'WIN' if stats['clean_win'] else ''}", flush=True)
        results["runs"] = [r for r in results["runs"] if r["model"] != label] + [{
            "model": label, "method": judge.method + f"; {params}",
            "puzzles": sum(1 for r in results["per_puzzle"] if r["simulator"] == label),
            "prompts": prompts, "wall_seconds": round(time.monotonic() - start, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1)}]
        save(results, out)


JUDGE_FREE = ("embedding", "contextual-embedding")


def build_simulator(name: str, server: str | None = None) -> Any:
    """``embedding`` or ``contextual-embedding`` (MiniLM, no language model), ``server:MODEL``
    (the all-at-once method from the prompt logprobs of the OpenAI-compatible server at
    ``server``), else the all-at-once
    simulator on the local model ``name``."""
    from superpose.explainer.clients import Backend
    from superpose.explainer.simulators import SimulatorContext, make_simulator

    if name in JUDGE_FREE:
        return make_simulator(name, SimulatorContext(Backend()))
    if name.startswith("server:"):
        if not server:
            raise SystemExit(f"{name} needs --server URL (an OpenAI-compatible /v1 endpoint)")
        backend = Backend(kind="openai", model=name.split(":", 1)[1], base_url=server, concurrency=1,
                          timeout=600.0)
        return make_simulator("prompt-logprobs", SimulatorContext(backend))
    return make_simulator("all-at-once", SimulatorContext(Backend(model=name)))


def merge(parts: list[dict]) -> dict:
    """One result from runs that differ only in their simulators or in which puzzles they ran
    (a simulator's puzzles split over several processes); a puzzle run twice by one simulator
    is refused."""
    keep = ("simulators", "out", "merge", "server", "puzzles", "ensemble", "contrast", "judges",
            "judges_only", "judge_activating")
    first = {k: v for k, v in parts[0]["parameters"].items() if k not in keep}
    for part in parts[1:]:
        other = {k: v for k, v in part["parameters"].items() if k not in keep}
        if other != first:
            raise SystemExit("cannot merge runs with different settings: "
                             f"{sorted(k for k in first if first[k] != other.get(k))}")
    rows = [row for p in parts for row in p["per_puzzle"]]
    seen = [(r["simulator"], r["puzzle"]) for r in rows]
    if len(seen) != len(set(seen)):
        raise SystemExit("cannot merge: a simulator ran the same puzzle in two of the runs")
    runs: dict[str, dict] = {}
    for run_ in (r for p in parts for r in p["runs"]):
        if run_["model"] in runs:  # one simulator's puzzles in several processes: add them up
            done = runs[run_["model"]]
            for key in ("puzzles", "wall_seconds", "cpu_seconds"):
                done[key] = round(done[key] + run_[key], 1)
            done["processes"] = done.get("processes", 1) + 1
        else:
            runs[run_["model"]] = dict(run_)
    merged = dict(parts[0])
    simulators = [s for p in parts if not p["parameters"].get("judges_only")
                  for s in p["parameters"]["simulators"]]
    judges = [j for p in parts for j in p["parameters"].get("judges", [])]
    merged["parameters"] = dict(parts[0]["parameters"], simulators=list(dict.fromkeys(simulators)),
                                judges=list(dict.fromkeys(judges)), judges_only=False, puzzles=[])
    merged["per_puzzle"] = rows
    merged["runs"] = list(runs.values())
    return merged


def save(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    from superpose.core.fileio import write_json_atomic

    write_json_atomic(out.with_suffix(".json"), results)
    out.with_suffix(".md").write_text(markdown(results), encoding="utf-8")


def _fmt(value: float | None) -> str:
    return "undef" if value is None else f"{value:+.3f}"


def _low(value: float | None) -> str:
    """An interval's low end; None there means some resamples had no defined correlation
    for the true explanation (counted as -inf)."""
    return "-inf" if value is None else f"{value:+.3f}"


def summary(results: dict, keep: Any = lambda row: True) -> list[tuple[str, int, int]]:
    """(simulator, clean wins, puzzles) per simulator label, in order of appearance, over the
    rows ``keep`` accepts."""
    out: dict[str, list[int]] = {}
    for row in results["per_puzzle"]:
        tally = out.setdefault(row["simulator"], [0, 0])
        if keep(row):
            tally[0] += int(row["clean_win"])
            tally[1] += 1
    return [(k, v[0], v[1]) for k, v in out.items()]


def _share(wins: int, n: int) -> str:
    return f"{wins}/{n} ({100 * wins / n:.0f}%)" if n else "-"


def kinds_of(results: dict) -> list[str]:
    """Kinds in the order the puzzles list them."""
    return list(dict.fromkeys(row["kind"] for row in results["per_puzzle"]))


def markdown(results: dict) -> str:
    p = results["parameters"]
    lines = [
        "# Puzzle benchmark", "",
        f"Synthetic neurons with known rules (`superpose/explainer/puzzles.py`), each scored against "
        f"its near misses (at least two: the true explanation without its condition, a broader or "
        f"narrower class) and {p['n_false']} other puzzles' explanations. **Context-dependent**: "
        "whether a token fires depends on its neighbours, the markup around it or its position, "
        "not on the token alone. Held-out records: "
        f"the library's split of {p['top']} top and {p['random']} random records, top:random "
        "1:1. Score: correlation pooled over held-out tokens. **Clean win**: true correlation "
        "> 0 and the bootstrap 95% interval of its margin over the best false explanation "
        f"({p['bootstrap']} resamples of records, seed {p['seed']}) above zero. `contrast` "
        f"rows subtract the prediction for the neutral explanation {results['baseline_explanation']!r} "
        "(a variant, not OpenAI's method); `+ embedding` rows average a language model's "
        "standardised predictions with the embedding simulator's (the `ensemble` simulator, also a "
        "variant); `[... only]` rows are one signal of a combined simulator on its own. "
        "`detection`/`fuzzing` rows are the judge scorers (Paulo et al. 2024; "
        "`superpose/explainer/scorers/classifier.py`) on the same records and candidates: the score is the "
        "AUC of the judge's P(yes) on true against false examples, a clean win needs a true AUC "
        "above 0.5 and the bootstrap interval (examples resampled) of its margin over the best false "
        "explanation above zero.", "",
        "| simulator | clean wins, all | context-dependent | context-free |", "|---|---|---|---|"]
    context = summary(results, lambda r: r.get("context_dependent", False))
    free = summary(results, lambda r: not r.get("context_dependent", False))
    for (name, wins, n), (_, cw, cn), (_, fw, fn) in zip(summary(results), context, free, strict=True):
        lines.append(f"| {name} | {_share(wins, n)} | {_share(cw, cn)} | {_share(fw, fn)} |")
    kinds = kinds_of(results)
    lines += ["", "Clean wins per kind:", "",
              "| simulator | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    per_kind = [summary(results, lambda r, k=k: r["kind"] == k) for k in kinds]
    for i, (name, _, _) in enumerate(summary(results)):
        lines.append(f"| {name} | " + " | ".join(f"{col[i][1]}/{col[i][2]}" for col in per_kind)
                     + " |")
    lines += ["", "| model | puzzles | wall s | CPU s |", "|---|---|---|---|"]
    for r in results["runs"]:
        split = f" (summed over {r['processes']} processes)" if r.get("processes") else ""
        lines.append(f"| {r['model']} | {r['puzzles']} | {r['wall_seconds']:.0f}{split} | "
                     f"{r['cpu_seconds']:.0f} |")
    n_puzzles = len(p["puzzles"]) or len(PUZZLES)
    for r in results["runs"]:
        if r["puzzles"] < n_puzzles:
            lines.append(f"\n**{r['model']} ran {r['puzzles']} of {n_puzzles} puzzles** (a subset, "
                         "or stopped before the end; its shares are over the puzzles it ran).")
    lines += ["", f"Corpus `{p['corpus_source']}` (documents taken in turn from each of its "
              f"sources), the first {p['corpus_tokens']} tokens in sequences of {p['seq_len']} "
              f"tokens ({p['subject']} tokenizer); {p['threads']} torch thread(s) on a shared "
              "2-core machine (wall times are pessimistic).", "",
              "## Per puzzle", "",
              "| simulator | puzzle | kind | context | true r (judges: AUC) | best false | margin | "
              "95% interval | clean win |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results["per_puzzle"]:
        lines.append(f"| {r['simulator']} | {r['puzzle']} | {r['kind']} | "
                     f"{'yes' if r.get('context_dependent') else 'no'} | "
                     f"{_fmt(r.get('true_correlation', r.get('true_auc')))} | "
                     f"{_fmt(r.get('best_false_correlation', r.get('best_false_auc')))} | "
                     f"{_fmt(r['margin'])} | [{_low(r['margin_ci_low'])}, "
                     f"{_fmt(r['margin_ci_high'])}] | {'yes' if r['clean_win'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--simulators", nargs="+", default=["embedding", "qwen2.5-coder-0.5b",
                                                            "smollm2-135m"],
                        help="'embedding' or 'contextual-embedding' (MiniLM), server:MODEL (see --server) or "
                             "local models simulating all at once")
    parser.add_argument("--server", default=None, metavar="URL",
                        help="OpenAI-compatible endpoint (e.g. http://127.0.0.1:8080/v1) for "
                             "simulators named server:MODEL (needs OPENAI_API_KEY, any value locally)")
    parser.add_argument("--ensemble", action="store_true",
                        help="also score each language-model simulator averaged with the embedding "
                             "simulator (the `ensemble` simulator's rule), as the variant 'NAME + embedding'")
    parser.add_argument("--judges", nargs="*", default=[], metavar="TASK:MODEL",
                        help="detection:MODEL and/or fuzzing:MODEL (a local judge model, e.g. "
                             "detection:smollm2-135m): the judge scorers, scored by AUC")
    parser.add_argument("--judges-only", action="store_true", help="run no simulator, only --judges")
    parser.add_argument("--judge-activating", type=int, default=10,
                        help="activating (and, for detection, non-activating) examples per puzzle")
    parser.add_argument("--subject", default="smollm2-135m",
                        help="model whose tokenizer cuts the corpus into record tokens")
    parser.add_argument("--corpus-source", default="default")
    parser.add_argument("--corpus-tokens", type=int, default=1_000_000)
    parser.add_argument("--seq-len", type=int, default=24)
    parser.add_argument("--top", type=int, default=40, help="top records per puzzle")
    parser.add_argument("--random", type=int, default=40, help="random records per puzzle")
    parser.add_argument("--n-false", type=int, default=3, help="false explanations per puzzle")
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", default="no particular pattern",
                        help="neutral explanation of the contrast variant")
    parser.add_argument("--no-contrast", dest="contrast", action="store_false",
                        help="skip the contrast variant (one simulation per puzzle fewer)")
    parser.add_argument("--puzzles", nargs="*", default=[], help="names (default: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="results/bench_puzzles")
    parser.add_argument("--merge", nargs="+", metavar="JSON", default=[],
                        help="only combine result files of runs with the same settings (e.g. "
                             "one simulator each) into --out")
    args = parser.parse_args(argv)
    if args.merge:
        merged = merge([json.loads(Path(p).read_text(encoding="utf-8")) for p in args.merge])
        save(merged, Path(args.out))
        print(markdown(merged))
        return 0
    bad = [j for j in args.judges if j.split(":", 1)[0] not in ("detection", "fuzzing") or ":" not in j]
    if bad:
        parser.error(f"--judges takes detection:MODEL or fuzzing:MODEL, not {', '.join(bad)}")
    unknown = set(args.puzzles) - {p.name for p in PUZZLES}
    if unknown:
        parser.error(f"unknown puzzle(s): {', '.join(sorted(unknown))}")
    run(args)
    print(Path(args.out).with_suffix(".md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
