"""What the example window changes for a judge that reads the explanation literally.

    python benchmarks/judge_window_check.py --records DIR/smollm2-135m --layer 15 --units 100 \\
        --windows 12,16,32

A check of the detection and fuzzing scorers that needs no language model: for each unit (the
first live neurons, explained by their top tokens as in ``bench_judge_cost.py``), the examples the
scorers draw are judged by a literal reader, which says yes to a detection example holding one of
the explanation's tokens and to a fuzzing example whose every marked run holds one. Its AUC with
the unit's own explanation against the next unit's (shuffled), per window: a window that cuts the
context a judge needs shows as a smaller margin; the rank correlation (Spearman) of per-unit
scores between windows says how much the window reorders units. Writes
results/judge_window_check.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace

import numpy as np
from bench_judge_cost import _margin, _spearman
from harness import machine, parser, write_result

from superpose.explainer.scorers.classifier import LEFT, RIGHT, Judge, Verdict


class LiteralJudge(Judge):
    """Yes (1.0) when the example holds one of the explanation's tokens (fuzzing: every marked
    run holds one), else no (0.0); the explanation is ``tokens such as a, b, c``."""

    name = "literal"
    method = "literal reader of 'tokens such as ...' explanations (no model)"

    def _answer(self, messages, n):  # noqa: ANN001, ANN202 - Judge's signature
        user = messages[-1]["content"]
        listed = user.split("\n")[0].removeprefix("Explanation: ").removeprefix("tokens such as ")
        words = {w.strip() for w in listed.split(", ") if w.strip()}
        out = []
        for text in re.findall(r"^Example \d+: (.*)$", user, flags=re.M):
            runs = re.findall(re.escape(LEFT) + "(.*?)" + re.escape(RIGHT), text)
            pieces = runs if runs else [text]
            hit = [bool(words & set(re.findall(r"\w+|[^\w\s]", p))) for p in pieces]
            out.append(1.0 if (all(hit) if runs else any(hit)) else 0.0)
        return Verdict(out, prompt_tokens=0)


def _diff(pair: tuple) -> float | None:
    """True minus shuffled AUC of one unit, None when either is undefined."""
    a, b = pair
    return a - b if isinstance(a, int | float) and isinstance(b, int | float) else None


def main() -> int:
    ap = parser(__doc__, "results/judge_window_check.json")
    ap.add_argument("--records", required=True, help="records folder (DIR/MODEL)")
    ap.add_argument("--layer", type=int, default=15)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--windows", default="12,16,32", help="windows compared, comma-separated")
    args = ap.parse_args()
    facts = machine()

    from superpose.activations.formats import RecordStore
    from superpose.config import ClassifierParams
    from superpose.explainer.scorers.classifier import detection_score, fuzzing_score

    windows = [int(w) for w in args.windows.split(",")]
    store = RecordStore(args.records)
    units = []
    for neuron in range(store.meta["n_neurons"]):
        if len(units) == args.units:
            break
        records = store.neuron(args.layer, neuron)
        if records.top and records.stats["max"] > 0:
            peaks = [r.tokens[int(np.argmax(r.activations))].strip() for r in records.top[:10]]
            units.append((neuron, records, "tokens such as " + ", ".join(dict.fromkeys(peaks))))
    judge, base = LiteralJudge(), ClassifierParams()
    scores: dict = {w: {"detection": [], "fuzzing": []} for w in windows}
    for i, (_, records, text) in enumerate(units):
        shuffled = units[(i + 1) % len(units)][2]
        for w in windows:
            params = replace(base, window=w)
            for name, fn in (("detection", detection_score), ("fuzzing", fuzzing_score)):
                scores[w][name].append((fn(text, records, judge, params).details.get("auc"),
                                        fn(shuffled, records, judge, params).details.get("auc")))
    summary: dict = {}
    for w in windows:
        summary[f"window_{w}"] = {name: _margin([a for a, _ in pairs], [b for _, b in pairs], 2000, 0)
                                  for name, pairs in scores[w].items()}
    ref = windows[-1]
    for w in windows[:-1]:
        summary[f"spearman_window_{w}_with_{ref}"] = {
            name: _spearman([a for a, _ in scores[w][name]], [a for a, _ in scores[ref][name]])
            for name in ("detection", "fuzzing")}
        summary[f"margin_window_{w}_minus_{ref}"] = {  # paired over units
            name: _margin([_diff(p) for p in scores[w][name]], [_diff(p) for p in scores[ref][name]], 2000, 0)
            for name in ("detection", "fuzzing")}
    result = {"settings": vars(args), "judge_params": asdict(base), "judge_method": judge.method,
              "units": [n for n, _, _ in units], "summary": summary,
              "per_unit_auc": {str(w): scores[w] for w in windows}}
    write_result(args.out, result, start=facts)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
