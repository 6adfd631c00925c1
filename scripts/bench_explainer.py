"""Explainer prompts compared: which one's explanations score better on held-out records?

Both prompts explain the same real neurons with the same local chat model (greedy); every
explanation is scored by the same simulator on the same held-out records (correlation pooled
over held-out tokens, and the embedding AUC). "plain" is the default prompt; "example" adds
one worked exchange and asks for 3-8 words with examples
(:func:`superpose.llm.prompts.explanation_messages` with ``example=True``).

    python scripts/bench_explainer.py --records llm/smollm2-135m --layer 15 --neurons 0-9

Writes results/bench_explainer.json and results/bench_explainer.md.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np

from superpose.llm.prompts import explanation_messages, parse_explanation

PROMPTS = {"plain": explanation_messages,
           "example": partial(explanation_messages, example=True)}


def run(args: argparse.Namespace) -> dict:
    import torch

    from superpose.core.fileio import write_json_atomic
    from superpose.core.provenance import versions
    from superpose.core.ranges import parse_range
    from superpose.llm.clients.local import LocalChatClient
    from superpose.llm.evaluate import score_explanation
    from superpose.llm.formats import RecordStore
    from superpose.llm.local_models import load_local_model
    from superpose.llm.simulate import AllAtOnceSimulator

    torch.set_num_threads(args.threads)
    store = RecordStore(args.records)
    neurons = parse_range(args.neurons, store.meta["n_neurons"], "neuron")
    explainer = load_local_model(args.explainer)
    from superpose.llm.clients import DiskCache

    cache = DiskCache(args.cache) if args.cache else None
    client = LocalChatClient(explainer.model, explainer.tokenizer, explainer.name, cache)
    from superpose.llm.embedding import SentenceEncoder

    encoder = SentenceEncoder()
    sim_model = load_local_model(args.simulator)
    simulator = AllAtOnceSimulator(sim_model.model, sim_model.tokenizer, sim_model.name)
    rows = []
    start = time.monotonic()
    for neuron in neurons:
        records = store.neuron(args.layer, neuron)
        if not records.top or records.stats["max"] <= 0:
            continue
        split = records.split()
        scored = split.limited(args.score_records)
        for name, build in PROMPTS.items():
            reply = client.complete(build(split.explain), max_tokens=48)
            try:
                text = parse_explanation(reply)
            except ValueError:
                text = ""
            corr = auc = None
            if text:
                scores = score_explanation(text, scored, simulator, encoder)
                corr = scores.correlation.value
                auc = scores.embedding_auc.value if scores.embedding_auc else None
            rows.append({"neuron": neuron, "prompt": name, "reply": reply, "explanation": text,
                         "words": len(text.split()), "correlation": corr, "embedding_auc": auc})
            print(f"{neuron:5d} {name:6s} r={corr if corr is None else round(corr, 3)} "
                  f"auc={auc} {text!r}", flush=True)
    summary = {}
    for name in PROMPTS:
        mine = [r for r in rows if r["prompt"] == name]
        values = [r["correlation"] if r["correlation"] is not None else 0.0 for r in mine]
        aucs = [r["embedding_auc"] for r in mine if r["embedding_auc"] is not None]
        summary[name] = {"neurons": len(mine), "mean_correlation": float(np.mean(values)),
                         "mean_embedding_auc": float(np.mean(aucs)) if aucs else None,
                         "median_words": float(np.median([r["words"] for r in mine])),
                         "one_word": sum(r["words"] <= 1 for r in mine)}
    pairs = [(a["correlation"] or 0.0, b["correlation"] or 0.0)
             for a, b in zip(rows[0::2], rows[1::2], strict=True)]
    diff = np.array([b - a for a, b in pairs])
    rng = np.random.default_rng(0)
    boot = [float(np.mean(rng.choice(diff, diff.size))) for _ in range(2000)] if diff.size else []
    result = {"parameters": vars(args), "records_model": store.model, "versions": versions(),
              "seconds": round(time.monotonic() - start, 1), "summary": summary,
              "example_minus_plain": {
                  "mean": float(diff.mean()) if diff.size else None,
                  "ci95": [float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))]
                  if boot else None,
                  "example_better": int((diff > 0).sum()),
                  "plain_better": int((diff < 0).sum())},
              "rows": rows}
    out = Path(args.out)
    write_json_atomic(out.with_suffix(".json"), result)
    out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    return result


def markdown(result: dict) -> str:
    p, d = result["parameters"], result["example_minus_plain"]
    lines = ["# Explainer prompts compared", "",
             f"Explainer {p['explainer']}, simulator {p['simulator']}, records of "
             f"{result['records_model']} layer {p['layer']} neurons {p['neurons']}; each "
             f"explanation scored on at most {p['score_records']} top and {p['score_records']} "
             "random records of the calibration and held-out sets (correlation pooled over "
             "held-out tokens; an empty explanation counts 0).", "",
             "| prompt | neurons | mean correlation | mean embedding AUC | median words | "
             "one-word answers |", "|---|---|---|---|---|---|"]
    for name, s in result["summary"].items():
        auc = "n/a" if s["mean_embedding_auc"] is None else f"{s['mean_embedding_auc']:.3f}"
        lines.append(f"| {name} | {s['neurons']} | {s['mean_correlation']:.3f} | {auc} | "
                     f"{s['median_words']:.0f} | {s['one_word']} |")
    ci = d["ci95"]
    lines += ["", f"Example minus plain, per neuron: mean {d['mean']:+.3f}"
              + (f", bootstrap 95% interval [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")
              + f"; example better on {d['example_better']}, plain on {d['plain_better']}.", "",
              "| neuron | prompt | correlation | embedding AUC | explanation |",
              "|---|---|---|---|---|"]
    for r in result["rows"]:
        corr = "undef" if r["correlation"] is None else f"{r['correlation']:+.3f}"
        auc = "undef" if r["embedding_auc"] is None else f"{r['embedding_auc']:.3f}"
        lines.append(f"| {r['neuron']} | {r['prompt']} | {corr} | {auc} | "
                     f"{r['explanation']} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--records", required=True, help="records folder (DIR/MODEL)")
    parser.add_argument("--layer", type=int, required=True)
    parser.add_argument("--neurons", default="0-9")
    parser.add_argument("--explainer", default="qwen2.5-coder-0.5b")
    parser.add_argument("--simulator", default="smollm2-135m")
    parser.add_argument("--score-records", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", default=None,
                        help="reply cache folder (e.g. the one `superpose explain` used)")
    parser.add_argument("--out", default="results/bench_explainer")
    run(parser.parse_args(argv))
    print(Path(parser.parse_args(argv).out).with_suffix(".md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
