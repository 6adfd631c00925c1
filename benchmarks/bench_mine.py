"""Benchmark: a whole model mined end to end (Hi-C, tau 900, every unit and polarity, default corpus).

Runs `superpose mine` with default settings (``--layout auto``: shards, ``--workers`` processes)
on ``--layers`` (default: all 30 layers of SmolLM2-135M, 92,160 unit-polarities) into a temporary
folder, projection included, and records:

* wall and CPU time per stage (set-up; the projection, on all threads before the mining, or in a
  thread of this process beside the workers where it takes no core from them (a GPU, or threads
  that ``--workers`` leaves): ``projection_beside_mining``; mining: CPU of this process less the
  projection, and of the worker processes), pools per second, topics found, peak memory of the
  parent and of a worker;
* how busy the cores were: the CPU seconds of this process and its workers in every second of
  the run (``cores_busy``), and the seconds in which they used less than ``cores - 0.2``;
* where one pool's CPU goes (pair counts, NPMI submatrix, shortlist, solver), measured in this
  process on every ``--sample``-th unit of ``--compare-layer``, and the parent's time writing;
* ``--compare-layer`` mined again from the same projection with the local and the Ray
  executors (local, Ray, local: the two local runs show the machine's drift).

The machine's load average is recorded with every figure. Writes results/bench_mine.json.

    python benchmarks/bench_mine.py --corpus corpus/build/default
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from harness import hwm_mb, load_average, machine, parser, write_result

import superpose.mining.store as mining_store
import superpose.pipeline as pipeline
import superpose.projection.run as projection_run
from superpose.config import ExecutionConfig, MiningConfig
from superpose.core.provenance import versions
from superpose.mining.store import PaperWriter


def _cpu() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


_TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu(root: int) -> tuple[float, float]:
    """(CPU seconds so far of process ``root`` and of its living children, the largest peak
    resident memory of those children in MB), from /proc."""
    total, peak = 0.0, 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == root or int(fields[1]) == root:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / _TICK
            if int(entry.name) != root:
                peak = max(peak, hwm_mb(entry.name))  # a spawned worker's own peak
    return total, peak


class BusyTrace:
    """CPU seconds used by this process and its workers in each second (a sampler thread), and
    the workers' largest peak resident memory seen (``worker_peak_mb``)."""

    def __init__(self, period: float = 1.0) -> None:
        self.period, self.samples, self.worker_peak_mb = period, [], 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pid, (before, _), last = os.getpid(), _tree_cpu(os.getpid()), time.perf_counter()
        while not self._stop.wait(self.period):
            now, (used, peak) = time.perf_counter(), _tree_cpu(pid)
            self.worker_peak_mb = max(self.worker_peak_mb, peak)
            # a worker that exited between samples takes its CPU with it: never below 0
            self.samples.append(round(max(0.0, used - before) / (now - last), 2))
            before, last = used, now

    def __enter__(self) -> BusyTrace:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self, cores: int) -> dict:
        busy = np.asarray(self.samples or [0.0])
        return {"period_s": self.period, "mean_cores_busy": round(float(busy.mean()), 2),
                "seconds_below_full": int((busy < cores - 0.2).sum()), "seconds": len(self.samples),
                "cores_busy": self.samples}


class Stages:
    """Wraps the projection, the mining stage and the writers' ``add`` to time them (instrumentation only)."""

    def __init__(self) -> None:
        self.mining: dict = {}
        self.projection: dict = {"cpu_s": 0.0, "save_cpu_s": 0.0}
        self.write_s = 0.0  # wall seconds writing the tables (shards: in the writer's thread)
        self.write_cpu_s = 0.0  # CPU seconds of the thread writing them
        self._originals = (pipeline.mine_to_files, mining_store.write_shard, PaperWriter.add,
                           projection_run.project_to_files, projection_run.save_projection)

    def __enter__(self) -> Stages:
        mine_to_files, write_shard, paper_add, project_to_files, save_projection = self._originals

        def timed_projection(*args, **kwargs):
            import torch

            started, cpu = time.perf_counter(), time.thread_time()
            self.projection.update(started_after_s=round(started - self.t0, 2), torch_threads=torch.get_num_threads())
            try:
                return project_to_files(*args, **kwargs)
            finally:
                self.projection.update(wall_s=round(time.perf_counter() - started, 2),
                                       cpu_s=round(time.thread_time() - cpu, 2))

        def timed_save(*args, **kwargs):
            cpu = time.thread_time()
            try:
                return save_projection(*args, **kwargs)
            finally:
                self.projection["save_cpu_s"] = round(self.projection["save_cpu_s"] + time.thread_time() - cpu, 2)

        def timed_mining(*args, **kwargs):
            parent, workers = _cpu()
            started = time.perf_counter()
            self.mining["started_after_s"] = round(started - self.t0, 2)
            self.mining["load_at_start"] = load_average()
            mine_to_files(*args, **kwargs)
            now_parent, now_workers = _cpu()
            self.mining.update(wall_s=round(time.perf_counter() - started, 2),
                               parent_cpu_s=round(now_parent - parent, 2),
                               workers_cpu_s=round(now_workers - workers, 2))

        def timing(write):
            def wrapped(*args, **kwargs):
                started, cpu = time.perf_counter(), time.thread_time()
                write(*args, **kwargs)
                self.write_s += time.perf_counter() - started
                self.write_cpu_s += time.thread_time() - cpu
            return wrapped

        pipeline.mine_to_files = timed_mining
        mining_store.write_shard, PaperWriter.add = timing(write_shard), timing(paper_add)
        projection_run.project_to_files, projection_run.save_projection = timed_projection, timed_save
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        (pipeline.mine_to_files, mining_store.write_shard, PaperWriter.add, projection_run.project_to_files,
         projection_run.save_projection) = self._originals


def per_pool(layer_file: Path, corpus: str, params: MiningConfig, sample: int) -> dict:
    """CPU per pool by step, in this process, on every ``sample``-th unit of one layer: the steps
    of ``mine_pool``'s compiled path (the default solver on NPMI of counts)."""
    from superpose.corpus.npmi import npmi_matrix
    from superpose.corpus.store import load_corpus
    from superpose.mining.clique.bnb import MAX_NODES, solve_groups
    from superpose.mining.pool import mine_pool
    from superpose.mining.shortlist import star_groups
    from superpose.projection.store import load_layer

    layer = load_layer(layer_file)
    counts = load_corpus(corpus, mmap=True)
    pools = [np.asarray(layer.pool(row, polarity), dtype=np.int64)
             for row in range(0, len(layer.neurons), sample) for polarity in ("pos", "neg")]
    mine_pool(pools[0], counts, params)  # compiled code loaded, pages touched
    steps = dict.fromkeys(("pair_counts", "npmi", "shortlist", "solver"), 0.0)
    solves = 0
    for pool in pools:
        if len(pool) < max(params.kappa_l, params.k):
            continue
        t0 = time.thread_time()
        pair = counts.pair_counts(pool)
        t1 = time.thread_time()
        weights = npmi_matrix(counts, pool, pair)
        t2 = time.thread_time()
        members, ends = star_groups(weights, (params.theta_l, params.theta_u), (params.kappa_l, params.kappa_u))
        t3 = time.thread_time()
        solve_groups(weights, members, ends, params.k, MAX_NODES)
        t4 = time.thread_time()
        solves += len(ends)
        for name, value in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            steps[name] += value
    started = time.thread_time()
    for pool in pools:
        mine_pool(pool, counts, params)
    whole = time.thread_time() - started
    return {"pools": len(pools), "mean_pool_size": round(float(np.mean([len(p) for p in pools])), 1),
            "solves_per_pool": round(solves / len(pools), 2),
            "ms_per_pool": {name: round(1000 * value / len(pools), 3) for name, value in steps.items()},
            "mine_pool_ms": round(1000 * whole / len(pools), 3), "load_average": load_average()}


def compare_executors(args: argparse.Namespace, base: Path, projection: Path) -> list[dict]:
    """``--compare-layer`` mined from the same projection: local, Ray, local."""
    runs = []
    for number, executor in enumerate(("local", "ray", "local")):
        out = base / f"{executor}-{number}"
        target = out / args.model / "hi-c"
        target.mkdir(parents=True)
        for layer_file in projection.glob(f"layer_{args.compare_layer:02d}*"):
            shutil.copy(layer_file, target / layer_file.name)
        started = time.perf_counter()
        execution = ExecutionConfig(executor=executor, workers=args.workers)
        folder = pipeline.mine(args.model, args.corpus, str(out), layers=str(args.compare_layer),
                               neurons=args.neurons, mining=MiningConfig(), execution=execution, progress=False)
        wall = time.perf_counter() - started
        mining_s = json.loads((folder / "run.json").read_text())["mining_seconds_now"]
        files = sorted((folder / "shards").glob("*.csv.gz"))
        runs.append({"run": f"{executor}-{number}", "executor": executor, "layer": args.compare_layer,
                     "mining_s": mining_s, "wall_s": round(wall, 2), "load_average": load_average(),
                     "shards": {p.name: p.read_bytes() for p in files}})
        print(json.dumps({k: v for k, v in runs[-1].items() if k != "shards"}), flush=True)
    reference = runs[0].pop("shards")
    for run in runs[1:]:
        run["byte_identical_to_first"] = run.pop("shards") == reference
    return runs


def main() -> None:
    ap = parser(__doc__, "results/bench_mine.json", model=True)
    ap.add_argument("--corpus", default="corpus/build/default")
    ap.add_argument("--layers", default="0-29")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--compare-layer", type=int, default=15)
    ap.add_argument("--neurons", default=None, help="default: every unit (a range, for a quick check)")
    ap.add_argument("--sample", type=int, default=4, help="every n-th unit for the per-pool breakdown")
    args = ap.parse_args()
    params = MiningConfig()
    start = machine()
    result: dict = {"model": args.model, "layers": args.layers, "neurons": args.neurons or "all",
                    "workers": args.workers, "cores": start["cores_available"], "params": params.to_json(),
                    "load_average_start": start["load_average"]}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        with Stages() as stages, BusyTrace() as trace:
            started = time.perf_counter()
            folder = pipeline.mine(args.model, args.corpus, str(base / "whole"), layers=args.layers,
                                   neurons=args.neurons, mining=params,
                                   execution=ExecutionConfig(workers=args.workers), progress=False)
            wall = time.perf_counter() - started
        parent_cpu, workers_cpu = _cpu()
        run = json.loads((folder / "run.json").read_text())
        pools, topics = run["totals"]["pools"], run["totals"]["topics"]
        mining, projected = stages.mining, stages.projection
        projection_cpu = projected["cpu_s"] + projected["save_cpu_s"]
        before_mining_cpu = parent_cpu - mining["parent_cpu_s"]
        # beside: the projection ran in a thread during the mining stage; else before it, on all
        # threads (its thread CPU is then the calling thread's only: torch's other threads are
        # in projection_and_setup, the parent's CPU before the mining)
        beside = projected.get("started_after_s", 0.0) >= mining["started_after_s"]
        cpu_s = ({"projection_and_setup": round(before_mining_cpu + projection_cpu, 1),
                  "setup": round(before_mining_cpu, 1), "projection": round(projection_cpu, 1),
                  "mining_parent": round(mining["parent_cpu_s"] - projection_cpu, 2)} if beside else
                 {"projection_and_setup": round(before_mining_cpu, 1),
                  "projection_calling_thread": round(projection_cpu, 1),
                  "mining_parent": round(mining["parent_cpu_s"], 2)})
        result.update({
            "pools": pools, "topics": topics, "wall_s": round(wall, 1), "projection_beside_mining": beside,
            # beside the mining: the set-up before both; else set-up and projection
            "projection_and_setup_s": round(wall - mining["wall_s"], 1), "mining_s": mining["wall_s"],
            "projection": projected,
            "cpu_s": {"total": round(parent_cpu + workers_cpu, 1), **cpu_s,
                      "mining_workers": mining["workers_cpu_s"],
                      "mining_parent_writing_wall": round(stages.write_s, 2),
                      "mining_parent_writing": round(stages.write_cpu_s, 2)},
            "busy": trace.summary(start["cores_available"]),
            "pools_per_s": round(pools / mining["wall_s"], 1),
            "mining_cpu_ms_per_pool": round(1000 * (mining["parent_cpu_s"] + mining["workers_cpu_s"]) / pools, 3),
            "peak_mb_parent": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            # a worker's own peak (VmHWM, sampled every second); RUSAGE_CHILDREN's maxrss counts the
            # parent's memory at the fork that started it, so it equalled the parent's peak
            "peak_mb_worker": round(trace.worker_peak_mb),
            "load_average_after_whole_model": load_average(), "mining_stage": mining})
        print(json.dumps(result, indent=2), flush=True)
        projection = folder
        result["per_pool"] = per_pool(projection / f"layer_{args.compare_layer:02d}.npz", args.corpus, params,
                                      args.sample)
        print(json.dumps(result["per_pool"]), flush=True)
        result["executors"] = compare_executors(args, base, projection)
    local = [r["mining_s"] for r in result["executors"] if r["executor"] == "local"]
    ray_s = next(r["mining_s"] for r in result["executors"] if r["executor"] == "ray")
    result["local_over_ray"] = round(float(np.mean(local)) / ray_s, 3)
    result.update(load_average_end=load_average(), versions=versions(extra=("ray",)))
    write_result(args.out, result, start=start)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
