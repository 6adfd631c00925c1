"""What every benchmark repeats, in one place, so each ``bench_*.py`` file is only its measurement.

- :func:`machine`: the facts a timing depends on (CPU, cores this process may use, memory, load);
- :func:`write_result`: the result JSON, atomically, under a standard header (``machine``,
  ``versions``, ``argv``, ``created``) next to the benchmark's own keys;
- :func:`run_child`: one measurement in a fresh process, so its peak memory is its own;
- :func:`parser`: the options most benchmarks share (``--out``, ``--model``, ``--workers``, ``--threads``),
  with the library's defaults rather than retyped ones.

Benchmarks import it as a sibling module (``from harness import ...``): Python puts the running
script's folder first on ``sys.path``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from superpose.config import ExecutionConfig, parse_workers
from superpose.core.fileio import write_json_atomic
from superpose.core.provenance import timestamp, versions


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (``/proc/loadavg``): a busy machine slows every timing."""
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """The machine a result was measured on. Cores are those this process may run on (its affinity),
    which is what a worker pool gets, not the host's total."""
    return {"cpu": _cpu_model(), "cores_available": len(os.sched_getaffinity(0)), "cores_host": os.cpu_count(),
            "memory_gb": _memory_gb(), "platform": sys.platform, "load_average": load_average()}


def write_result(path: str | os.PathLike, payload: dict[str, Any], *, start: dict[str, Any] | None = None) -> Path:
    """Write ``payload`` as JSON under the standard header, atomically (no half-written result).

    ``start`` is the :func:`machine` taken before measuring; the header then has the load average at
    the start (``machine.load_average``) and at the end (``machine.load_average_end``). The
    payload's own keys win over the header's, so a result file keeps the shape its readers expect.
    """
    facts = dict(start) if start is not None else machine()
    facts["load_average_end"] = load_average()
    header = {"machine": facts, "versions": versions(), "argv": [Path(sys.argv[0]).name, *sys.argv[1:]],
              "created": timestamp()}
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, {**header, **payload})
    return out


# Forks and execs the benchmark, waits for it, writes its own "peak_kb cpu_s" to the file named first.
_LAUNCHER = """
import os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as fh:
    fh.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_child(argv: Sequence[str]) -> tuple[dict[str, Any], float, float, float]:
    """Run ``argv`` (a benchmark in ``--child`` form) and return its result and what it cost.

    The child prints its result as JSON on its last line of standard output; its standard error
    passes through (progress). Returns ``(result, peak_rss_mb, wall_s, cpu_s)``: the child's own
    peak (the largest of it and the descendants it waited for), not ``RUSAGE_CHILDREN``'s maximum
    over every child this process ever had. Linux carries the memory a process had before ``exec``
    into its ``ru_maxrss``, so a child started straight from this (perhaps large) process would
    report this process's peak; a small launcher (``python -S``) forks it instead and reads its
    usage with ``wait4``, so the floor is the launcher's few megabytes.
    """
    command = [str(a) for a in argv]
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryDirectory() as tmp:
        usage_file = Path(tmp) / "usage"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, str(usage_file), *command], stdout=stdout,
                              check=False)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"benchmark child {' '.join(command)} failed with exit code {done.returncode}")
        peak_kb, cpu = usage_file.read_text(encoding="utf-8").split()
        stdout.seek(0)
        lines = stdout.read().decode("utf-8").strip().splitlines()
    if not lines:
        raise SystemExit(f"benchmark child {' '.join(command)} printed no result")
    peak_mb = int(peak_kb) / 1024  # Linux reports kilobytes
    return json.loads(lines[-1]), round(peak_mb, 1), round(wall, 3), round(float(cpu), 3)


def hwm_mb(pid: int | str = "self") -> float:
    """A living process's peak resident memory in MB (``VmHWM``, which starts afresh at exec,
    where ``ru_maxrss`` carries the peak of the process that started it); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def self_peak_mb() -> float:
    """This process's peak resident memory (for a child reporting its own)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def parser(doc: str | None, out: str, *, model: str | bool = False, workers: bool = False,
           threads: int | None = None, out_alias: str | None = None) -> argparse.ArgumentParser:
    """A parser with the options benchmarks share: ``--out`` always (``out_alias``: an older spelling
    still accepted); ``--model`` (True: the library's default model; a string: that default),
    ``--workers`` (the execution default) and ``--threads`` (torch threads, given its default) on request."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", *([out_alias] if out_alias else []), dest="out", default=out,
                   help="the result JSON (default: %(default)s)")
    if model:
        from superpose.models.embedded import DEFAULT_MODEL

        p.add_argument("--model", default=DEFAULT_MODEL if model is True else model,
                       help="the subject model (default: %(default)s)")
    if workers:
        p.add_argument("--workers", type=parse_workers, default=ExecutionConfig.workers,
                       help="worker processes: a number or auto (the available cores)")
    if threads is not None:
        p.add_argument("--threads", type=int, default=threads, help="torch threads (default: %(default)s)")
    return p
