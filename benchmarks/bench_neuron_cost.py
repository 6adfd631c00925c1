"""Cost of one neuron on the LLM path, read from the timings a real run recorded.

    python benchmarks/bench_neuron_cost.py --compare results/compare_smollm2_100

Reads COMPARE/explanations.jsonl (``seconds`` of each explanation), COMPARE/scores.jsonl
or its .gz (``seconds`` of each input-side score: the neuron's own texts and its shuffled controls) and
COMPARE/steering.jsonl (``seconds`` of each neuron's output-side steering and scoring), and
reports per neuron: explain, input side, output side and their sum (median, 90th percentile,
max). Writes results/bench_neuron_cost.json. The run's own conditions (threads, load) are what
the files recorded; this script runs nothing itself.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from harness import parser, write_result


def _rows(path: Path) -> list[dict]:
    """JSON lines of ``path``, or of ``path``.gz when only that exists (the committed form)."""
    if not path.is_file() and path.with_name(path.name + ".gz").is_file():
        text = gzip.decompress(path.with_name(path.name + ".gz").read_bytes()).decode("utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def per_neuron(folder: Path) -> dict[tuple[int, int], dict[str, float]]:
    """(layer, neuron) -> seconds of each stage; neurons missing a stage are left out."""
    stages: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
    for name, file in (("explain", "explanations.jsonl"), ("input", "scores.jsonl"),
                       ("output", "steering.jsonl")):
        for row in _rows(folder / file):
            if row.get("seconds") is None or row.get("status") not in (None, "ok"):
                continue
            key = (int(row["layer"]), int(row["neuron"]))
            stages[key][name] = stages[key].get(name, 0.0) + float(row["seconds"])
    return {k: v for k, v in stages.items() if len(v) == 3}


def describe(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {"median": round(float(np.median(a)), 2), "p90": round(float(np.quantile(a, 0.9)), 2),
            "max": round(float(a.max()), 2)}


def main() -> int:
    ap = parser(__doc__, "results/bench_neuron_cost.json")
    ap.add_argument("--compare", default="results/compare_smollm2_100", help="a `superpose compare` output folder "
                        "holding explanations.jsonl too")
    ap.add_argument("--conditions", default="", help="how the run was made (threads, load), recorded as given")
    args = ap.parse_args()
    folder = Path(args.compare)
    for file in ("explanations.jsonl", "scores.jsonl", "steering.jsonl", "compare.json"):
        if not (folder / file).is_file() and not (folder / (file + ".gz")).is_file():
            raise SystemExit(f"{folder / file} is missing: pass a compare folder with the explanations it used")
    stages = per_neuron(folder)
    if not stages:
        raise SystemExit(f"{folder} holds no neuron with all three stages timed")
    meta = json.loads((folder / "compare.json").read_text(encoding="utf-8"))
    result = {"compare": str(folder), "conditions": args.conditions, "neurons": len(stages),
              "simulator": meta.get("simulator"), "simulator_method": meta.get("simulator_method"),
              "score_records": meta.get("score_records"), "calibration": meta.get("calibration"),
              "steering": {k: meta.get("steering", {}).get(k) for k in ("gain", "new_tokens", "model")},
              "input_side_counts": "the neuron's own texts (topics, negative topics, LLM) and the shuffled "
                                   "controls (the next neuron's topics and LLM texts)",
              "seconds": {name: describe([s[name] for s in stages.values()])
                          for name in ("explain", "input", "output")},
              "total_seconds": describe([sum(s.values()) for s in stages.values()])}
    write_result(args.out, result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
