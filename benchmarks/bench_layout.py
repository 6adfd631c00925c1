"""The two output layouts of one whole layer: files, bytes, mining time, and that they hold the same run.

    .venv/bin/python benchmarks/bench_layout.py --corpus corpus/build/default --layer 29 \
        --json results/bench_layout.json

Mines every neuron of one SmolLM2 layer (Hi-C, both polarities, the paper's parameters) once with
``--layout paper`` and once with ``--layout shards`` into a scratch folder, counts the files and
bytes each writes (projection files excluded: they are the same), reads both back with the one run
reader and checks that their topics and pools tables are equal.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from harness import load_average, machine, write_result


def _outputs(folder: Path) -> tuple[int, int]:
    """Files and bytes of the mining outputs: not run.json, not the projection (``layer_LL.npz/.json``)."""
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != "run.json"
             and not (p.parent == folder and p.name.startswith("layer_"))]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> None:
    from superpose.config import ExecutionConfig
    from superpose.mining.store import RunReader
    from superpose.pipeline import mine

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--layer", default="29")
    parser.add_argument("--work", type=Path, default=Path("/tmp/superpose-bench-layout"))
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    start = machine()
    result: dict = {"layer": args.layer, "load_average_start": start["load_average"]}
    tables = {}
    for layout in ("paper", "shards"):
        started = time.perf_counter()
        folder = mine("smollm2-135m", args.corpus, str(args.work / layout), layers=args.layer,
                      execution=ExecutionConfig(workers=2), progress=False, layout=layout)
        seconds = time.perf_counter() - started
        files, size = _outputs(folder)
        reader = RunReader(folder)
        started = time.perf_counter()
        tables[layout] = (reader.topics().to_pylist(), reader.pools().to_pylist())
        read = time.perf_counter() - started
        result[layout] = {"files": files, "bytes": size, "mine_s": round(seconds, 1), "read_s": round(read, 2),
                          "topics": len(tables[layout][0]), "pools": len(tables[layout][1])}
    result["same_tables"] = tables["paper"] == tables["shards"]
    result["load_average_end"] = load_average()
    write_result(args.json, result, start=start)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
