"""Run every job in this process, one after the other: the reference the other executors must match."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from superpose.config import ExecutionConfig

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class SerialExecutor:
    name: str = "serial"

    def map_unordered(self, job: Callable[[Any, T], R], setup: Callable[[], Any],
                      tasks: Iterable[T]) -> Iterator[R]:
        state = setup()
        for task in tasks:
            yield job(state, task)


def make(config: ExecutionConfig) -> SerialExecutor:
    return SerialExecutor()
