"""Worker processes for reading corpora: how many, and a pool that never outlives its parent.

``--workers`` is validated before anything starts: 1 to the number of cores this process may
use, or ``auto`` for all of them. The corpus keeps its own small pool rather than the mining
executor (:mod:`superpose.execution`): batches must come back in order (the word ids depend on
it), and workers are forked so that they start at once with the markup filter already loaded.
Each worker asks the kernel to kill it when its parent dies (Linux ``PR_SET_PDEATHSIG``), so a
parent stopped by SIGINT, SIGTERM or even SIGKILL leaves no worker behind; the pool is also
terminated when the parent leaves the ``with`` block by an exception (Ctrl-C included).
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

from superpose.config import available_cores

_PR_SET_PDEATHSIG = 1


def resolve_workers(value: int | str) -> int:
    """``auto`` -> all available cores; a whole number (or its text) in 1..cores -> itself; else the
    same one-line error as every other ``--workers`` (:class:`superpose.config.ExecutionConfig`)."""
    from superpose.config import ExecutionConfig, parse_workers

    if isinstance(value, str):
        value = parse_workers(value)
    return ExecutionConfig(workers=value).workers


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
