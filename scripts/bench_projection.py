"""Benchmark the projection: time and peak memory per mode, and batched versus one-by-one.

Each mode runs in its own child process so that its peak resident memory (``ru_maxrss``) is its
own; a child loads the model (from the cache), projects the chosen layers exactly as
``superpose project`` does (logits, top/bottom tau, pools when a corpus is given, layer files
written to a temporary folder) and reports JSON. A last child times the batched path against a
neuron-by-neuron loop (batch size 1) on the same layer in the same process.

    python scripts/bench_projection.py                       # all modes, whole default model
    python scripts/bench_projection.py --modes hi-c --layers 0-3 --threads 2

Writes a table to stdout and the figures to ``--json`` (default results/bench_projection.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "corpus" / "build" / "default"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_s() -> float:
    """CPU seconds of this process (all threads): on a busy shared machine, wall time overstates
    the cost and CPU time / threads approximates the wall time of an idle machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _setup(args: argparse.Namespace):
    sys.path.insert(0, str(ROOT))
    from superpose.models import load_model

    started = time.perf_counter()
    lm = load_model(args.model, threads=args.threads)
    return lm, time.perf_counter() - started


def child_mode(args: argparse.Namespace) -> dict:
    """Project every chosen layer of one mode, as the CLI does; report time and peak memory."""
    lm, load_s = _setup(args)
    from superpose.core.ranges import parse_range
    from superpose.projection.project import auto_batch, n_units
    from superpose.projection.run import CorpusWords, project_to_files

    layers = parse_range(args.layers, lm.n_layers, "layer")
    corpus = CorpusWords.load(args.corpus) if args.corpus else None
    units = n_units(lm, args.child)
    with tempfile.TemporaryDirectory() as out:
        started, cpu = time.perf_counter(), _cpu_s()
        project_to_files(lm, args.child, layers, out, tau=args.tau, corpus=corpus,
                         batch_size=args.batch_size, overwrite=True)
        seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
        size = sum(f.stat().st_size for f in Path(out).rglob("*.npz"))
    return {"mode": args.child, "layers": len(layers), "units": units * len(layers),
            "batch_size": auto_batch(lm, args.batch_size), "pools": corpus is not None,
            "load_s": round(load_s, 2), "project_s": round(seconds, 2),
            "project_cpu_s": round(cpu, 2),
            "units_per_s": round(units * len(layers) / seconds, 1),
            "files_mb": round(size / 2**20, 1), "peak_rss_mb": round(_peak_mb(), 1)}


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
    cmd = [sys.executable, __file__, "--child", what, "--model", args.model, "--tau", str(args.tau),
           "--threads", str(args.threads), "--loop-layer", str(args.loop_layer),
           "--loop-sample", str(args.loop_sample)]
    for flag, value in (("--layers", args.layers), ("--corpus", args.corpus),
                        ("--batch-size", args.batch_size)):
        if value is not None:
            cmd += [flag, str(value)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child {what} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--modes", default="hi-c,hi-i,lo-c,lo-i", help="comma-separated modes")
    parser.add_argument("--layers", default=None, help="layer range (default: all)")
    parser.add_argument("--tau", type=int, default=900)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1 was fastest on the shared 2-core machine)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: automatic")
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS) if DEFAULT_CORPUS.is_dir() else None,
                        help="corpus folder for pools (default: corpus/build/default if built)")
    parser.add_argument("--loop-layer", type=int, default=0, help="layer of the loop comparison")
    parser.add_argument("--loop-sample", type=int, default=32, help="neurons run one by one")
    parser.add_argument("--no-loop", action="store_true", help="skip the loop comparison")
    parser.add_argument("--json", default=str(ROOT / "results" / "bench_projection.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        result = child_loop(args) if args.child == "loop" else child_mode(args)
        print(json.dumps(result))
        return

    load_before = os.getloadavg()
    modes = [] if not args.modes else args.modes.split(",")
    results = []
    print(f"{'mode':<6} {'layers':>6} {'units':>7} {'batch':>5} {'load s':>7} {'project s':>9} "
          f"{'cpu s':>8} {'units/s':>8} {'peak MB':>8} {'files MB':>8} pools")
    for mode in modes:
        row = _run_child(args, mode)
        results.append(row)
        print(f"{row['mode']:<6} {row['layers']:>6} {row['units']:>7} {row['batch_size']:>5} "
              f"{row['load_s']:>7} {row['project_s']:>9} {row['project_cpu_s']:>8} "
              f"{row['units_per_s']:>8} "
              f"{row['peak_rss_mb']:>8} {row['files_mb']:>8} {row['pools']}", flush=True)
    loop = None if args.no_loop else _run_child(args, "loop")
    if loop:
        print(f"hi-c layer {loop['layer']}: batched {loop['batched_ms_per_neuron']} ms/neuron "
              f"({loop['batched_neurons']} neurons, batch {loop['batch_size']}), one by one "
              f"{loop['loop_ms_per_neuron']} ms/neuron ({loop['loop_neurons']} neurons): "
              f"speed-up x{loop['speedup']}")
    record = {"model": args.model, "tau": args.tau, "threads": args.threads,
              "layers": args.layers or "all", "corpus": args.corpus, "modes": results,
              "batched_vs_loop": loop, "machine": {
                  "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                  "load_average_before": [round(x, 2) for x in load_before],
                  "load_average_after": [round(x, 2) for x in os.getloadavg()]},
              "python": platform.python_version(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                          time.gmtime())}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
