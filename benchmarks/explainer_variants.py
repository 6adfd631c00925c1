"""Variants of the top-tokens explainer (no language model), measured on the input side of the comparison.

    python benchmarks/explainer_variants.py --records RECORDS/smollm2-135m --neurons 10-19 \\
        --out results/explainer_variants_dev [--variants peak-k5,mass-k5]

For every variant (a :class:`~superpose.config.TopTokensParams`, listed in ``VARIANTS`` before any
number was seen) and every chosen neuron of every layer: the explanation written from the neuron's
explain records only, its correlation on the held-out records under the comparison's default
input-side simulator (MiniLM embeddings, all held-out records: ``superpose compare``'s input side),
and its shuffled control (the same variant's text of the next chosen neuron of the same layer,
cyclic, on this neuron's records: compare's partner rule). Calibration records are not simulated
(the correlation does not use them) and there is no output side: this is a search on a dev set,
the chosen variant then goes through the full comparison (benchmarks/compare_real.py) on other
neurons once.

Per variant: mean correlation, mean shuffled, real minus shuffled, and real minus the first
variant's real (the committed explainer), each with a 95% paired bootstrap interval over neurons
(compare's 2,000 resamples, seed 0), the share of neurons beating their control and the mean
number of tokens named. Decision rule, fixed before the run: the variant with the highest mean
margin over its shuffled control is chosen. Every (neuron, text) correlation goes to
OUT/scores.jsonl.gz (a text that several variants write is scored once).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import time
from pathlib import Path

from harness import machine, write_result

VARIANTS: dict[str, dict] = {  # name -> TopTokensParams fields; the first is the committed explainer
    "peak-k5": {},
    "peak-k1": {"count": 1},
    "peak-k2": {"count": 2},
    "peak-k3": {"count": 3},
    "peak-k8": {"count": 8},
    "peak-k12": {"count": 12},
    "mass-k3": {"count": 3, "rank": "mass"},
    "mass-k5": {"rank": "mass"},
    "mass-k8": {"count": 8, "rank": "mass"},
    "mean-k5": {"rank": "mean"},
    "records-k5": {"rank": "records"},
    "fold-k5": {"fold_case": True},
    "mass-fold-k5": {"rank": "mass", "fold_case": True},
    "context-k5": {"context": True},
    "share30-max10": {"count": 10, "rank": "mass", "share": 0.3},
    "share50-max10": {"count": 10, "rank": "mass", "share": 0.5},
    "noprefix-k5": {"prefix": ""},
    # round 2, added after round 1 (results/explainer_variants_dev): its best rule without the prefix
    "share50-max10-noprefix": {"count": 10, "rank": "mass", "share": 0.5, "prefix": ""},
    "mass-k8-noprefix": {"count": 8, "rank": "mass", "prefix": ""},
    "mass-k12-noprefix": {"count": 12, "rank": "mass", "prefix": ""},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", required=True, help="records folder (DIR/MODEL)")
    parser.add_argument("--layers", default="all")
    parser.add_argument("--neurons", default="10-19", help="the dev set (default: 10-19, not the committed 0-9)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names of VARIANTS")
    parser.add_argument("--out", default="results/explainer_variants_dev")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {', '.join(unknown)}: choose from {', '.join(VARIANTS)}")

    import torch

    from superpose.activations.formats import RecordSplit, RecordStore
    from superpose.compare.stats import bootstrap_mean
    from superpose.config import Backend, CompareParams, TopTokensParams
    from superpose.core.fileio import write_text_atomic
    from superpose.core.ranges import parse_range
    from superpose.explainer.clients.top_tokens import TopTokensExplainer
    from superpose.explainer.prompts import DeadNeuronError
    from superpose.explainer.scorers import score_explanation
    from superpose.explainer.simulators import SimulatorContext
    from superpose.explainer.simulators.embedding import build

    torch.set_num_threads(args.threads)
    start, t0, c0 = machine(), time.monotonic(), time.process_time()
    store = RecordStore(args.records)
    layers = parse_range(args.layers, store.meta["n_layers"], "layer")
    neurons = parse_range(args.neurons, store.meta["n_neurons"], "neuron")
    explainers = {n: TopTokensExplainer(TopTokensParams(**VARIANTS[n])) for n in names}
    simulator = build(SimulatorContext(backend=Backend()))
    texts: dict[str, dict[tuple[int, int], str]] = {n: {} for n in names}
    splits: dict[tuple[int, int], RecordSplit] = {}
    for layer in layers:
        for neuron in neurons:
            records = store.neuron(layer, neuron)
            if not records.top or records.stats["max"] <= 0:
                continue
            split = records.split().limited(CompareParams.score_records)
            splits[(layer, neuron)] = RecordSplit(split.explain, [], split.holdout)  # no calibration: see above
            for n in names:
                try:
                    texts[n][(layer, neuron)] = explainers[n].explain_records(split.explain)
                except DeadNeuronError:
                    pass
    partner = {(layer, n): (layer, neurons[(i + 1) % len(neurons)]) for layer in layers
               for i, n in enumerate(neurons)}
    corr: dict[tuple[int, int, str], float] = {}
    rows = []
    for key in sorted(splits):
        for text in sorted({t[k] for t in texts.values() for k in (key, partner[key]) if k in t}):
            result = score_explanation(text, splits[key], simulator).correlation
            value = math.nan if result.value is None else float(result.value)
            corr[(*key, text)] = value
            rows.append({"layer": key[0], "neuron": key[1], "explanation": text, "correlation": value})

    def score(key: tuple[int, int], text: str | None) -> float:
        return math.nan if text is None else corr.get((*key, text), math.nan)

    n_boot, seed = CompareParams.bootstrap, CompareParams.seed
    base = names[0]
    results = {}
    for n in names:
        real = {k: score(k, texts[n].get(k)) for k in partner}
        shuffled = {k: score(k, texts[n].get(partner[k])) for k in partner}
        both = [k for k in partner if not (math.isnan(real[k]) or math.isnan(shuffled[k]))]
        base_real = {k: score(k, texts[base].get(k)) for k in partner}
        paired = [k for k in partner if not (math.isnan(real[k]) or math.isnan(base_real[k]))]
        entry = {"params": VARIANTS[n], "explainer": explainers[n].name, "neurons": len(both),
                 "tokens_named": sum(len(t.split(", ")) for t in texts[n].values()) / max(1, len(texts[n]))}
        for key, values in (("real", [real[k] for k in both]), ("shuffled", [shuffled[k] for k in both]),
                            ("margin", [real[k] - shuffled[k] for k in both]),
                            ("minus_" + base, [real[k] - base_real[k] for k in paired])):
            mean, lo, hi = bootstrap_mean(values, n_boot, seed)
            entry[key] = {"mean": round(mean, 4), "lo": round(lo, 4), "hi": round(hi, 4)}
        entry["beats_shuffled"] = round(sum(real[k] > shuffled[k] for k in both) / max(1, len(both)), 3)
        entry["example"] = texts[n].get((layers[0], neurons[0]))
        results[n] = entry
    chosen = max(names, key=lambda n: results[n]["margin"]["mean"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"records": args.records, "layers": args.layers, "neurons": args.neurons,
               "simulator": simulator.name, "score": "correlation on all held-out records",
               "bootstrap": n_boot, "seed": seed, "rule": "highest mean margin over the shuffled control",
               "chosen": chosen, "variants": results,
               "seconds_wall": round(time.monotonic() - t0, 1), "seconds_cpu": round(time.process_time() - c0, 1)}
    write_result(out / "variants.json", payload, start=start)
    with gzip.GzipFile(out / "scores.jsonl.gz", "wb", mtime=0) as fh:
        fh.write("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode("utf-8"))
    lines = [f"# Top-tokens variants, input side, neurons {args.neurons} of layers {args.layers}", "",
             "| variant | tokens | real | shuffled | real minus shuffled | beats | real minus " + base + " |",
             "|---|---|---|---|---|---|---|"]
    for n in names:
        e = results[n]
        cell = [f"{e[k]['mean']:+.3f} [{e[k]['lo']:+.3f}, {e[k]['hi']:+.3f}]"
                for k in ("real", "shuffled", "margin", "minus_" + base)]
        lines.append(f"| {n} | {e['tokens_named']:.1f} | {cell[0]} | {cell[1]} | {cell[2]} | "
                     f"{e['beats_shuffled']:.0%} | {cell[3]} |")
    lines += ["", f"Chosen by the rule fixed before the run (highest mean margin): **{chosen}**.", ""]
    write_text_atomic(out / "variants.md", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
