"""Puzzle benchmark: synthetic neurons with a known rule; does the true explanation score best?

Each puzzle is a rule on the corpus text's tokens (weekday names, numbers, words after "the",
...) that defines a synthetic neuron's activation. The true explanation and three false ones
(other puzzles' true explanations, so every candidate is a plausible neuron description) are
scored with the same records, simulator and scorers as real neurons. Reported: per simulator
model and scorer, the share of puzzles whose true explanation scores strictly highest.

    python scripts/bench_puzzles.py --simulators smollm2-135m qwen2.5-coder-0.5b

Writes results/bench_puzzles.json and results/bench_puzzles.md.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from superpose.llm.formats import ActivationRecord, NeuronRecords, RecordSplit

WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"}
COUNTRIES = {"france", "germany", "spain", "italy", "china", "japan", "india", "russia",
             "england", "britain", "canada", "mexico", "brazil", "egypt", "greece", "turkey",
             "poland", "sweden", "norway", "ireland", "scotland", "australia", "argentina",
             "portugal", "austria", "hungary", "iran", "iraq", "israel", "korea", "vietnam",
             "netherlands", "belgium", "denmark", "finland", "switzerland", "chile", "peru",
             "cuba", "nigeria", "kenya", "ethiopia", "pakistan", "indonesia", "america"}
COLOURS = {"red", "blue", "green", "yellow", "black", "white", "orange", "purple", "brown",
           "pink", "grey", "gray", "violet"}
ANIMALS = {"dog", "dogs", "cat", "cats", "horse", "horses", "bird", "birds", "fish", "cow",
           "cows", "sheep", "pig", "pigs", "lion", "lions", "wolf", "wolves", "bear", "bears",
           "snake", "snakes", "insect", "insects", "animal", "animals", "mammal", "mammals",
           "deer", "fox", "rabbit", "mouse", "mice", "whale", "whales", "eagle", "duck"}
PRONOUNS = {"he", "she", "they", "him", "her", "them", "his", "hers", "their", "we", "i", "you",
            "it", "its", "us", "our", "me", "my"}
FAMILY = {"mother", "father", "son", "daughter", "brother", "sister", "wife", "husband",
          "uncle", "aunt", "grandfather", "grandmother", "parents", "children", "cousin"}


def _word(token: str) -> str:
    return token.strip().lower()


def _in(words: set[str]) -> Callable[[list[str], int], float]:
    return lambda toks, i: float(_word(toks[i]) in words)


def _after_the(toks: list[str], i: int) -> float:
    return float(i > 0 and _word(toks[i - 1]) == "the" and toks[i].strip().isalpha())


def _past_tense(toks: list[str], i: int) -> float:
    w = _word(toks[i])
    nxt = toks[i + 1] if i + 1 < len(toks) else " "
    whole = not nxt[:1].isalpha()  # the word ends with this token
    return float(whole and len(w) > 4 and w.endswith("ed") and w.isalpha())


@dataclass(frozen=True)
class Puzzle:
    name: str
    explanation: str
    rule: Callable[[list[str], int], float]

    def activations(self, tokens: list[str]) -> np.ndarray:
        return np.array([self.rule(tokens, i) for i in range(len(tokens))])


PUZZLES = [
    Puzzle("weekdays", "names of the days of the week", _in(WEEKDAYS)),
    Puzzle("months", "names of months", _in(MONTHS)),
    Puzzle("digits", "numbers written with digits",
           lambda t, i: float(bool(re.fullmatch(r"\s*\d+", t[i])))),
    Puzzle("after-the", "the word right after \"the\"", _after_the),
    Puzzle("countries", "names of countries", _in(COUNTRIES)),
    Puzzle("past-tense", "past-tense verbs ending in -ed", _past_tense),
    Puzzle("close-bracket", "closing brackets and parentheses",
           lambda t, i: float(")" in t[i] or "]" in t[i])),
    Puzzle("colours", "colour words", _in(COLOURS)),
    Puzzle("commas", "commas", lambda t, i: float("," in t[i])),
    Puzzle("and", "the word \"and\"", _in({"and"})),
    Puzzle("pronouns", "personal pronouns such as he, she, they", _in(PRONOUNS)),
    Puzzle("animals", "names of animals", _in(ANIMALS)),
    Puzzle("family", "family relations such as mother, brother, wife", _in(FAMILY)),
]


def false_explanations(index: int, n: int = 3, seed: int = 0) -> list[str]:
    """Three other puzzles' explanations, fixed by the seed."""
    rng = np.random.default_rng(seed + index)
    others = [p.explanation for j, p in enumerate(PUZZLES) if j != index]
    return [others[k] for k in rng.choice(len(others), size=n, replace=False)]


def corpus_sequences(tokenizer, source: str, seq_len: int, n_tokens: int) -> list[list[str]]:
    from superpose.corpus.sources import iter_documents
    from superpose.llm.activations import cut_sequences

    ids = cut_sequences(tokenizer, iter_documents(source), seq_len, n_tokens)
    table = {int(i): tokenizer.decode([int(i)]) for i in np.unique(ids)}
    return [[table[int(i)] for i in row] for row in ids]


def puzzle_records(puzzle: Puzzle, sequences: list[list[str]], n_top: int, n_random: int,
                   seed: int) -> NeuronRecords:
    """Top sequences by number of matches (the synthetic neuron's strength) and random ones."""
    acts = [puzzle.activations(s) for s in sequences]
    strength = np.array([a.sum() for a in acts])
    order = [int(i) for i in np.argsort(-strength, kind="stable")[:n_top] if strength[i] > 0]
    rng = np.random.default_rng(seed)
    rest = [i for i in range(len(sequences)) if i not in set(order)]
    rand = [int(i) for i in rng.choice(rest, size=n_random, replace=False)]
    top = [ActivationRecord(sequences[i], acts[i], i, "top") for i in order]
    random = [ActivationRecord(sequences[i], acts[i], i, "random") for i in rand]
    return NeuronRecords("synthetic", 0, 0, top, random)


def _split(records: NeuronRecords, calibration: bool) -> RecordSplit:
    """The usual split; without calibration records (half the cost) R^2 is undefined."""
    split = records.split()
    return split if calibration else RecordSplit(split.explain, [], split.holdout)


def _value(score) -> float | None:
    return None if score is None or score.value is None else float(score.value)


def _rank_value(value: float | None) -> float:
    """Undefined scores rank below every defined one."""
    return -np.inf if value is None else value


def run(args: argparse.Namespace) -> dict:
    import torch

    from superpose.llm.embedding import SentenceEncoder
    from superpose.llm.evaluate import score_explanation
    from superpose.llm.local_models import load_local_model
    from superpose.llm.simulate import AllAtOnceSimulator, ContrastSimulator

    torch.set_num_threads(args.threads)
    puzzles = PUZZLES[:args.puzzles]
    subject = load_local_model(args.subject)
    sequences = corpus_sequences(subject.tokenizer, args.corpus_source, args.seq_len,
                                 args.corpus_tokens)
    records = [puzzle_records(p, sequences, args.top, args.random, seed=k)
               for k, p in enumerate(puzzles)]
    encoder = SentenceEncoder()
    results: dict = {"settings": vars(args), "puzzles": [], "summary": {}}
    scorers = ("correlation", "r2", "abs_dev_explained", "embedding_auc")
    for name in args.simulators:
        lm = load_local_model(name)
        base = AllAtOnceSimulator(lm.model, lm.tokenizer, lm.name, chat=args.chat)
        label = lm.name + (" (chat)" if args.chat else "")
        # The contrast variant reuses the base simulator's remembered predictions: it costs
        # one neutral-explanation pass per sequence and puzzle.
        configs = {label: base, f"{label} contrast": ContrastSimulator(base)}
        wins = {c: dict.fromkeys(scorers, 0) for c in configs}
        start = time.monotonic()
        for k, (puzzle, recs) in enumerate(zip(puzzles, records, strict=True)):
            candidates = [puzzle.explanation, *false_explanations(k)]
            for config, sim in configs.items():
                rows = []
                for text in candidates:
                    sc = score_explanation(text, _split(recs, args.calibration), sim, encoder)
                    rows.append({"explanation": text,
                                 **{s: _value(getattr(sc, s)) for s in scorers}})
                for s in scorers:
                    values = [_rank_value(r[s]) for r in rows]
                    wins[config][s] += int(values[0] > max(values[1:]))
                results["puzzles"].append({"simulator": config, "puzzle": puzzle.name,
                                           "n_top": len(recs.top), "candidates": rows})
                print(f"{config} {puzzle.name}: " + "; ".join(
                    f"{r['explanation'][:24]} r={_fmt(r['correlation'])} "
                    f"auc={_fmt(r['embedding_auc'])}" for r in rows), flush=True)
                # Saved after every puzzle, so a long run can be stopped with its results.
                results["summary"][config] = {
                    "puzzles": k + 1, "seconds": round(time.monotonic() - start, 1),
                    **{f"true_first_{s}": wins[config][s] / (k + 1) for s in scorers}}
            save(results, Path(args.out))
        del base, configs, lm
    return results


def save(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    write_markdown(results, out.with_suffix(".md"))


def _fmt(value: float | None) -> str:
    return "undef" if value is None else f"{value:.3f}"


def write_markdown(results: dict, path: Path) -> None:
    scorers = ("correlation", "r2", "abs_dev_explained", "embedding_auc")
    lines = ["# Puzzle benchmark", "",
             "Share of synthetic neurons whose true explanation scores strictly highest among "
             "four candidates (the true one and three other puzzles' explanations). Chance: 25%.",
             "The embedding AUC does not depend on the simulator (same encoder every row); with "
             "few held-out records it often ties between candidates, and a tie is not a win.",
             "`contrast` rows subtract the prediction for a neutral explanation (a variant, not "
             "OpenAI's method). Seconds: wall time of the model's whole run so far, shared by "
             "its plain and contrast rows, on a 2-core machine that other jobs sometimes shared.",
             "",
             "| simulator | puzzles | " + " | ".join(scorers) + " | seconds |",
             "|---|---|" + "---|" * len(scorers) + "---|"]
    def cell(name: str, row: dict, scorer: str) -> str:
        defined = any(c[scorer] is not None for p in results["puzzles"]
                      if p["simulator"] == name for c in p["candidates"])
        return f"{100 * row[f'true_first_{scorer}']:.0f}%" if defined else "n/a"

    for name, row in results["summary"].items():
        lines.append(f"| {name} | {row['puzzles']} | "
                     + " | ".join(cell(name, row, s) for s in scorers)
                     + f" | {row['seconds']:.0f} |")
    s = results["settings"]
    calibration = "" if s.get("calibration", True) else " (no calibration records: R^2 undefined)"
    for run_settings in results.get("runs", [s]):
        if not run_settings.get("calibration", True):
            calibration = (f"; {', '.join(run_settings['simulators'])} ran without calibration "
                           "records to halve its cost, so its R^2 columns are n/a")
    lines += ["", f"Settings: corpus `{s['corpus_source']}`, {s['corpus_tokens']} tokens in "
              f"sequences of {s['seq_len']}; per puzzle {s['top']} top and {s['random']} random "
              "records, split into explain / calibration / held-out sets as for real neurons; "
              f"{s['threads']} torch thread(s){calibration}.", "", "## Correlation per puzzle",
              "",
              "| simulator | puzzle | true | false (max) |", "|---|---|---|---|"]
    for p in results["puzzles"]:
        true = p["candidates"][0]["correlation"]
        false = max(_rank_value(c["correlation"]) for c in p["candidates"][1:])
        lines.append(f"| {p['simulator']} | {p['puzzle']} | {_fmt(true)} | "
                     f"{_fmt(None if false == -np.inf else false)} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulators", nargs="+", default=["smollm2-135m"])
    parser.add_argument("--subject", default="smollm2-135m",
                        help="model whose tokenizer cuts the corpus into record tokens")
    parser.add_argument("--corpus-source", default="default")
    parser.add_argument("--corpus-tokens", type=int, default=1_000_000)
    parser.add_argument("--seq-len", type=int, default=24)
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--random", type=int, default=8)
    parser.add_argument("--puzzles", type=int, default=len(PUZZLES))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calibration", action=argparse.BooleanOptionalAction, default=True,
                        help="simulate the calibration records too (needed for R^2; doubles "
                             "the cost)")
    parser.add_argument("--chat", action=argparse.BooleanOptionalAction, default=False,
                        help="wrap the simulator prompt in the model's chat template")
    parser.add_argument("--out", default="results/bench_puzzles")
    parser.add_argument("--merge", nargs="+", metavar="JSON",
                        help="only combine earlier result files into --out")
    args = parser.parse_args(argv)
    if args.merge:
        parts = [json.loads(Path(p).read_text()) for p in args.merge]
        merged = {"settings": parts[0]["settings"], "runs": [p["settings"] for p in parts],
                  "summary": {k: v for p in parts for k, v in p["summary"].items()},
                  "puzzles": [row for p in parts for row in p["puzzles"]]}
        save(merged, Path(args.out))
    else:
        run(args)
    print(Path(args.out).with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
