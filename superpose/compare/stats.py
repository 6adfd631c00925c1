"""Statistics of the 2x2 comparison: paired bootstrap intervals per layer, and a plain summary.

Every interval is a percentile bootstrap over neurons (``n`` resamples, fixed seed), paired: a
difference is taken within each neuron first, so neuron-to-neuron spread cancels.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

CELLS = ("topics_input", "llm_input", "topics_output", "llm_output")
ENSEMBLE_CELLS = ("ensemble_input", "ensemble_output")  # the third source: topics and LLM text joined
SIDES = ("input", "output")


def bootstrap_mean(values: list[float], n: int, seed: int) -> tuple[float, float, float]:
    """Mean and 95% percentile-bootstrap interval of the finite values (NaN when none)."""
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n, x.size))].mean(axis=1)
    return float(x.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def _diff(rows: list[dict], a: str, b: str) -> list[float]:
    return [r[a] - r[b] for r in rows if not (math.isnan(r[a]) or math.isnan(r[b]))]


def _pearson(rows: list[dict], a: str, b: str) -> float:
    pairs = np.array([(r[a], r[b]) for r in rows if not (math.isnan(r[a]) or math.isnan(r[b]))])
    if len(pairs) < 3 or np.ptp(pairs[:, 0]) == 0 or np.ptp(pairs[:, 1]) == 0:
        return math.nan
    return float(np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1])


def _neither(rows: list[dict], side: str) -> float:
    """Share of neurons (with all four values of the side) where neither source beats its control."""
    cols = [f"{s}_{side}" for s in ("topics", "llm")]
    full = [r for r in rows if all(not math.isnan(r[c]) and not math.isnan(r[f"{c}_shuffled"]) for c in cols)]
    if not full:
        return math.nan
    return sum(all(r[c] <= r[f"{c}_shuffled"] for c in cols) for r in full) / len(full)


def ensemble_cells(table: list[dict]) -> tuple[str, ...]:
    """The ensemble source's cells when the table has them (tables written before it do not)."""
    first = table[0] if table else {}
    return tuple(c for c in ENSEMBLE_CELLS if c in first)


def extra_cells(table: list[dict]) -> tuple[str, ...]:
    """Score columns of further input-side scorers (``llm_detection``, ...): those with a
    ``_shuffled`` control beside them that are not one of the sources' input and output cells."""
    first = table[0] if table else {}
    return tuple(k for k in first if k.startswith(("topics_", "llm_", "ensemble_")) and f"{k}_shuffled" in first
                 and k not in CELLS + ENSEMBLE_CELLS)


def layer_aggregates(table: list[dict], n: int = 2000, seed: int = 0) -> list[dict]:
    """Per layer and over all: each cell's mean, real minus shuffled, topics minus LLM, with CIs."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in table:
        groups[str(row["layer"])].append(row)
        groups["all"].append(row)
    out = []
    for name in sorted(groups, key=lambda g: (g == "all", int(g) if g != "all" else 0)):
        rows = groups[name]
        agg: dict = {"layer": name, "neurons": len(rows)}
        for cell in CELLS + ensemble_cells(table) + extra_cells(table):
            agg[f"{cell}_n"] = sum(not math.isnan(r[cell]) for r in rows)
            agg[cell], agg[f"{cell}_lo"], agg[f"{cell}_hi"] = bootstrap_mean([r[cell] for r in rows], n, seed)
            key = f"{cell}_shuffled"
            agg[key], agg[f"{key}_lo"], agg[f"{key}_hi"] = bootstrap_mean([r[key] for r in rows], n, seed)
            key = f"{cell}_minus_shuffled"
            agg[key], agg[f"{key}_lo"], agg[f"{key}_hi"] = bootstrap_mean(_diff(rows, cell, f"{cell}_shuffled"),
                                                                          n, seed)
            agg[f"{cell}_beats_shuffled"] = _share(rows, cell, f"{cell}_shuffled")
        for side in SIDES:
            key = f"topics_minus_llm_{side}"
            agg[key], agg[f"{key}_lo"], agg[f"{key}_hi"] = bootstrap_mean(
                _diff(rows, f"topics_{side}", f"llm_{side}"), n, seed)
            agg[f"topics_beat_llm_{side}"] = _share(rows, f"topics_{side}", f"llm_{side}")
            agg[f"neither_beats_shuffled_{side}"] = _neither(rows, side)
            if f"ensemble_{side}" in ensemble_cells(table):
                key = f"ensemble_minus_llm_{side}"
                agg[key], agg[f"{key}_lo"], agg[f"{key}_hi"] = bootstrap_mean(
                    _diff(rows, f"ensemble_{side}", f"llm_{side}"), n, seed)
        for side in SIDES:
            agg[f"pearson_topics_llm_{side}"] = _pearson(rows, f"topics_{side}", f"llm_{side}")
            agg[f"pearson_topics_llm_{side}_minus_shuffled"] = _pearson(
                [{"t": r[f"topics_{side}"] - r[f"topics_{side}_shuffled"],
                  "l": r[f"llm_{side}"] - r[f"llm_{side}_shuffled"]} for r in rows], "t", "l")
        out.append(agg)
    return out


def _share(rows: list[dict], a: str, b: str) -> float:
    d = _diff(rows, a, b)
    return sum(x > 0 for x in d) / len(d) if d else math.nan


def _ci(agg: dict, key: str) -> str:
    mean, lo, hi = agg[key], agg[f"{key}_lo"], agg[f"{key}_hi"]
    if math.isnan(mean):
        return "n/a"
    return f"{mean:+.3f} [{lo:+.3f}, {hi:+.3f}]" if not math.isnan(lo) else f"{mean:+.3f}"


def _verdict(agg: dict, key: str) -> str:
    lo, hi = agg[f"{key}_lo"], agg[f"{key}_hi"]
    if math.isnan(lo):
        return "cannot tell"
    return "above zero" if lo > 0 else "below zero" if hi < 0 else "includes zero"


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.0f}%"


def summary_markdown(table: list[dict], layers: list[dict], title: str) -> str:
    """The 2x2, per-layer differences with intervals, and what they say in plain words."""
    total = layers[-1]
    lines = [f"# Topics versus LLM explanations, input and output side: {title}", "",
             "Input side: pooled correlation of simulated with true activations on held-out records. "
             "Output side: steering AUC, how well the text's words predict what clamping the unit changes "
             "in the next-token distribution, against other neurons' texts as distractors (0.5 = chance). "
             "Shuffled: the same scorer given another neuron's text (the next neuron of the same layer). "
             "Intervals: 95% paired bootstrap over neurons.", "",
             f"## The 2x2 over all {total['neurons']} neurons", "",
             "| | input side (simulation) | output side (steering) |", "|---|---|---|"]
    three = len(ensemble_cells(table)) == len(SIDES)
    sources = (("topics", "topics"), ("llm", "LLM explanation"),
               *((("ensemble", "ensemble (LLM explanation; topics)"),) if three else ()))
    for source, label in sources:
        lines.append(f"| {label} | " + " | ".join(_ci(total, f"{source}_{side}") for side in SIDES) + " |")
        lines.append(f"| {label}, shuffled control | " + " | ".join(
            _ci(total, f"{source}_{side}_shuffled") for side in SIDES) + " |")
        lines.append(f"| {label} minus shuffled | " + " | ".join(
            _ci(total, f"{source}_{side}_minus_shuffled") for side in SIDES) + " |")
    lines.append("| topics minus LLM | " + " | ".join(_ci(total, f"topics_minus_llm_{side}") for side in SIDES) + " |")
    if three:
        lines.append("| ensemble minus LLM | " + " | ".join(_ci(total, f"ensemble_minus_llm_{side}")
                                                          for side in SIDES) + " |")
    lines += ["", "## What the data shows", ""]
    for source, label in (("topics", "Topics"), ("llm", "LLM explanations"),
                          *((("ensemble", "Ensemble texts"),) if three else ())):
        for side in SIDES:
            key = f"{source}_{side}_minus_shuffled"
            lines.append(f"- {label}, {side} side: real minus shuffled {_ci(total, key)}, interval "
                         f"{_verdict(total, key)}; the real text beats its control for "
                         f"{_pct(total[f'{source}_{side}_beats_shuffled'])} of neurons.")
    for side in SIDES:
        key = f"topics_minus_llm_{side}"
        v = _verdict(total, key)
        who = {"above zero": "topics score higher", "below zero": "LLM explanations score higher",
               "includes zero": "no clear winner", "cannot tell": "no clear winner"}[v]
        wins = [a["layer"] for a in layers[:-1] if _verdict(a, key) == "above zero"]
        losses = [a["layer"] for a in layers[:-1] if _verdict(a, key) == "below zero"]
        lines.append(f"- {side.capitalize()} side, topics minus LLM {_ci(total, key)}: {who} "
                     f"(topics higher for {_pct(total[f'topics_beat_llm_{side}'])} of neurons); layers where "
                     f"topics win with the interval above zero: {', '.join(wins) or 'none'}; where the LLM "
                     f"wins: {', '.join(losses) or 'none'}.")
        lines.append(f"- {side.capitalize()} side: neither source beats its shuffled control for "
                     f"{_pct(total[f'neither_beats_shuffled_{side}'])} of neurons.")
    lines.append(f"- Topic and LLM scores of a neuron correlate {total['pearson_topics_llm_input']:.3f} on the "
                 f"input side and {total['pearson_topics_llm_output']:.3f} on the output side (Pearson over "
                 "neurons); a high value would mean the score follows the neuron, not the text. Their margins "
                 f"over the shuffled controls correlate {total['pearson_topics_llm_input_minus_shuffled']:.3f} (input) "
                 f"and {total['pearson_topics_llm_output_minus_shuffled']:.3f} (output).")
    more = extra_cells(table)
    if more:
        lines += ["", "## Further input-side scores (detection and fuzzing: balanced accuracy, 0.5 = chance; "
                  "_auc: AUC of the judge's P(yes))", "", "| score | real | shuffled | real minus shuffled |",
                  "|---|---|---|---|"]
        lines += [f"| {cell} | {_ci(total, cell)} | {_ci(total, cell + '_shuffled')} | "
                  f"{_ci(total, cell + '_minus_shuffled')} |" for cell in more]
    lines += ["", "## Per layer (mean, 95% interval)", "",
              "| layer | neurons | topics in | LLM in | topics out | LLM out | topics-LLM in | topics-LLM out |",
              "|---|---|---|---|---|---|---|---|"]
    for a in layers:
        lines.append(f"| {a['layer']} | {a['neurons']} | " + " | ".join(
            _ci(a, k) for k in (*CELLS, "topics_minus_llm_input", "topics_minus_llm_output")) + " |")
    missing = [r for r in table if r["missing"]]
    if missing:
        lines += ["", f"{len(missing)} neuron(s) lack an input: "
                  + ", ".join(f"{r['layer']}/{r['neuron']} ({r['missing']})" for r in missing)]
    return "\n".join(lines) + "\n"

