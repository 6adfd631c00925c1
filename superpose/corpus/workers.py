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
import queue
import signal
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing import connection
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


AHEAD = 2  # items in flight per worker: one being worked on, the next already waiting


class _Worker:
    """One forked process with a pipe for tasks and a pipe for results (no lock shared with others,
    so killing it can never leave another process waiting), and the items it holds, oldest first."""

    def __init__(self, context: Any, function: Callable[[Any], Any]):
        tasks_in, self.tasks = context.Pipe(duplex=False)
        self.results, results_out = context.Pipe(duplex=False)
        self.process = context.Process(target=_serve, args=(function, os.getpid(), tasks_in, results_out),
                                       daemon=True)
        self.process.start()
        tasks_in.close()
        results_out.close()
        self.holding: deque[int] = deque()

    def receive(self) -> Any:
        """The result of the oldest item this worker holds (its results come back in order)."""
        try:
            ok, value = self.results.recv()
        except EOFError:
            self.process.join(1)
            raise SuperposeError(f"a corpus worker died (exit code {self.process.exitcode}): "
                                 "check memory and rerun") from None
        self.holding.popleft()
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
    """A worker's loop. Results are sent by a thread of their own, so the worker starts its next item
    (already in its pipe: :data:`AHEAD`) while the parent, busy or not scheduled, has yet to take the last."""
    die_with_parent(parent)
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    sender = threading.Thread(target=_send_all, args=(outbox, results), daemon=True)
    sender.start()
    while True:
        try:
            item = tasks.recv()
        except EOFError:
            break
        try:
            outbox.put((True, function(item)))
        except Exception as err:  # noqa: BLE001 - raised in the parent
            portable = err if isinstance(err, SuperposeError) else RuntimeError(
                "".join(traceback.format_exception(err)).rstrip())
            outbox.put((False, portable))
    outbox.put(None)
    sender.join()


def _send_all(outbox: queue.SimpleQueue, results: Any) -> None:
    while (message := outbox.get()) is not None:
        results.send(message)


def ordered_map(function: Callable[[Any], Any], items: Iterable[Any], workers: int,
                ahead: int = AHEAD) -> Iterator[Any]:
    """``map(function, items)`` in order, on ``workers`` forked processes.

    Each item goes to the worker holding the fewest (a worker that finishes early gets more, so the
    workers finish together whatever their speed), up to ``ahead`` per worker; results are put back
    in order, and items sent but not yet yielded never exceed ``workers * ahead``, so memory stays
    flat however long ``items`` is. ``workers == 1`` runs in this process. The workers are killed
    when the generator finishes, fails or is closed.
    """
    if workers == 1:
        yield from map(function, items)
        return
    context = multiprocessing.get_context("fork")
    pool: list[_Worker] = []
    try:
        # A Ctrl-C that lands while a worker is being forked can be lost; held back until the
        # workers exist, it is raised here, inside the try, and ends them.
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        held = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        try:
            pool.extend(_Worker(context, function) for _ in range(workers))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        by_pipe = {worker.results: worker for worker in pool}
        source = iter(items)
        done: dict[int, Any] = {}  # results back before an older one
        sent = yielded = 0
        more = True
        while True:
            while more and sent - yielded < workers * ahead:
                worker = min(pool, key=lambda w: len(w.holding))
                if len(worker.holding) >= ahead:
                    break
                try:
                    item = next(source)
                except StopIteration:
                    more = False
                    break
                worker.tasks.send(item)
                worker.holding.append(sent)
                sent += 1
            if yielded in done:
                yield done.pop(yielded)
                yielded += 1
                continue
            if yielded == sent:
                return
            # poll in short steps: a Ctrl-C delivered to another thread is acted on at the next step
            for pipe in connection.wait([w.results for w in pool if w.holding], timeout=0.2):
                worker = by_pipe[pipe]
                index = worker.holding[0]
                done[index] = worker.receive()
    finally:
        for worker in pool:
            worker.stop()


__all__ = ["available_cores", "ordered_map", "resolve_workers"]
