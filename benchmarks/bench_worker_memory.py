"""Memory of each mining worker: peak RSS and PSS (shared pages split between the processes that map them).

Runs `superpose mine` on a slice of the default model in a child process and samples its worker
processes' /proc/<pid>/smaps_rollup every 0.2 s. The corpus counts are memory-mapped, so the
PSS shows what a worker really adds. Linux only.

    python benchmarks/bench_worker_memory.py --corpus corpus/build/default --workers 2
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import machine, parser, write_result


def _rollup(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])  # kB
    except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
        pass
    return out


def _children(pid: int) -> list[int]:
    """Worker processes of ``pid`` (multiprocessing's resource tracker is not a worker)."""
    try:
        pids = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []
    out = []
    for child in pids:
        try:
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(child)
        except FileNotFoundError:
            continue
    return out


def main() -> None:
    ap = parser(__doc__, "results/bench_worker_memory.json", model=True, workers=True)
    ap.add_argument("--corpus", default="corpus/build/default")
    ap.add_argument("--layers", default="3")
    ap.add_argument("--neurons", default="0-399")
    args = ap.parse_args()
    start = machine()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-c", "import sys; from superpose.cli import main; sys.exit(main())", "mine",
               "--corpus", args.corpus, "--out", tmp, "--model", args.model, "--layers", args.layers,
               "--neurons", args.neurons, "--workers", str(args.workers), "--no-progress"]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        peak: dict[int, dict[str, int]] = {}
        parent_peak: dict[str, int] = {}
        while proc.poll() is None:
            for pid in _children(proc.pid):
                now = _rollup(pid)
                best = peak.setdefault(pid, {"Rss": 0, "Pss": 0})
                for key in best:
                    best[key] = max(best[key], now.get(key, 0))
            now = _rollup(proc.pid)
            for key in ("Rss", "Pss"):
                parent_peak[key] = max(parent_peak.get(key, 0), now.get(key, 0))
            time.sleep(0.2)
        seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"mine failed with exit code {proc.returncode}")
    workers = [v for v in peak.values() if v["Rss"] > 0]
    result = {"settings": vars(args), "seconds": round(seconds, 1),
              "workers_seen": len(workers),
              "worker_peak_rss_mb": [round(w["Rss"] / 1024, 1) for w in workers],
              "worker_peak_pss_mb": [round(w["Pss"] / 1024, 1) for w in workers],
              "parent_peak_rss_mb": round(parent_peak.get("Rss", 0) / 1024, 1),
              "parent_peak_pss_mb": round(parent_peak.get("Pss", 0) / 1024, 1)}
    write_result(args.out, result, start=start)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
