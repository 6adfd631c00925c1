"""Worker processes for reading corpora: how many, and a pool that never outlives its parent.

``--workers`` is validated before anything starts: 1 to the number of cores this process may
use, or ``auto`` for all of them. The corpus keeps its own small pool rather than the mining
executor (:mod:`superpose.execution`): batches must come back in order (the word ids depend on
it), and workers are forked so that they start at once with the markup filter already loaded.
Each worker asks the kernel to kill it when its parent dies (Linux ``PR_SET_PDEATHSIG``), so a
parent stopped by SIGINT, SIGTERM or even SIGKILL leaves no worker behind; the workers are also
killed as soon as the map finishes or is left by an exception (Ctrl-C included).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from superpose.config import available_cores
from superpose.core.errors import SuperposeError
from superpose.core.processes import die_with_parent


def resolve_workers(value: int | str) -> int:
    """``auto`` -> all available cores; a whole number (or its text) in 1..cores -> itself; else the
    same one-line error as every other ``--workers`` (:class:`superpose.config.ExecutionConfig`)."""
    from superpose.config import ExecutionConfig, parse_workers

    if isinstance(value, str):
        value = parse_workers(value)
    return ExecutionConfig(workers=value).workers


class _Worker:
    """One forked process with a pipe for tasks and a pipe for results (no lock shared with others,
    so killing it can never leave another process waiting)."""

    def __init__(self, context: Any, function: Callable[[Any], Any]):
        tasks_in, self.tasks = context.Pipe(duplex=False)
        self.results, results_out = context.Pipe(duplex=False)
        self.process = context.Process(target=_serve, args=(function, os.getpid(), tasks_in, results_out),
                                       daemon=True)
        self.process.start()
        tasks_in.close()
        results_out.close()

    def receive(self) -> Any:
        # poll in short steps: a Ctrl-C delivered to another thread is acted on at the next step
        while not self.results.poll(0.2):
            if not self.process.is_alive() and not self.results.poll(0):
                raise SuperposeError(f"a corpus worker died (exit code {self.process.exitcode}): "
                                     "check memory and rerun")
        ok, value = self.results.recv()
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.tasks.close()
        self.results.close()


def _serve(function: Callable[[Any], Any], parent: int, tasks: Any, results: Any) -> None:
    die_with_parent(parent)
    while True:
        try:
            item = tasks.recv()
        except EOFError:
            return
        try:
            results.send((True, function(item)))
        except Exception as err:  # noqa: BLE001 - raised in the parent
            portable = err if isinstance(err, SuperposeError) else RuntimeError(
                "".join(traceback.format_exception(err)).rstrip())
            results.send((False, portable))


def ordered_map(function: Callable[[Any], Any], items: Iterable[Any], workers: int) -> Iterator[Any]:
    """``map(function, items)`` in order, on ``workers`` forked processes.

    Item ``i`` goes to worker ``i % workers``, which holds one item at a time: its result is the
    oldest outstanding one, so results come back in order and at most ``workers`` items are in
    flight (memory flat however long ``items`` is). ``workers == 1`` runs in this process. The
    workers are killed when the generator finishes, fails or is closed.
    """
    if workers == 1:
        yield from map(function, items)
        return
    context = multiprocessing.get_context("fork")
    pool: list[_Worker] = []
    sent = received = 0
    try:
        # A Ctrl-C that lands while a worker is being forked can be lost; held back until the
        # workers exist, it is raised here, inside the try, and ends them.
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        held = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        try:
            pool.extend(_Worker(context, function) for _ in range(workers))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for item in items:
            worker = pool[sent % workers]
            result = None
            if sent - received == workers:  # this worker's previous item: the oldest outstanding
                result = worker.receive()
                received += 1
            worker.tasks.send(item)
            sent += 1
            if result is not None:
                yield result
        while received < sent:
            yield pool[received % workers].receive()
            received += 1
    finally:
        for worker in pool:
            worker.stop()


__all__ = ["available_cores", "ordered_map", "resolve_workers"]
