"""Worker processes on this machine, which never outlive the process that started them.

Workers are started with "spawn" (not fork: the parent has torch's thread pools running). Each runs
``setup()`` once and then jobs from a queue, up to ``chunk`` consecutive tasks per message (the first
messages hold 1, 2, 4, ... tasks), and sends back
each chunk's results in one message; the parent keeps at most two chunks per worker in flight, so a
task generator is consumed as the workers need it. One task per message (as before) made a worker
wait for the parent after every pool: on a busy machine the parent, which also writes the files,
was not scheduled at once, and the workers stood idle (the Ray executor, which ships shards of
tasks, ran a layer in 0.7x the time). A worker asks the kernel to kill it when its
parent dies (Linux ``PR_SET_PDEATHSIG``; elsewhere it polls its parent), so SIGINT, SIGTERM or SIGKILL
of the parent leaves no worker behind. A job's exception is raised in the parent; a worker that dies
is a one-line error naming its exit code.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from superpose.core.errors import SuperposeError
from superpose.core.processes import die_with_parent

if TYPE_CHECKING:
    from superpose.config import ExecutionConfig

T = TypeVar("T")
R = TypeVar("R")

CHUNK = 16  # tasks per message


def _worker(parent_pid: int, setup: Callable[[], Any], job: Callable[[Any, Any], Any],
            tasks: Any, results: Any) -> None:
    die_with_parent(parent_pid)
    try:
        state = setup()
    except BaseException as err:  # noqa: BLE001 - reported to the parent, which raises it
        results.put((None, None, _portable(err)))
        return
    while True:
        item = tasks.get()
        if item is None:
            return
        index, chunk = item
        try:
            results.put((index, [job(state, task) for task in chunk], None))
        except BaseException as err:  # noqa: BLE001
            results.put((index, None, _portable(err)))


def _portable(err: BaseException) -> BaseException:
    """The exception itself when it pickles (SuperposeError does), else its text and traceback."""
    if isinstance(err, SuperposeError):
        return err
    return RuntimeError("".join(traceback.format_exception(err)).rstrip())


@dataclass(frozen=True)
class LocalExecutor:
    """``workers`` processes (in this process when ``workers`` is 1)."""

    workers: int
    chunk: int = CHUNK
    name: str = "local"

    def map_unordered(self, job: Callable[[Any, T], R], setup: Callable[[], Any],
                      tasks: Iterable[T]) -> Iterator[R]:
        if self.workers <= 1:
            state = setup()
            for task in tasks:
                yield job(state, task)
            return
        yield from self._pool(job, setup, iter(tasks))

    def _pool(self, job: Callable[[Any, T], R], setup: Callable[[], Any], tasks: Iterator[T]) -> Iterator[R]:
        context = mp.get_context("spawn")
        task_queue, result_queue = context.Queue(), context.Queue()
        procs = [context.Process(target=_worker, args=(os.getpid(), setup, job, task_queue, result_queue),
                                 daemon=True) for _ in range(self.workers)]
        for proc in procs:
            proc.start()
        try:
            in_flight, index, exhausted = 0, 0, False
            while True:
                while not exhausted and in_flight < 2 * self.workers:
                    # 1, 2, 4, ... tasks, then ``chunk``: a short run still reaches every worker
                    chunk = list(islice(tasks, min(self.chunk, 1 << min(index, 30))))
                    if not chunk:
                        exhausted = True
                        break
                    task_queue.put((index, chunk))
                    index += 1
                    in_flight += 1
                if in_flight == 0:
                    return
                _, results, error = self._next_result(result_queue, procs)
                if error is not None:
                    raise error
                in_flight -= 1
                yield from results
        finally:
            for _ in procs:
                task_queue.put(None)
            deadline = time.monotonic() + 2.0
            for proc in procs:
                proc.join(max(0.0, deadline - time.monotonic()))
                if proc.is_alive():
                    proc.kill()
                    proc.join()
            # Never wait at exit for tasks no worker will read (a full pipe would hang the exit).
            task_queue.cancel_join_thread()
            task_queue.close()
            result_queue.close()

    @staticmethod
    def _next_result(results: Any, procs: list[Any]) -> tuple[Any, Any, BaseException | None]:
        while True:
            try:
                return results.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in procs if not p.is_alive()]
                if dead:
                    raise SuperposeError(f"a worker process died (exit code {dead[0].exitcode}); if it ran out of "
                                         "memory, use fewer --workers") from None


def make(config: ExecutionConfig) -> LocalExecutor:
    return LocalExecutor(int(config.workers))
