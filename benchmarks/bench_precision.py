"""What reduced precision changes: a model in bfloat16 (or float16) against float32.

Two measurements on the same model, both precisions loaded side by side:

1. Projection: for units of a few layers, the top-tau and bottom-tau token sets of each unit in
   both precisions; per unit the overlap |A & B| / tau, summarised per layer and mode (mean, 5th
   percentile, minimum, share of units with identical sets), and the same for the word pools.
2. Activations: the MLP neuron activations (input of the down projection) over the same token
   sequences of the default corpus; per neuron the Pearson correlation between the two
   precisions, pooled over every token, for a few chosen neurons and summarised over all neurons
   of the layer.

    python benchmarks/bench_precision.py                           # SmolLM2, bfloat16, on the CPU
    python benchmarks/bench_precision.py --device cuda --dtype float16 --json results/x.json

Writes a table to stdout and every figure to ``--json`` (default results/bench_precision.json).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from harness import load_average, machine, parser, write_result

from superpose.config import DEFAULT_DEVICE, ProjectionConfig

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, |set(a_i) & set(b_i)| / len(a_i)."""
    return np.array([len(set(x.tolist()) & set(y.tolist())) / max(1, len(x)) for x, y in zip(a, b, strict=True)])


def _summary(values: np.ndarray) -> dict[str, float]:
    return {"mean": round(float(values.mean()), 4), "p05": round(float(np.quantile(values, 0.05)), 4),
            "min": round(float(values.min()), 4), "identical_share": round(float(np.mean(values == 1.0)), 4)}


def projection_overlap(full, reduced, mode: str, layer: int, units: np.ndarray, tau: int, token_words) -> dict:
    from superpose.projection.project import project_layer

    a = project_layer(full, mode, layer, units, tau=tau)
    b = project_layer(reduced, mode, layer, units, tau=tau)
    row = {"mode": mode, "layer": layer, "units": len(units), "tau": tau,
           "top_tokens": _summary(_overlap(a.top_ids, b.top_ids)),
           "bottom_tokens": _summary(_overlap(a.bottom_ids, b.bottom_ids))}
    if token_words is not None:
        pools = [(token_words.pool(x), token_words.pool(y)) for x, y in zip(a.top_ids, b.top_ids, strict=True)]
        row["top_pool_words"] = _summary(np.array([len(set(x.tolist()) & set(y.tolist())) / max(1, len(x))
                                                   for x, y in pools]))
    return row


def activations(lm, layers: list[int], sequences: np.ndarray, batch: int) -> dict[int, np.ndarray]:
    """(tokens, neurons) float32 activations of each layer, for all sequences."""
    from superpose.activations.collect import forward_layers

    modules = {layer: lm.adapter.mlp_out_proj(lm.adapter.blocks(lm.model)[layer]) for layer in layers}
    parts: dict[int, list[np.ndarray]] = {layer: [] for layer in layers}

    def consume(layer, acts, _seq_ids):
        parts[layer].append(acts.reshape(-1, acts.shape[-1]).numpy().copy())

    forward_layers(lm.model, modules, sequences, batch, consume, None)
    return {layer: np.concatenate(chunks) for layer, chunks in parts.items()}


def _pearson_columns(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64) - x.mean(0)
    y = y.astype(np.float64) - y.mean(0)
    denom = np.sqrt((x * x).sum(0) * (y * y).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (x * y).sum(0) / denom, np.nan)


def main() -> None:
    ap = parser(__doc__, str(ROOT / "results" / "bench_precision.json"), model=True, threads=1, out_alias="--json")
    ap.add_argument("--dtype", default="bfloat16", help="the reduced precision: bfloat16 or float16")
    ap.add_argument("--device", default=DEFAULT_DEVICE, help="cpu, cuda or auto (both precisions run there)")
    ap.add_argument("--layers", default="0,10,20,29", help="layers measured")
    ap.add_argument("--modes", default="hi-c,hi-i", help="projection modes measured")
    ap.add_argument("--units", type=int, default=512, help="units per layer (the first N; 0: all)")
    ap.add_argument("--tau", type=int, default=ProjectionConfig.tau)
    ap.add_argument("--neurons", default="0,1,2,3,100,500,1000,1535", help="neurons reported one by one")
    ap.add_argument("--sequences", type=int, default=64, help="sequences of 64 tokens for activations")
    default_corpus = ROOT / "corpus" / "build" / "default"
    ap.add_argument("--corpus", default=str(default_corpus) if default_corpus.is_dir() else "",
                        help="corpus folder for the pool overlap (default: corpus/build/default if built)")
    args = ap.parse_args()

    import torch

    from superpose.activations.collect import cut_sequences
    from superpose.corpus.sources import iter_documents
    from superpose.models import load_model
    from superpose.projection.pools import TokenWords
    from superpose.projection.run import CorpusWords

    torch.set_num_threads(args.threads)
    start = machine()
    started = time.perf_counter()
    full = load_model(args.model, device=args.device, dtype="float32")
    reduced = load_model(args.model, device=args.device, dtype=args.dtype)
    layers = [int(x) for x in args.layers.split(",")]
    token_words = None
    if args.corpus and Path(args.corpus).is_dir():
        token_words = TokenWords.build(full.tokenizer, CorpusWords.load(args.corpus).index, full.vocab_size)
    rows = []
    print(f"{'mode':<5} {'layer':>5} {'units':>5}  top overlap mean/p05/min  bottom overlap mean/p05/min  "
          "identical top sets")
    for mode in args.modes.split(","):
        width = full.n_neurons if mode.startswith("hi") else full.hidden_size
        units = np.arange(width if args.units <= 0 else min(args.units, width))
        for layer in layers:
            row = projection_overlap(full, reduced, mode, layer, units, args.tau, token_words)
            rows.append(row)
            t, b = row["top_tokens"], row["bottom_tokens"]
            print(f"{mode:<5} {layer:>5} {len(units):>5}  {t['mean']:.4f}/{t['p05']:.4f}/{t['min']:.4f}"
                  f"           {b['mean']:.4f}/{b['p05']:.4f}/{b['min']:.4f}           {t['identical_share']:.3f}",
                  flush=True)

    def documents():
        yield from iter_documents("default")

    sequences = cut_sequences(full.tokenizer, documents(), 64, args.sequences * 64)
    acts_full = activations(full, layers, sequences, 16)
    acts_reduced = activations(reduced, layers, sequences, 16)
    chosen = [int(x) for x in args.neurons.split(",")]
    corr_rows = []
    for layer in layers:
        r = _pearson_columns(acts_full[layer], acts_reduced[layer])
        valid = r[np.isfinite(r)]
        corr_rows.append({"layer": layer, "tokens": int(acts_full[layer].shape[0]),
                          "neurons": {str(n): round(float(r[n]), 5) for n in chosen if n < len(r)},
                          "all_neurons": {"mean": round(float(valid.mean()), 5),
                                          "p01": round(float(np.quantile(valid, 0.01)), 5),
                                          "min": round(float(valid.min()), 5), "count": int(valid.size)}})
        print(f"activations layer {layer}: pooled correlation {args.dtype} vs float32 over "
              f"{acts_full[layer].shape[0]} tokens: mean {corr_rows[-1]['all_neurons']['mean']}, "
              f"1st percentile {corr_rows[-1]['all_neurons']['p01']}, min {corr_rows[-1]['all_neurons']['min']}; "
              f"chosen neurons {corr_rows[-1]['neurons']}", flush=True)
    record = {"model": args.model, "reduced": args.dtype, "device": args.device, "threads": args.threads,
              "tau": args.tau, "projection": rows, "activations": corr_rows,
              "seconds": round(time.perf_counter() - started, 1),
              "load_average_before": start["load_average"], "load_average_after": load_average(),
              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print(f"written {write_result(args.out, record, start=start)}")


if __name__ == "__main__":
    main()
