"""Importable jobs for the Ray executor tests (Ray workers import them by name)."""

from __future__ import annotations

import os


def die_once(state: str, task: int) -> int:
    """Kill the worker the first time task 5 runs (a marker file in ``state`` remembers it)."""
    marker = os.path.join(state, "died")
    if task == 5 and not os.path.exists(marker):
        with open(marker, "w") as fh:
            fh.write(str(os.getpid()))
        os._exit(9)
    with open(os.path.join(state, f"ran-{task}-{os.getpid()}-{os.urandom(4).hex()}"), "w") as fh:
        fh.write("x")
    return task


def die_always(state: str, task: int) -> int:
    if task == 1:
        os._exit(9)
    return task
