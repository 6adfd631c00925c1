"""Benchmark the projection against its hardware floor, per mode, and batched versus one-by-one.

Each mode runs in its own child process so that its peak resident memory (``ru_maxrss``) is its
own; a child loads the model (from the cache) and, layer by layer, projects the layer exactly as
``superpose project`` does (logits, top/bottom tau, pools when a corpus is given, layer file
written to a temporary folder) and measures the *floor* of the same layer: the bare matrix
products the projection cannot avoid (per remaining block the attention's value and output
products and the MLP's, then the unembedding, on random inputs of the same shapes and dtype)
plus selecting the top and bottom tau with two ``torch.topk`` calls. It also measures the
*exact floor*: the same bare products in float64, the narrowest type in which a product of
rounded operands can be summed exactly (what any batch-invariant projection must at least pay on
a machine whose float64 rate is below its float32 rate). Projection and floors rotate in order
from layer to layer, so load from other processes on a shared machine falls on all alike; the
ratios projection / floor and projection / exact floor are reported per mode with the load average.
The projection is the batch-invariant one (exact products, ranking by exact scores; its rows do
not depend on the batch); the child also reports, on one layer, how often its top ids agree with
the plain float32 full forward (``full_blocks=True``, the previous implementation): as sets, and in
order (near-equal logits can swap there). A last child times the batched
path against a neuron-by-neuron loop (batch size 1) on the same layer in the same process.

    python benchmarks/bench_projection.py                       # all modes, whole default model
    python benchmarks/bench_projection.py --modes hi-c --layers 0-3 --threads 2

Writes a table to stdout and the figures to ``--out`` (default results/bench_projection.json; ``--json``
is the older spelling), under the shared harness's header (machine, load, versions).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from harness import machine, run_child, write_result
from harness import parser as harness_parser

from superpose.config import Placement, ProjectionConfig

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "corpus" / "build" / "default"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _peak_gpu_mb(lm) -> float | None:
    """Peak memory torch allocated on the model's GPU; None on the CPU."""
    import torch

    if lm.placement.device == "cpu":
        return None
    return round(torch.cuda.max_memory_allocated(lm.placement.torch_device) / 2**20, 1)


def _cpu_s() -> float:
    """CPU seconds of this process (all threads): on a busy shared machine, wall time overstates
    the cost and CPU time / threads approximates the wall time of an idle machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _setup(args: argparse.Namespace):
    sys.path.insert(0, str(ROOT))
    from superpose.models import load_model

    started = time.perf_counter()
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    lm = load_model(args.model, device=args.device, dtype=args.dtype)
    return lm, time.perf_counter() - started


def _floor_shapes(lm) -> list[tuple[int, int]]:
    """(in, out) of the matrix products of one block at one position that the projection needs:
    attention values and output (queries and keys are not needed), then the MLP's."""
    config = lm.model.config
    heads = getattr(config, "num_attention_heads", None) or config.n_head
    head_dim = getattr(config, "head_dim", None) or lm.hidden_size // heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    block = lm.adapter.blocks(lm.model)[0]
    gated = any(name.endswith("gate_proj") for name, _ in block.named_modules())
    mlp = [(lm.hidden_size, lm.n_neurons)] * (2 if gated else 1) + [(lm.n_neurons, lm.hidden_size)]
    return [(lm.hidden_size, kv_heads * head_dim), (heads * head_dim, lm.hidden_size)] + mlp


_UNEMBED: dict = {}


def _unembedding(lm, dtype):
    """The unembedding weight in ``dtype``, converted once (outside the timed floors)."""
    key = (id(lm), dtype)
    if key not in _UNEMBED:
        _UNEMBED[key] = lm.adapter.unembedding(lm.model).weight.to(dtype)
    return _UNEMBED[key]


def floor_layer(lm, mode: str, layer: int, n_units: int, tau: int, batch: int, exact: bool = False) -> None:
    """The floor of one layer: bare products of the same shapes, then two top-k selections;
    ``exact``: the products in float64 (the exact floor)."""
    import torch

    from superpose.projection.project import block_indices

    device = lm.placement.torch_device
    dtype = torch.float64 if exact else lm.placement.torch_dtype
    gen = torch.Generator(device=device).manual_seed(layer)
    shapes = _floor_shapes(lm)
    weights = [torch.randn(o, i, generator=gen, dtype=dtype, device=device) for i, o in shapes]
    unembed = _unembedding(lm, dtype)
    blocks = len(block_indices(lm, mode, layer))
    with torch.inference_mode():
        for start in range(0, n_units, batch):
            b = min(batch, n_units - start)
            inputs = [torch.randn(b, i, generator=gen, dtype=dtype, device=device) for i, _ in shapes]
            for _ in range(blocks):
                for x, w in zip(inputs, weights, strict=True):
                    torch.nn.functional.linear(x, w)
            logits = torch.nn.functional.linear(inputs[0], unembed).float()
            torch.topk(logits, tau, dim=1, largest=True, sorted=True).indices.cpu()
            torch.topk(logits, tau, dim=1, largest=False, sorted=True).indices.cpu()


def child_mode(args: argparse.Namespace) -> dict:
    """Project every chosen layer of one mode as the CLI does, and its floor, alternately."""
    lm, load_s = _setup(args)
    import numpy as np

    from superpose.core.ranges import parse_range
    from superpose.projection.pools import TokenWords
    from superpose.projection.project import auto_batch, n_units, project_layer
    from superpose.projection.run import CorpusWords, layer_meta, save_projection
    from superpose.projection.store import layer_path

    layers = parse_range(args.layers, lm.n_layers, "layer")
    corpus = CorpusWords.load(args.corpus) if args.corpus else None
    units = np.arange(n_units(lm, args.child))
    batch = auto_batch(lm, args.batch_size)
    token_words = corpus_meta = None
    if corpus is not None:
        token_words = TokenWords.build(lm.tokenizer, corpus.index, lm.vocab_size)
        corpus_meta = dict(corpus.identity, mapped_tokens=token_words.n_mapped,
                           mapped_words=token_words.n_words)
    times = {"compute": 0.0, "write": 0.0, "floor": 0.0, "floor64": 0.0}
    cpu = {"project": 0.0, "floor": 0.0, "floor64": 0.0}
    load_before = os.getloadavg()
    for exact in (False, True):  # warm-up
        floor_layer(lm, args.child, layers[0], min(len(units), batch), args.tau, batch, exact)
    rotation = ("project", "floor", "floor64")
    with tempfile.TemporaryDirectory() as out:
        for i, layer in enumerate(layers):
            for what in rotation[i % 3:] + rotation[:i % 3]:
                started, cpu0 = time.perf_counter(), time.process_time()
                if what != "project":
                    floor_layer(lm, args.child, layer, len(units), args.tau, batch, what == "floor64")
                    times[what] += time.perf_counter() - started
                    cpu[what] += time.process_time() - cpu0
                    continue
                projection = project_layer(lm, args.child, layer, units, tau=args.tau,
                                           batch_size=args.batch_size)
                computed = time.perf_counter()
                meta = layer_meta(lm, args.child, layer, args.tau, units, corpus_meta)
                save_projection(layer_path(out, lm.name, args.child, layer), projection, meta,
                                token_words)
                times["compute"] += computed - started
                times["write"] += time.perf_counter() - computed
                cpu["project"] += time.process_time() - cpu0
        size = sum(f.stat().st_size for f in Path(out).rglob("*.npz"))
    check_layer = layers[len(layers) // 2]
    sample = units[:2 * batch]
    fast = project_layer(lm, args.child, check_layer, sample, tau=args.tau)
    full = project_layer(lm, args.child, check_layer, sample, tau=args.tau, full_blocks=True)
    same_order = float(np.mean((fast.top_ids == full.top_ids).all(1)))
    same_set = float(np.mean([len(np.intersect1d(a, b)) / args.tau
                              for a, b in zip(fast.top_ids, full.top_ids, strict=True)]))
    project_s = times["compute"] + times["write"]
    return {"mode": args.child, "layers": len(layers), "units": len(units) * len(layers),
            "batch_size": batch, "pools": corpus is not None, "load_s": round(load_s, 2),
            "project_s": round(project_s, 2), "compute_s": round(times["compute"], 2),
            "write_s": round(times["write"], 2), "floor_s": round(times["floor"], 2),
            "ratio": round(project_s / times["floor"], 3),
            "project_cpu_s": round(cpu["project"], 2), "floor_cpu_s": round(cpu["floor"], 2),
            "ratio_cpu": round(cpu["project"] / cpu["floor"], 3),
            "floor64_s": round(times["floor64"], 2), "floor64_cpu_s": round(cpu["floor64"], 2),
            "ratio_exact_floor": round(project_s / times["floor64"], 3),
            "floor64_over_floor": round(times["floor64"] / times["floor"], 3),
            "units_per_s": round(len(units) * len(layers) / project_s, 1),
            "agreement_with_float32_full_blocks": {"layer": int(check_layer), "units": len(sample),
                                                   "same_top_order": round(same_order, 4),
                                                   "same_top_set": round(same_set, 5)},
            "files_mb": round(size / 2**20, 1), "peak_rss_mb": round(_peak_mb(), 1),
            "peak_gpu_mb": _peak_gpu_mb(lm), "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def child_loop(args: argparse.Namespace) -> dict:
    """Batched versus one neuron at a time, Hi-C, on layer ``--loop-layer``, same process."""
    lm, _ = _setup(args)
    from superpose.projection.project import auto_batch, project_layer

    layer, batch = args.loop_layer, auto_batch(lm, args.batch_size)
    sample_batched = list(range(min(lm.n_neurons, 2 * batch)))
    sample_loop = list(range(args.loop_sample))
    project_layer(lm, "hi-c", layer, sample_loop[:2], tau=args.tau)  # warm-up
    started = time.perf_counter()
    project_layer(lm, "hi-c", layer, sample_batched, tau=args.tau, batch_size=batch)
    batched = (time.perf_counter() - started) / len(sample_batched)
    started = time.perf_counter()
    project_layer(lm, "hi-c", layer, sample_loop, tau=args.tau, batch_size=1)
    looped = (time.perf_counter() - started) / len(sample_loop)
    return {"mode": "hi-c", "layer": layer, "batch_size": batch,
            "batched_neurons": len(sample_batched), "loop_neurons": len(sample_loop),
            "batched_ms_per_neuron": round(batched * 1e3, 3),
            "loop_ms_per_neuron": round(looped * 1e3, 3), "speedup": round(looped / batched, 1),
            "loop_layer_s_extrapolated": round(looped * lm.n_neurons, 1),
            "batched_layer_s_extrapolated": round(batched * lm.n_neurons, 1)}


def _run_child(args: argparse.Namespace, what: str) -> dict:
    """One mode (or the loop comparison) in its own process, through the shared harness."""
    cmd = [sys.executable, __file__, "--child", what, "--model", args.model, "--tau", str(args.tau),
           "--threads", str(args.threads), "--loop-layer", str(args.loop_layer),
           "--loop-sample", str(args.loop_sample), "--device", args.device, "--dtype", args.dtype]
    for flag, value in (("--layers", args.layers), ("--corpus", args.corpus),
                        ("--batch-size", args.batch_size)):
        if value is not None:
            cmd += [flag, str(value)]
    return run_child(cmd)[0]


def main() -> None:
    parser = harness_parser(__doc__.splitlines()[0], str(ROOT / "results" / "bench_projection.json"), model=True,
                            threads=1, out_alias="--json")
    parser.add_argument("--modes", default="hi-c,hi-i,lo-c,lo-i", help="comma-separated modes")
    parser.add_argument("--layers", default=None, help="layer range (default: all)")
    parser.add_argument("--tau", type=int, default=ProjectionConfig.tau)
    parser.add_argument("--batch-size", type=int, default=None, help="default: automatic")
    parser.add_argument("--device", default=Placement.device, help="cpu, cuda or auto")
    parser.add_argument("--dtype", default=Placement.dtype, help="float32, bfloat16 or float16")
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS) if DEFAULT_CORPUS.is_dir() else None,
                        help="corpus folder for pools (default: corpus/build/default if built)")
    parser.add_argument("--loop-layer", type=int, default=0, help="layer of the loop comparison")
    parser.add_argument("--loop-sample", type=int, default=32, help="neurons run one by one")
    parser.add_argument("--no-loop", action="store_true", help="skip the loop comparison")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        result = child_loop(args) if args.child == "loop" else child_mode(args)
        print(json.dumps(result))
        return

    start = machine()
    modes = [] if not args.modes else args.modes.split(",")
    results = []
    print(f"{'mode':<6} {'layers':>6} {'units':>7} {'batch':>5} {'project s':>9} {'floor s':>8} "
          f"{'ratio':>6} {'cpu ratio':>9} {'/f64':>5} {'write s':>7} {'peak MB':>8} same-set load")
    for mode in modes:
        row = _run_child(args, mode)
        results.append(row)
        print(f"{row['mode']:<6} {row['layers']:>6} {row['units']:>7} {row['batch_size']:>5} "
              f"{row['project_s']:>9} {row['floor_s']:>8} {row['ratio']:>6} {row['ratio_cpu']:>9} "
              f"{row['ratio_exact_floor']:>5} "
              f"{row['write_s']:>7} {row['peak_rss_mb']:>8} "
              f"{row['agreement_with_float32_full_blocks']['same_top_set']!s:>8} "
              f"{row['load_average_before'][0]}->{row['load_average_after'][0]}", flush=True)
    loop = None if args.no_loop else _run_child(args, "loop")
    if loop:
        print(f"hi-c layer {loop['layer']}: batched {loop['batched_ms_per_neuron']} ms/neuron "
              f"({loop['batched_neurons']} neurons, batch {loop['batch_size']}), one by one "
              f"{loop['loop_ms_per_neuron']} ms/neuron ({loop['loop_neurons']} neurons): "
              f"speed-up x{loop['speedup']}")
    record = {"model": args.model, "tau": args.tau, "threads": args.threads,
              "device": args.device, "dtype": args.dtype,
              "layers": args.layers or "all", "corpus": args.corpus, "modes": results,
              "batched_vs_loop": loop}
    print(f"written {write_result(args.out, record, start=start)}")


if __name__ == "__main__":
    main()
