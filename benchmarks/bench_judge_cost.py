"""Cost per unit of detection + fuzzing against all-at-once simulation, same model, same units.

    nice -n 10 python benchmarks/bench_judge_cost.py --records DIR/smollm2-135m --layer 15 --units 6 \
        --threads 1 --compare window=32,order=shared --control

For each unit (the first ``--units`` explained ones in ``RECORDS/explanations.jsonl``, else the
first live neurons with their top tokens as explanation), in turn: the all-at-once simulation
that ``superpose score`` runs by default (``--score-records`` top and random records of the
calibration and held-out sets, batched, prefix reused), then detection and fuzzing with the same
local model as judge (``ClassifierParams`` defaults, or ``--params K=V,...``; no cache). Wall and
CPU seconds (process time, all threads) of each; the ratio of the means with a 95% paired
bootstrap interval over units, and the per-unit ratios, with tokens and forward passes per unit.

``--compare K=V,...`` (repeatable) judges every unit again under other judge parameters (e.g. the
earlier defaults ``window=32,order=shared``, or ``examples_per_prompt=1``), timed the same way
with its own ratio, and the rank correlation (Spearman) of its per-unit scores with the main
run's. ``--control`` also judges every unit with a shuffled explanation (the next unit's) under
every parameter set: the margin of the true explanation's AUC over the shuffled one's, with a 95%
bootstrap interval over units, says whether the scores still tell explanations apart.
Run it with ``--threads 1`` on a busy machine: idle torch threads spin and count as CPU time.
Writes results/bench_judge_cost.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
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


def _params(text: str):  # noqa: ANN202 - ClassifierParams, imported late
    """``K=V,K=V`` as ClassifierParams (ints where they parse); bad keys fail on construction."""
    from superpose.config import ClassifierParams

    values: dict = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--compare/--params: {item!r} is not KEY=VALUE")
        for kind in (int, float):
            try:
                values[key] = kind(value)
                break
            except ValueError:
                continue
        else:
            values[key] = value
    try:
        return ClassifierParams(**values)
    except TypeError as err:
        raise SystemExit(f"--compare/--params: {err}") from None


def _margin(true: list, shuffled: list, n_boot: int, seed: int) -> dict:  # noqa: ANN001
    """Mean of true - shuffled over the units where both are defined, its 95% bootstrap interval
    and the share of units where the true explanation scores higher."""
    pairs = np.array([(a, b) for a, b in zip(true, shuffled, strict=True)
                      if isinstance(a, int | float) and isinstance(b, int | float)], dtype=np.float64)
    if len(pairs) < 2:
        return {"units": len(pairs)}
    diff = pairs[:, 0] - pairs[:, 1]
    rng = np.random.default_rng(seed)
    boot = diff[rng.integers(0, len(diff), (n_boot, len(diff)))].mean(1)
    return {"units": len(diff), "true": round(float(pairs[:, 0].mean()), 3),
            "shuffled": round(float(pairs[:, 1].mean()), 3), "margin": round(float(diff.mean()), 3),
            "margin_95ci": [round(float(np.quantile(boot, q)), 3) for q in (0.025, 0.975)],
            "true_higher": round(float(np.mean(diff > 0)), 3)}


def _spearman(a: list, b: list) -> float | None:  # noqa: ANN001
    from scipy.stats import spearmanr

    pairs = [(x, y) for x, y in zip(a, b, strict=True) if isinstance(x, int | float) and isinstance(y, int | float)]
    if len(pairs) < 3 or len({x for x, _ in pairs}) < 2 or len({y for _, y in pairs}) < 2:
        return None
    return round(float(spearmanr([x for x, _ in pairs], [y for _, y in pairs]).statistic), 3)


def _ratio_summary(judged: np.ndarray, simulated: np.ndarray) -> dict:
    per_unit = judged / simulated
    return {"ratio": round(float(judged.mean() / simulated.mean()), 3),
            "ratio_95ci": [round(v, 3) for v in _ratio_interval(judged, simulated, 2000, 0)],
            "ratio_per_unit": {"min": round(float(per_unit.min()), 3),
                               "median": round(float(np.median(per_unit)), 3),
                               "max": round(float(per_unit.max()), 3)}}


def _judge_unit(text: str, shuffled: str | None, records, judge, params) -> dict:  # noqa: ANN001
    """Detection and fuzzing of one unit under ``params``: times, scores, cost; the shuffled
    explanation's scores (not timed into the ratio) when given."""
    from superpose.explainer.scorers.classifier import detection_score, fuzzing_score

    row: dict = {}
    wall = cpu = 0.0
    for name, fn in (("detection", detection_score), ("fuzzing", fuzzing_score)):
        score, w, c = _timed(lambda fn=fn: fn(text, records, judge, params))
        wall, cpu = wall + w, cpu + c
        row[name] = {"value": score.value, "auc": score.details.get("auc"),
                     "cost": score.details.get("cost"), "order_seed": score.details.get("order_seed")}
        if shuffled is not None:
            other = fn(shuffled, records, judge, params)
            row[name].update(shuffled_value=other.value, shuffled_auc=other.details.get("auc"))
    row.update(wall_s=round(wall, 2), cpu_s=round(cpu, 2))
    return row


def _config_summary(rows: list, key: str, sims: dict) -> dict:
    """Cost ratio, tokens, passes and scores of one parameter set over every unit."""
    out: dict = {}
    for kind in ("wall", "cpu"):
        judged = np.array([r[key][f"{kind}_s"] for r in rows])
        out[f"{kind}_s_per_unit"] = {"simulation": round(float(sims[kind].mean()), 2),
                                     "detection_plus_fuzzing": round(float(judged.mean()), 2)}
        out.update({f"{kind}_{k}": v for k, v in _ratio_summary(judged, sims[kind]).items()})
    cost = [(r[key]["detection"]["cost"], r[key]["fuzzing"]["cost"]) for r in rows]
    out["per_unit"] = {field: round(float(np.mean([d[field] + f[field] for d, f in cost])), 1)
                       for field in ("prompts", "prompt_tokens", "computed_tokens", "passes")}
    for name in ("detection", "fuzzing"):
        scores = [r[key][name] for r in rows]
        out[name] = {"balanced_accuracy": _mean([s["value"] for s in scores]),
                     "auc": _mean([s["auc"] for s in scores])}
        if "shuffled_auc" in scores[0]:
            out[name]["auc_true_vs_shuffled"] = _margin([s["auc"] for s in scores],
                                                        [s["shuffled_auc"] for s in scores], 2000, 0)
            out[name]["balanced_accuracy_true_vs_shuffled"] = _margin(
                [s["value"] for s in scores], [s["shuffled_value"] for s in scores], 2000, 0)
    return out


def main() -> int:
    ap = parser(__doc__, "results/bench_judge_cost.json", model=True, threads=2)
    ap.add_argument("--records", required=True, help="records folder (DIR/MODEL)")
    ap.add_argument("--layer", type=int, default=15)
    ap.add_argument("--units", type=int, default=5)
    ap.add_argument("--score-records", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=4, help="simulator's sequences per pass")
    ap.add_argument("--params", default="", metavar="K=V,...",
                    help="judge parameters of the main run (default: ClassifierParams' defaults)")
    ap.add_argument("--compare", action="append", default=[], metavar="K=V,...",
                    help="also judge every unit under these parameters (repeatable)")
    ap.add_argument("--control", action="store_true",
                    help="also judge every unit with the next unit's explanation (not timed)")
    args = ap.parse_args()
    configs = {"main": _params(args.params), **{c: _params(c) for c in args.compare}}
    facts = machine()

    import torch

    from superpose.activations.formats import RecordStore, read_jsonl
    from superpose.explainer.local_models import load_local_model
    from superpose.explainer.scorers.classifier import LocalJudge, detection_score, fuzzing_score
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
    if args.control and len(units) < 2:
        raise SystemExit("--control needs at least 2 units (the shuffled explanation is another unit's)")
    simulator = AllAtOnceSimulator(lm.model, lm.tokenizer, lm.name, args.batch_size)
    judge = LocalJudge(lm.model, lm.tokenizer, lm.name)  # no cache: every prompt is computed
    # Warm everything once (fixed prompt prefixes, first-call overheads) on a unit not measured.
    warm = store.neuron(args.layer, units[0][0])
    simulator.simulate("warm-up", [warm.top[0].tokens])
    for p in configs.values():
        detection_score("warm-up", warm, judge, p)
        fuzzing_score("warm-up", warm, judge, p)
    rows = []
    for i, (neuron, text) in enumerate(units):
        records = store.neuron(args.layer, neuron)
        split = records.split().limited(args.score_records)
        seqs = [r.tokens for r in split.calibration + split.holdout]
        simulator._memo.clear()
        _, sim_wall, sim_cpu = _timed(lambda: simulator.simulate(text, seqs))  # noqa: B023
        sim_tokens = sum(len(simulator.prompt_ids(text, s)[0]) for s in seqs)
        shuffled = units[(i + 1) % len(units)][1] if args.control else None
        row = {"neuron": neuron, "explanation": text, "shuffled_explanation": shuffled,
               "simulated_sequences": len(seqs), "simulation_prompt_tokens": sim_tokens,
               "simulation_wall_s": round(sim_wall, 2), "simulation_cpu_s": round(sim_cpu, 2)}
        for key, p in configs.items():
            row[key] = _judge_unit(text, shuffled, records, judge, p)
        rows.append(row)
        print(json.dumps({"neuron": neuron, "simulation_cpu_s": row["simulation_cpu_s"],
                          **{f"{k}_cpu_s": row[k]["cpu_s"] for k in configs}}), flush=True)
    sims = {kind: np.array([r[f"simulation_{kind}_s"] for r in rows]) for kind in ("wall", "cpu")}
    summary = {"simulation_prompt_tokens_per_unit": round(float(np.mean([r["simulation_prompt_tokens"]
                                                                         for r in rows])), 1)}
    for key in configs:
        summary[key] = _config_summary(rows, key, sims)
        if key != "main":
            summary[key]["spearman_with_main"] = {
                f"{name}_{metric}": _spearman([r["main"][name][metric] for r in rows],
                                              [r[key][name][metric] for r in rows])
                for name in ("detection", "fuzzing") for metric in ("value", "auc")}
    summary["cpu_ratio"], summary["wall_ratio"] = summary["main"]["cpu_ratio"], summary["main"]["wall_ratio"]
    summary["goal"] = "detection + fuzzing per unit <= 1/5 of all-at-once simulation (ratio <= 0.2)"
    result = {"settings": vars(args), "judge_params": {k: asdict(p) for k, p in configs.items()},
              "judge_method": judge.method, "simulator_method": simulator.method, "records_meta": {
                  k: store.meta.get(k) for k in ("model", "corpus", "n_tokens", "top_k", "n_random",
                                                 "per_quantile")},
              "summary": summary, "units": rows}
    write_result(args.out, result, start=facts)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
