"""Benchmark: mine one full layer of the default model end to end (Hi-C, tau 900, both polarities).

Runs `superpose mine` on one layer into a temporary folder (projection included), then reports
wall time per stage, pools per second, topics found and peak memory, and writes
results/bench_mine.json. Needs the default corpus (`make demo` builds corpus/build/default).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from superpose.config import ExecutionConfig, MiningConfig
from superpose.core.provenance import timestamp, versions
from superpose.mining.store import read_bulk
from superpose.pipeline import mine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="corpus/build/default")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--layer", type=int, default=15)
    parser.add_argument("--neurons", default=None, help="default: the whole layer")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--solver", default="bnb")
    parser.add_argument("--out", default="results/bench_mine.json")
    args = parser.parse_args()
    params = MiningConfig(backend=args.solver)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        folder = mine(args.model, args.corpus, tmp, layers=str(args.layer), neurons=args.neurons, mining=params,
                      execution=ExecutionConfig(workers=args.workers), progress=True)
        wall = time.perf_counter() - started
        run = json.loads((folder / "run.json").read_text())
        pools = read_bulk(folder / "pools.csv.gz")
        topics = read_bulk(folder / "topics.csv.gz")
    mining = run["mining_seconds_now"]
    result = {
        "model": args.model, "layer": args.layer, "neurons": args.neurons or "all", "workers": args.workers,
        "params": params.to_json(), "pools": len(pools), "topics": len(topics),
        "pools_with_topic": sum(int(p["topics"]) > 0 for p in pools),
        "not_optimal": sum(t["status"] != "optimal" for t in topics),
        "wall_s": round(wall, 1), "mining_s": mining, "projection_and_setup_s": round(wall - mining, 1),
        "pools_per_s": round(len(pools) / mining, 2),
        "peak_mb_parent": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_mb_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "versions": versions(), "created": timestamp(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
