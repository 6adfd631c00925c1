"""Benchmark: one full layer mined by the local executor and by the Ray executor, same files?

Projects the layer once (Hi-C, tau 900, the default corpus), then mines it four times into fresh
folders that start from that projection: local (``--workers`` processes), Ray with a local cluster
the executor starts itself (its start-up counted), Ray joining a cluster started beforehand (the
usual case on a real cluster), and local again (drift of the shared machine). Reports each run's
mining time (``run.json``'s ``mining_seconds_now``: from the first task to the last file), the
ratios to the mean of the two local runs, and whether every per-unit file and bulk table is
byte-identical to the first local run's. Writes results/bench_ray.json.

    python benchmarks/bench_ray.py --corpus corpus/build/default --layer 15
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from harness import machine, write_result

from superpose.config import ExecutionConfig, MiningConfig, parse_workers
from superpose.core.provenance import versions
from superpose.pipeline import mine

SUFFIXES = ("_pool.txt", "_isets.csv", "_topics.csv", ".csv.gz")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.endswith(SUFFIXES)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="corpus/build/default")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--layer", type=int, default=15)
    parser.add_argument("--neurons", default=None, help="default: the whole layer")
    parser.add_argument("--workers", type=parse_workers, default=ExecutionConfig.workers,
                        help="processes or Ray CPUs: a number or auto (the available cores)")
    parser.add_argument("--out", default="results/bench_ray.json")
    args = parser.parse_args()
    args.workers = ExecutionConfig(workers=args.workers).workers  # auto: the available cores
    import ray

    start = machine()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)

        def run(name: str, execution: ExecutionConfig) -> Path:
            out = base / name
            first = base / "local-1"
            if first.exists():  # start from the same projection: only the mining is measured
                target = out / args.model / "hi-c"
                target.mkdir(parents=True)
                for layer_file in (first / args.model / "hi-c").glob("layer_*"):
                    shutil.copy(layer_file, target / layer_file.name)
            started = time.perf_counter()
            folder = mine(args.model, args.corpus, str(out), layers=str(args.layer), neurons=args.neurons,
                          mining=MiningConfig(), execution=execution, progress=False)
            wall = time.perf_counter() - started
            mining_s = json.loads((folder / "run.json").read_text())["mining_seconds_now"]
            runs.append({"run": name, "executor": execution.executor, "mining_s": mining_s,
                         "wall_s": round(wall, 1), "load_average": [round(x, 2) for x in os.getloadavg()]})
            print(json.dumps(runs[-1]), flush=True)
            return folder

        reference = _files(run("local-1", ExecutionConfig(workers=args.workers)))
        same = {}
        folder = run("ray-own-cluster", ExecutionConfig(executor="ray", workers=args.workers))
        same["ray-own-cluster"] = _files(folder) == reference
        started = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        cluster_start_s = round(time.perf_counter() - started, 1)
        try:
            folder = run("ray-running-cluster", ExecutionConfig(executor="ray", workers=args.workers))
            same["ray-running-cluster"] = _files(folder) == reference
        finally:
            ray.shutdown()
        folder = run("local-2", ExecutionConfig(workers=args.workers))
        same["local-2"] = _files(folder) == reference
        files = len(reference)
    local = (runs[0]["mining_s"] + runs[-1]["mining_s"]) / 2
    result = {"model": args.model, "layer": args.layer, "neurons": args.neurons or "all", "workers": args.workers,
              "runs": runs, "ratio_to_local": {r["run"]: round(r["mining_s"] / local, 3) for r in runs},
              "cluster_start_s": cluster_start_s, "files_compared": files, "byte_identical_to_local": same,
              "load_average_before": start["load_average"], "versions": versions(extra=("ray",))}
    write_result(args.out, result, start=start)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
