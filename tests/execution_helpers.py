"""Importable jobs for the executor tests (worker processes import them by name)."""

from __future__ import annotations

import os
import time

from superpose.core.errors import SuperposeError


def setup_offset(offset: int) -> int:
    return offset


def add_offset(state: int, task: int) -> int:
    return task + state


def fail_on_three(state: int, task: int) -> int:
    if task == 3:
        raise SuperposeError("task three is bad")
    return task


def die_on_two(state: int, task: int) -> int:
    if task == 2:
        os._exit(7)
    return task


def report_pid_then_sleep(state: str, task: int) -> int:
    with open(os.path.join(state, f"worker-{os.getpid()}"), "w") as fh:
        fh.write("alive")
    time.sleep(60)
    return task
