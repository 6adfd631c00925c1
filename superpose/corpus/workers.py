"""Worker processes for reading corpora: how many, and a pool that never outlives its parent.

``--workers`` is validated before anything starts: 1 to the number of cores this process may
use, or ``auto`` for all of them. Each worker asks the kernel to kill it when its parent dies
(Linux ``PR_SET_PDEATHSIG``), so a parent stopped by SIGINT, SIGTERM or even SIGKILL leaves no
worker behind; the pool is also terminated when the parent leaves the ``with`` block by an
exception (a KeyboardInterrupt included).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from superpose.core.errors import SuperposeError

_PR_SET_PDEATHSIG = 1


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def resolve_workers(value: int | str) -> int:
    """``auto`` -> all available cores; an int (or its text) -> itself if in 1..cores; else a one-line error."""
    cores = available_cores()
    if isinstance(value, str):
        if value.strip().lower() == "auto":
            return cores
        try:
            value = int(value)
        except ValueError:
            raise SuperposeError(f"--workers must be a number from 1 to {cores} or 'auto' (got {value!r})") from None
    if isinstance(value, bool) or not 1 <= value <= cores:
        raise SuperposeError(f"--workers must be from 1 to {cores}, the cores available here, or 'auto' "
                             f"(got {value})")
    return int(value)


def _die_with_parent(parent: int) -> None:
    """Pool initializer: be killed when the parent dies; exit now if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends the pool
    if os.getppid() != parent:
        os._exit(1)


@contextmanager
def worker_pool(workers: int) -> Iterator[Any]:
    """A process pool of ``workers`` processes (fork) that dies with the parent; terminated on exit."""
    context = multiprocessing.get_context("fork")
    pool = context.Pool(workers, initializer=_die_with_parent, initargs=(os.getpid(),))
    try:
        yield pool
        pool.close()
        pool.join()
    finally:
        pool.terminate()
        pool.join()


def ordered_map(function: Callable[[Any], Any], items: Iterable[Any], workers: int,
                in_flight: int | None = None) -> Iterator[Any]:
    """``map(function, items)`` in order, on ``workers`` processes, at most ``in_flight`` items pending.

    Unlike ``Pool.imap`` it does not read ahead of the workers without bound, so memory stays
    flat however long ``items`` is. ``workers == 1`` runs in this process (same results).
    """
    if workers == 1:
        yield from map(function, items)
        return
    limit = in_flight or 2 * workers
    with worker_pool(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.apply_async(function, (item,)))
            if len(pending) >= limit:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


__all__ = ["available_cores", "ordered_map", "resolve_workers", "worker_pool"]
