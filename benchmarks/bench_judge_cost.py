"""Cost per unit of detection + fuzzing against all-at-once simulation, same model, same units.

    nice -n 10 python benchmarks/bench_judge_cost.py --records DIR/smollm2-135m --layer 15 --units 5

For each unit (the first ``--units`` explained ones in ``RECORDS/explanations.jsonl``, else the
first live neurons with their top tokens as explanation), in turn: the all-at-once simulation
that ``superpose score`` runs by default (``--score-records`` top and random records of the
calibration and held-out sets, batched, prefix reused), then detection and fuzzing with the same
local model as judge (default parameters but ``--per-prompt`` examples per judge prompt, no
cache). Wall and CPU seconds (process time, all threads) of each; the ratio of the means with a
95% paired bootstrap interval over units, and the per-unit ratios. ``--also-per-prompt N`` judges
every unit a second time with N examples per prompt (N = 1: the per-example judge) and records its
cost and scores beside the main run's, for the accuracy comparison; it is not in the ratio.
Run it with ``--threads 1`` on a busy machine: idle torch threads spin and count as CPU time.
Writes results/bench_judge_cost.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from harness import machine, parser, write_result


def _timed(fn):  # noqa: ANN001, ANN202 - tiny local helper
    wall, cpu = time.monotonic(), time.process_time()
    value = fn()
    return value, time.monotonic() - wall, time.process_time() - cpu


def _ratio_interval(num: np.ndarray, den: np.ndarray, n_boot: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(num), (n_boot, len(num)))
    ratios = num[idx].mean(1) / den[idx].mean(1)
    return [float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975))]


def _mean(values: list) -> float | None:  # noqa: ANN001 - scores or None (undefined)
    kept = [float(v) for v in values if isinstance(v, int | float)]
    return round(float(np.mean(kept)), 3) if kept else None


def main() -> int:
    ap = parser(__doc__, "results/bench_judge_cost.json", model=True, threads=2)
    ap.add_argument("--records", required=True, help="records folder (DIR/MODEL)")
    ap.add_argument("--layer", type=int, default=15)
    ap.add_argument("--units", type=int, default=5)
    ap.add_argument("--score-records", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=4, help="simulator's sequences per pass")
    ap.add_argument("--per-prompt", type=int, default=None,
                    help="examples per judge prompt (default: ClassifierParams')")
    ap.add_argument("--also-per-prompt", type=int, default=None, metavar="N",
                    help="also judge every unit with N examples per prompt (accuracy comparison)")
    args = ap.parse_args()
    facts = machine()

    import torch

    from superpose.activations.formats import RecordStore, read_jsonl
    from superpose.explainer.local_models import load_local_model
    from superpose.explainer.scorers.classifier import (
        ClassifierParams,
        LocalJudge,
        detection_score,
        fuzzing_score,
    )
    from superpose.explainer.simulators.all_at_once import AllAtOnceSimulator

    torch.set_num_threads(args.threads)
    store = RecordStore(args.records)
    lm = load_local_model(args.model)
    if lm.name != store.model:
        raise SystemExit(f"records are of {store.model}, not {lm.name}")
    given = {int(r["neuron"]): str(r["explanation"])
             for r in read_jsonl(Path(args.records) / "explanations.jsonl")
             if r.get("status") == "ok" and int(r["layer"]) == args.layer}
    units: list[tuple[int, str]] = []
    for neuron in range(store.meta["n_neurons"]):
        if len(units) == args.units:
            break
        records = store.neuron(args.layer, neuron)
        if not records.top or records.stats["max"] <= 0:
            continue
        if neuron in given:
            units.append((neuron, given[neuron]))
        elif not given:
            peaks = [r.tokens[int(np.argmax(r.activations))].strip() for r in records.top[:10]]
            units.append((neuron, "tokens such as " + ", ".join(dict.fromkeys(peaks))))
    simulator = AllAtOnceSimulator(lm.model, lm.tokenizer, lm.name, args.batch_size)
    judge = LocalJudge(lm.model, lm.tokenizer, lm.name)  # no cache: every prompt is computed
    params = ClassifierParams() if args.per_prompt is None else \
        ClassifierParams(examples_per_prompt=args.per_prompt)
    other = None if args.also_per_prompt is None else \
        ClassifierParams(examples_per_prompt=args.also_per_prompt)
    # Warm everything once (fixed prompt prefixes, first-call overheads) on a unit not measured.
    warm = store.neuron(args.layer, units[0][0])
    simulator.simulate("warm-up", [warm.top[0].tokens])
    for p in (params, other or params):
        detection_score("warm-up", warm, judge, p)
        fuzzing_score("warm-up", warm, judge, p)
    rows = []
    for neuron, text in units:
        records = store.neuron(args.layer, neuron)
        split = records.split().limited(args.score_records)
        seqs = [r.tokens for r in split.calibration + split.holdout]
        simulator._memo.clear()
        _, sim_wall, sim_cpu = _timed(lambda: simulator.simulate(text, seqs))  # noqa: B023
        det, det_wall, det_cpu = _timed(lambda: detection_score(text, records, judge, params))  # noqa: B023
        fuz, fuz_wall, fuz_cpu = _timed(lambda: fuzzing_score(text, records, judge, params))  # noqa: B023
        sim_tokens = sum(len(simulator.prompt_ids(text, s)[0]) for s in seqs)
        row = {"neuron": neuron, "explanation": text, "simulated_sequences": len(seqs),
               "simulation_prompt_tokens": sim_tokens,
               "simulation_wall_s": round(sim_wall, 2), "simulation_cpu_s": round(sim_cpu, 2),
               "judge_wall_s": round(det_wall + fuz_wall, 2), "judge_cpu_s": round(det_cpu + fuz_cpu, 2),
               "ratio_wall": round((det_wall + fuz_wall) / sim_wall, 3),
               "ratio_cpu": round((det_cpu + fuz_cpu) / sim_cpu, 3),
               "detection": det.value, "detection_auc": det.details.get("auc"),
               "detection_cost": det.details.get("cost"), "fuzzing": fuz.value,
               "fuzzing_auc": fuz.details.get("auc"), "fuzzing_cost": fuz.details.get("cost")}
        if other is not None:
            for name, fn in (("detection", detection_score), ("fuzzing", fuzzing_score)):
                again = fn(text, records, judge, other)
                row[f"{name}_per_prompt_{other.examples_per_prompt}"] = {
                    "value": again.value, "auc": again.details.get("auc"),
                    "cost": again.details.get("cost")}
        rows.append(row)
        print(json.dumps({k: row[k] for k in ("neuron", "simulation_wall_s", "simulation_cpu_s",
                                              "judge_wall_s", "judge_cpu_s")}), flush=True)
    summary = {}
    for kind in ("wall", "cpu"):
        judged = np.array([r[f"judge_{kind}_s"] for r in rows])
        simulated = np.array([r[f"simulation_{kind}_s"] for r in rows])
        summary[f"{kind}_s_per_unit"] = {"simulation": round(float(simulated.mean()), 2),
                                         "detection_plus_fuzzing": round(float(judged.mean()), 2)}
        summary[f"{kind}_ratio"] = round(float(judged.mean() / simulated.mean()), 3)
        summary[f"{kind}_ratio_95ci"] = [round(v, 3) for v in _ratio_interval(judged, simulated, 2000, 0)]
        per_unit = judged / simulated
        summary[f"{kind}_ratio_per_unit"] = {
            "min": round(float(per_unit.min()), 3), "median": round(float(np.median(per_unit)), 3),
            "max": round(float(per_unit.max()), 3)}
    summary["tokens_per_unit"] = {
        "simulation_prompt": round(float(np.mean([r["simulation_prompt_tokens"] for r in rows])), 1),
        "judge_prompt": round(float(np.mean([r["detection_cost"]["prompt_tokens"] + r["fuzzing_cost"]["prompt_tokens"]
                                             for r in rows])), 1),
        "judge_computed": round(float(np.mean([r["detection_cost"].get("computed_tokens", 0)
                                               + r["fuzzing_cost"].get("computed_tokens", 0) for r in rows])), 1)}
    if other is not None:
        key = f"per_prompt_{other.examples_per_prompt}"
        for name in ("detection", "fuzzing"):
            pairs = [(r[name], r[f"{name}_{key}"]["value"], r[f"{name}_auc"], r[f"{name}_{key}"]["auc"])
                     for r in rows]
            summary[f"{name}_mean_over_units"] = {
                f"balanced_accuracy_{params.examples_per_prompt}_per_prompt": _mean([p[0] for p in pairs]),
                f"balanced_accuracy_{other.examples_per_prompt}_per_prompt": _mean([p[1] for p in pairs]),
                f"auc_{params.examples_per_prompt}_per_prompt": _mean([p[2] for p in pairs]),
                f"auc_{other.examples_per_prompt}_per_prompt": _mean([p[3] for p in pairs])}
    summary["goal"] = "detection + fuzzing per unit <= 1/5 of all-at-once simulation (ratio <= 0.2)"
    result = {"settings": vars(args), "judge_params": params.__dict__, "judge_method": judge.method,
              "simulator_method": simulator.method, "records_meta": {
                  k: store.meta.get(k) for k in ("model", "corpus", "n_tokens", "top_k", "n_random",
                                                 "per_quantile")},
              "summary": summary, "units": rows}
    write_result(args.out, result, start=facts)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
