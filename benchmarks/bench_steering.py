"""Time the output-side (steering) score per neuron: clamp value, effect, AUC against distractors.

    python benchmarks/bench_steering.py --records RECORDS/smollm2-135m \\
        --topics results/smollm2-135m/hi-c/topics.csv.xz --neurons 0-4

For every recorded layer and each of --neurons: the clamp value from the neuron's records, the
steering effect on the fixed neutral prompts, and the steering AUC of its positive-topic text
against the other benchmarked neurons' texts. Wall and CPU time (this process) per neuron, the
one-time model load, and the load average are written to --out (results/bench_steering.json).
"""

from __future__ import annotations

import json
import time

import numpy as np
from harness import load_average, machine, parser, write_result

from superpose.config import SteeringParams


def main() -> int:
    ap = parser(__doc__, "results/bench_steering.json", threads=2)
    ap.add_argument("--records", required=True)
    ap.add_argument("--topics", default="results/smollm2-135m/hi-c/topics.csv.xz")
    ap.add_argument("--neurons", default="0-4")
    ap.add_argument("--gain", type=float, default=SteeringParams.gain)
    ap.add_argument("--quantile", type=float, default=SteeringParams.quantile)
    ap.add_argument("--new-tokens", type=int, default=SteeringParams.new_tokens)
    args = ap.parse_args()
    facts = machine()

    import torch

    from superpose.activations.formats import RecordStore
    from superpose.activations.steering import Steerer, clamp_value
    from superpose.compare import polarity_text
    from superpose.compare.topics import open_topics
    from superpose.core.ranges import parse_range
    from superpose.explainer.local_models import load_local_model
    from superpose.explainer.scorers import Evidence, get_scorer

    torch.set_num_threads(args.threads)
    store = RecordStore(args.records)
    neurons = parse_range(args.neurons, store.meta["n_neurons"], "neuron")
    units = [(layer, n) for layer in store.layers for n in neurons]
    topics = open_topics(args.topics, set(units))
    texts = {}
    for unit in units:
        pos, _neg = topics.topics(*unit) or ([], [])
        if pos:
            texts[unit] = polarity_text(pos, 1)
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    lm = load_local_model(store.meta.get("model_source") or store.model)
    params = SteeringParams(quantile=args.quantile, gain=args.gain, new_tokens=args.new_tokens)
    steerer = Steerer(lm, params=params)
    load = {"wall_s": round(time.perf_counter() - start_wall, 2), "cpu_s": round(time.process_time() - start_cpu, 2)}
    scorer = get_scorer("steering_auc")
    rows = []
    for layer, neuron in units:
        wall, cpu = time.perf_counter(), time.process_time()
        records = store.neuron(layer, neuron)
        peaks = [float(np.max(r.activations)) for r in records.top]
        if not peaks or max(peaks) <= 0:
            rows.append({"layer": layer, "neuron": neuron, "status": "dead"})
            continue
        effect = steerer.effect(layer, neuron, clamp_value(peaks, params))
        auc = None
        if (layer, neuron) in texts:
            distractors = [t for u, t in texts.items() if u != (layer, neuron)]
            auc = scorer.score(Evidence(texts[(layer, neuron)], effect=effect, effect_words=steerer.word_tokens,
                                        distractors=distractors)).value
        rows.append({"layer": layer, "neuron": neuron, "status": "ok", "clamp_value": round(effect.value, 4),
                     "wall_s": round(time.perf_counter() - wall, 3), "cpu_s": round(time.process_time() - cpu, 3),
                     "uncentered_auc": auc, "promoted": effect.promoted[:6]})
    ok = [r for r in rows if r["status"] == "ok"]
    result = {
        "settings": {"records": args.records, "records_tokens": store.meta.get("n_tokens"), "model": store.model,
                     "neurons_per_layer": args.neurons, "layers": store.layers, "threads": args.threads,
                     **steerer.describe()},
        "model_load": load,
        "per_neuron": {"n": len(ok), "wall_s_median": float(np.median([r["wall_s"] for r in ok])),
                       "wall_s_max": float(np.max([r["wall_s"] for r in ok])),
                       "cpu_s_median": float(np.median([r["cpu_s"] for r in ok])),
                       "cpu_s_max": float(np.max([r["cpu_s"] for r in ok]))},
        "load_average_after": load_average(), "rows": rows}
    write_result(args.out, result, start=facts)
    print(json.dumps(result["per_neuron"]), "model load", load)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
