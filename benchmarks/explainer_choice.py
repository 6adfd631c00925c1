"""The explainer default, from the measurements: real neurons (two comparisons) and the puzzles.

    python benchmarks/explainer_choice.py --compare top-tokens=results/compare/compare.csv \\
        smollm2-135m=work/cmp/smol/compare.csv --puzzles results/bench_explainer_puzzles.json \\
        results/bench_explainer_puzzles_qwen.json --out results/explainer_choice

Real neurons: for each explainer's `superpose compare` table, the neurons that every table has
(same records, same topics, same shuffle partners when whole layers are compared), its
explanation's margin over the shuffled control on the input side (embedding simulator) and on
the output side (steering AUC), each explainer's margin minus the first one's and its input-side
score minus the first one's (same records; no control), all with
95% paired bootstrap intervals over neurons (2000 resamples, seed 0). Puzzles: the share of
puzzles whose written explanation reaches the true one's interval
(benchmarks/bench_explainer_puzzles.py), per explainer, over the puzzles each ran.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path


def _table(path: str) -> dict[tuple[int, int], dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return {(int(r["layer"]), int(r["neuron"])): r for r in csv.DictReader(fh)}


def _num(value: str) -> float:
    return float(value) if value not in ("", None) else math.nan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", nargs="+", required=True, metavar="NAME=CSV")
    parser.add_argument("--puzzles", nargs="*", default=[], metavar="JSON")
    parser.add_argument("--out", default="results/explainer_choice")
    args = parser.parse_args()

    from superpose.compare.stats import bootstrap_mean
    from superpose.config import CompareParams
    from superpose.core.fileio import write_json_atomic, write_text_atomic

    n, seed = CompareParams.bootstrap, CompareParams.seed
    tables = {}
    for item in args.compare:
        name, _, path = item.partition("=")
        if not path or not Path(path).is_file():
            raise SystemExit(f"--compare {item!r}: give NAME=PATH of an existing compare.csv")
        tables[name] = _table(path)
    names = list(tables)
    common = sorted(set.intersection(*(set(t) for t in tables.values())))
    real: dict = {"neurons": len(common), "layers": sorted({k[0] for k in common}), "explainers": {}}
    margins: dict[str, dict[str, list[float]]] = {}
    for name in names:
        rows = [tables[name][k] for k in common]
        entry = {}
        margins[name] = {}
        for side in ("input", "output"):
            diffs = [_num(r[f"llm_{side}"]) - _num(r[f"llm_{side}_shuffled"]) for r in rows]
            margins[name][side] = diffs
            mean, lo, hi = bootstrap_mean(diffs, n, seed)
            entry[f"{side}_minus_shuffled"] = {"mean": mean, "low": lo, "high": hi,
                                               "n": sum(not math.isnan(d) for d in diffs)}
        if name != names[0]:
            for side in ("input", "output"):
                paired = [a - b for a, b in zip(margins[name][side], margins[names[0]][side], strict=True)
                          if not (math.isnan(a) or math.isnan(b))]
                mean, lo, hi = bootstrap_mean(paired, n, seed)
                entry[f"{side}_margin_minus_{names[0]}"] = {"mean": mean, "low": lo, "high": hi, "n": len(paired)}
                raw = [_num(tables[name][k][f"llm_{side}"]) - _num(tables[names[0]][k][f"llm_{side}"])
                       for k in common]
                mean, lo, hi = bootstrap_mean(raw, n, seed)  # the texts' own scores, same records, no control
                entry[f"{side}_real_minus_{names[0]}"] = {"mean": mean, "low": lo, "high": hi,
                                                         "n": sum(not math.isnan(d) for d in raw)}
        entry["examples"] = [tables[name][k]["llm_explanation"] for k in common[:3]]
        real["explainers"][name] = entry
    puzzles = {}
    for path in args.puzzles:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for run in data["runs"]:
            rows = [r for r in data["per_puzzle"] if r["explainer"] == run["explainer"]]
            puzzles[run["explainer"]] = {"within": sum(r["within"] for r in rows), "puzzles": len(rows),
                                         "names": [r["puzzle"] for r in rows], "seconds": run["seconds"],
                                         "file": path}
    result = {"real_neurons": real, "puzzles": puzzles, "bootstrap": n, "seed": seed}
    out = Path(args.out)
    write_json_atomic(out.with_suffix(".json"), result)

    def ci(d: dict) -> str:
        return "n/a" if math.isnan(d["mean"]) else f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"

    lines = ["# The explainer default, measured", "",
             f"Real neurons: {real['neurons']} SmolLM2 neurons every table has (layers "
             f"{', '.join(map(str, real['layers']))}); margin over the shuffled control, 95% paired bootstrap.", "",
             "| explainer | input side minus shuffled | output side minus shuffled | input margin minus "
             f"{names[0]}'s | output margin minus {names[0]}'s | input score minus {names[0]}'s |",
             "|---|---|---|---|---|---|"]
    for name, e in real["explainers"].items():
        extra = [ci(e[key]) if key in e else "" for key in (f"input_margin_minus_{names[0]}",
                                                            f"output_margin_minus_{names[0]}",
                                                            f"input_real_minus_{names[0]}")]
        lines.append(f"| {name} | {ci(e['input_minus_shuffled'])} | {ci(e['output_minus_shuffled'])} | "
                     f"{extra[0]} | {extra[1]} | {extra[2]} |")
    if puzzles:
        lines += ["", "Puzzles: written explanation within the true one's 95% interval.", "",
                  "| explainer | within | puzzles | seconds |", "|---|---|---|---|"]
        lines += [f"| {k} | {v['within']} | {v['puzzles']} | {v['seconds']} |" for k, v in puzzles.items()]
    write_text_atomic(out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
