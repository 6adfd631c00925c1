"""The executor seam: where the pure per-pool jobs run.

An executor runs ``job(state, task)`` for every task and yields the results as they finish (in any
order). ``state`` is built once per worker by ``setup()``, a picklable callable (for mining: load the
memory-mapped corpus counts), so workers read their inputs themselves and nothing is kept in module
globals. Jobs and ``setup`` must be importable functions (or ``functools.partial`` of them), because
workers may run in other processes or on other machines.

Every module of this package defines ``make(config) -> Executor`` and is an executor named after the
module (:mod:`superpose.core.registry`): adding an engine is adding one file. :func:`executor_names`
lists them without importing any.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from superpose.core.errors import SuperposeError
from superpose.core.registry import Registry

if TYPE_CHECKING:
    from superpose.config import ExecutionConfig

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

__all__ = ["Executor", "executor_names", "make_executor"]

EXECUTORS: Registry[Callable[[ExecutionConfig], Executor]] = Registry(__name__, "make", helpers=())


class Executor(Protocol):
    """Runs a pure job over tasks; results come back as they finish."""

    name: str

    def map_unordered(self, job: Callable[[Any, T], R], setup: Callable[[], Any],
                      tasks: Iterable[T]) -> Iterator[R]: ...


def executor_names() -> tuple[str, ...]:
    """Every executor's name, "local" (the default) first."""
    return tuple(sorted(EXECUTORS.names(), key=lambda n: n != "local"))


def make_executor(config: ExecutionConfig) -> Executor:
    """The executor ``config.executor`` configured by ``config``."""
    if config.executor not in executor_names():
        raise SuperposeError(f"unknown executor {config.executor!r}: choose one of {', '.join(executor_names())}")
    return EXECUTORS.get(config.executor)(config)
