"""Ray: the per-pool jobs on a Ray cluster, local or remote (``pip install superpose[ray]``).

``setup()`` runs once, here, and its result (for mining: the corpus counts) is put once into Ray's
object store; every worker of a node reads the same copy, numpy arrays zero-copy. Tasks go out in
shards of consecutive tasks (for mining: one layer's units in order, both polarities), each shard
one Ray task that returns the results of all its tasks; at most two shards per worker are in flight,
so a task generator is consumed as the cluster needs it. Results are handed on only when a whole
shard is back, and only this process writes files, so a resumed run redoes at most the shards that
were in flight. A worker that dies (killed, out of memory, its node gone) has its shard run again
by Ray, up to ``RETRIES`` times; a shard is never half-counted. A job's own exception is raised here
as it is, not retried.

Without an address a local cluster with ``workers`` CPUs is started for the run and stopped after;
with ``address`` (``host:port`` of a running cluster's head, ``ray://host:port`` for Ray Client, or
``auto``) the run joins that cluster and leaves it running.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from superpose.config import split_address
from superpose.core.errors import SuperposeError

if TYPE_CHECKING:
    from superpose.config import ExecutionConfig

T = TypeVar("T")
R = TypeVar("R")

RETRIES = 3  # runs of a shard after its worker died
SHARD = 32  # tasks per shard
_INSTALL = "pip install 'superpose[ray]' (or pip install ray)"


def _run_shard(job: Callable[[Any, Any], Any], state: Any, tasks: list[Any]) -> list[Any]:
    """One Ray task: the job over a shard's tasks, in order."""
    return [job(state, task) for task in tasks]


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise SuperposeError(f"--executor ray needs Ray, which is not installed: {_INSTALL}") from None
    return ray


def check_address(address: str, timeout: float = 5.0) -> None:
    """A one-line error unless something accepts a TCP connection at ``address`` (host:port)."""
    hostport = split_address(address)
    if hostport is None:
        return
    try:
        with socket.create_connection(hostport, timeout=timeout):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise SuperposeError(f"the Ray cluster at {address} does not answer ({reason}): start it with "
                             "`ray start --head` there, or leave out --address to start a local one") from None


def _cause(err: Exception) -> BaseException:
    """The job's own exception inside Ray's wrapper, when Ray kept it."""
    cause = getattr(err, "cause", None)
    return cause if isinstance(cause, BaseException) else err


@dataclass(frozen=True)
class RayExecutor:
    """Shards of ``shard`` tasks on a Ray cluster; ``workers`` CPUs when it starts a local one."""

    workers: int
    address: str | None = None
    shard: int = SHARD
    name: str = "ray"

    def map_unordered(self, job: Callable[[Any, T], R], setup: Callable[[], Any],
                      tasks: Iterable[T]) -> Iterator[R]:
        ray = _import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            try:
                ray.init(address=self.address, num_cpus=None if self.address else self.workers,
                         include_dashboard=False, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as err:
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise SuperposeError(f"cannot join the Ray cluster at {self.address or 'a new local one'} "
                                     f"({first})") from None
        try:
            yield from self._run(ray, job, setup, iter(tasks))
        finally:
            if started_here:
                ray.shutdown()

    def _run(self, ray: Any, job: Callable[[Any, T], R], setup: Callable[[], Any],
             tasks: Iterator[T]) -> Iterator[R]:
        from ray.exceptions import RayTaskError

        remote = ray.remote(max_retries=RETRIES, retry_exceptions=False)(_run_shard)
        state = ray.put(setup())
        width = max(1, int(ray.cluster_resources().get("CPU", self.workers))) if self.address else self.workers
        pending: list[Any] = []
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < 2 * width:
                    shard = list(islice(tasks, self.shard))
                    if not shard:
                        exhausted = True
                        break
                    pending.append(remote.remote(job, state, shard))
                if not pending:
                    return
                done, pending = ray.wait(pending, num_returns=1)
                try:
                    results = ray.get(done[0])
                except RayTaskError as err:
                    raise _cause(err) from None
                except ray.exceptions.RayError as err:  # worker or node lost more than RETRIES times
                    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                    raise SuperposeError(f"a shard failed {RETRIES + 1} times on the Ray cluster "
                                         f"({first}); if workers ran out of memory, use fewer --workers") from None
                yield from results
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)


def make(config: ExecutionConfig) -> RayExecutor:
    """The executor of ``config``; a cluster address that does not answer is a one-line error here."""
    if config.address is not None:
        check_address(config.address)
    return RayExecutor(int(config.workers), config.address)
