"""Explainer prompts compared: which one's explanations score better on held-out records?

Every prompt style explains the same real neurons with the same local chat model (greedy);
every explanation is scored by the same simulator on the same held-out records (correlation
pooled over held-out tokens, and the embedding AUC) next to a shuffled control (the next
neuron's explanation from the same prompt). "plain" is the default prompt; "example" adds one
worked exchange and asks for 3-8 words with examples; "tokens" asks for the strongest firing
tokens and what they share (:func:`superpose.explainer.prompts.explanation_messages`, ``style``).

    python benchmarks/bench_explainer.py --records llm/smollm2-135m --layer 15 --neurons 0-9

Writes results/bench_explainer.json and results/bench_explainer.md.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np

from superpose.explainer.prompts import STYLES, explanation_messages, parse_explanation

PROMPTS = {style: partial(explanation_messages, style=style) for style in STYLES}


def run(args: argparse.Namespace) -> dict:
    import torch

    from superpose.activations.formats import RecordStore
    from superpose.core.fileio import write_json_atomic
    from superpose.core.provenance import versions
    from superpose.core.ranges import parse_range
    from superpose.explainer.clients.local import LocalChatClient
    from superpose.explainer.local_models import load_local_model
    from superpose.explainer.scorers import score_explanation

    torch.set_num_threads(args.threads)
    store = RecordStore(args.records)
    neurons = parse_range(args.neurons, store.meta["n_neurons"], "neuron")
    explainer = load_local_model(args.explainer)
    from superpose.explainer.clients import DiskCache

    cache = DiskCache(args.cache) if args.cache else None
    client = LocalChatClient(explainer.model, explainer.tokenizer, explainer.name, cache)
    from superpose.explainer.clients import Backend
    from superpose.explainer.encoder import SentenceEncoder
    from superpose.explainer.simulators import SimulatorContext, make_simulator

    encoder = SentenceEncoder()
    kind = "embedding" if args.simulator == "embedding" else "all-at-once"
    simulator = make_simulator(kind, SimulatorContext(Backend(model=args.simulator)))
    start = time.monotonic()
    chosen = []
    for neuron in neurons:
        records = store.neuron(args.layer, neuron)
        if records.top and records.stats["max"] > 0:
            chosen.append((neuron, records.split()))
    texts: dict[tuple[int, str], tuple[str, str]] = {}
    for neuron, split in chosen:
        for name, build in PROMPTS.items():
            reply = client.complete(build(split.explain), max_tokens=48)
            try:
                texts[neuron, name] = (reply, parse_explanation(reply))
            except ValueError:
                texts[neuron, name] = (reply, "")
    rows = []
    for i, (neuron, split) in enumerate(chosen):
        scored = split.limited(args.score_records)
        partner = chosen[(i + 1) % len(chosen)][0]  # shuffled control: the next neuron's text
        for name in PROMPTS:
            reply, text = texts[neuron, name]
            row = {"neuron": neuron, "prompt": name, "reply": reply, "explanation": text,
                   "words": len(text.split()), "shuffled_from": partner}
            for key, given in (("", text), ("shuffled_", texts[partner, name][1])):
                corr = auc = None
                if given:
                    scores = score_explanation(given, scored, simulator, encoder)
                    corr = scores.correlation.value
                    auc = scores.embedding_auc.value if scores.embedding_auc else None
                row[f"{key}correlation"], row[f"{key}embedding_auc"] = corr, auc
            row["margin"] = (row["correlation"] or 0.0) - (row["shuffled_correlation"] or 0.0)
            rows.append(row)
            print(f"{neuron:5d} {name:6s} r={_r(row['correlation'])} shuffled="
                  f"{_r(row['shuffled_correlation'])} {text!r}", flush=True)
    rng = np.random.default_rng(0)
    summary = {}
    for name in PROMPTS:
        mine = [r for r in rows if r["prompt"] == name]
        values = [r["correlation"] if r["correlation"] is not None else 0.0 for r in mine]
        aucs = [r["embedding_auc"] for r in mine if r["embedding_auc"] is not None]
        margins = np.array([r["margin"] for r in mine])
        summary[name] = {"neurons": len(mine), "mean_correlation": float(np.mean(values)),
                         "mean_margin_over_shuffled": float(margins.mean()),
                         "margin_ci95": _interval(margins, rng),
                         "beats_shuffled": int((margins > 0).sum()),
                         "mean_embedding_auc": float(np.mean(aucs)) if aucs else None,
                         "median_words": float(np.median([r["words"] for r in mine])),
                         "one_word": sum(r["words"] <= 1 for r in mine)}
    by = {(r["neuron"], r["prompt"]): r["margin"] for r in rows}
    against_plain = {}
    for name in PROMPTS:
        if name == "plain":
            continue
        diff = np.array([by[n, name] - by[n, "plain"] for n, _ in chosen])
        against_plain[name] = {"mean": float(diff.mean()) if diff.size else None,
                               "ci95": _interval(diff, rng), "better": int((diff > 0).sum()),
                               "plain_better": int((diff < 0).sum())}
    result = {"parameters": vars(args), "records_model": store.model, "versions": versions(),
              "seconds": round(time.monotonic() - start, 1), "summary": summary,
              "minus_plain_of": "margin over the shuffled control (correlation minus the correlation "
                                "of the next neuron's explanation on this neuron's records)",
              "minus_plain": against_plain,
              "rows": rows}
    out = Path(args.out)
    write_json_atomic(out.with_suffix(".json"), result)
    out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    return result


def _r(value: float | None) -> str:
    return "undef" if value is None else f"{value:+.3f}"


def _records(p: dict) -> str:
    k = p["score_records"]
    return "all top and random records" if k == 0 else f"at most {k} top and {k} random records"


def _interval(values: np.ndarray, rng: np.random.Generator) -> list[float] | None:
    """Bootstrap 95% interval of the mean (2000 resamples)."""
    if not values.size:
        return None
    boot = [float(np.mean(rng.choice(values, values.size))) for _ in range(2000)]
    return [float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))]


def markdown(result: dict) -> str:
    p = result["parameters"]
    lines = ["# Explainer prompts compared", "",
             f"Explainer {p['explainer']}, simulator {p['simulator']}, records of "
             f"{result['records_model']} layer {p['layer']} neurons {p['neurons']}; each "
             f"explanation scored on {_records(p)} of the calibration and held-out sets "
             "(correlation pooled over "
             "held-out tokens; an empty explanation counts 0). Shuffled control: the next "
             "neuron's explanation from the same prompt, scored on this neuron's records; "
             "intervals: 95% bootstrap over neurons.", "",
             "| prompt | neurons | mean correlation | minus shuffled (95% interval) | beats shuffled | "
             "mean embedding AUC | median words | one-word answers |", "|---|---|---|---|---|---|---|---|"]
    for name, s in result["summary"].items():
        auc = "n/a" if s["mean_embedding_auc"] is None else f"{s['mean_embedding_auc']:.3f}"
        m = s["margin_ci95"]
        lines.append(f"| {name} | {s['neurons']} | {s['mean_correlation']:.3f} | "
                     f"{s['mean_margin_over_shuffled']:+.3f} [{m[0]:+.3f}, {m[1]:+.3f}] | "
                     f"{s['beats_shuffled']} | {auc} | {s['median_words']:.0f} | {s['one_word']} |")
    lines.append("")
    for name, d in result["minus_plain"].items():
        ci = d["ci95"]
        lines.append(f"{name.capitalize()} minus plain, per neuron, in margin over the shuffled control: "
                     f"mean {d['mean']:+.3f}" + (f", bootstrap 95% interval [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")
                     + f"; {name} better on {d['better']}, plain on {d['plain_better']}.")
    lines += ["",
              "| neuron | prompt | correlation | shuffled | embedding AUC | explanation |",
              "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        auc = "undef" if r["embedding_auc"] is None else f"{r['embedding_auc']:.3f}"
        lines.append(f"| {r['neuron']} | {r['prompt']} | {_r(r['correlation'])} | "
                     f"{_r(r['shuffled_correlation'])} | {auc} | {r['explanation']} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--records", required=True, help="records folder (DIR/MODEL)")
    parser.add_argument("--layer", type=int, required=True)
    parser.add_argument("--neurons", default="0-9")
    parser.add_argument("--explainer", default="qwen2.5-coder-0.5b")
    parser.add_argument("--simulator", default="embedding",
                        help="'embedding' (MiniLM, judge-free) or a local model simulating all at once")
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
