"""Mine many pools and write each unit-polarity's files as it finishes, through any executor.

The job is :func:`mine_task`: a pure function of a :class:`Task` (one pool of corpus word ids) and a
worker state built once per worker by :func:`mining_setup` (the memory-mapped corpus counts and the
mining config). Only this process writes files (:mod:`superpose.mining.store`), so a stopped run
leaves only finished units, and running it again skips them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
from tqdm.auto import tqdm

from superpose.config import MiningConfig
from superpose.corpus.store import NpmiSource, load_corpus
from superpose.execution import Executor
from superpose.mining.pool import PoolResult, mine_pool
from superpose.mining.store import PaperWriter, ShardWriter


@dataclass(frozen=True)
class Task:
    layer: int
    neuron: int
    polarity: str
    pool: np.ndarray


def mining_setup(corpus_dir: str, config: MiningConfig) -> tuple[NpmiSource, MiningConfig]:
    """What a worker needs, loaded once per worker (the counts are memory-mapped, so shared)."""
    return load_corpus(corpus_dir, mmap=True), config


def mine_task(state: tuple[NpmiSource, MiningConfig], task: Task) -> tuple[Task, PoolResult]:
    counts, config = state
    return task, mine_pool(task.pool, counts, config)


def mine_numbered(state: tuple[NpmiSource, MiningConfig], item: tuple[int, Task]) -> tuple[int, PoolResult]:
    """:func:`mine_task` of a numbered task, answered with the number: the parent keeps the tasks
    in flight, so their pools do not travel back with the results."""
    number, task = item
    return number, mine_task(state, task)[1]


def mine_to_files(tasks: Iterable[Task], writer: PaperWriter | ShardWriter, corpus_dir: str, vocab: list[str],
                  config: MiningConfig, executor: Executor, *, total: int, pending: int, desc: str,
                  progress: bool) -> None:
    """Mine ``tasks`` and hand each unit-polarity's result to ``writer`` (the paper's files, or a
    layer's shard once the layer is complete) as it finishes, with a progress bar (``total``
    units, of which ``pending`` are in ``tasks``) that shows the topics found so far.

    ``tasks`` may be a generator: it is consumed as the workers need it.
    """
    found = 0
    with tqdm(total=total, initial=total - pending, desc=desc, unit="pool", disable=not progress,
              file=sys.stderr) as bar:
        in_flight: dict[int, Task] = {}

        def numbered() -> Iterator[tuple[int, Task]]:
            for number, task in enumerate(tasks):
                in_flight[number] = task
                yield number, task

        try:
            for number, result in executor.map_unordered(mine_numbered,
                                                         partial(mining_setup, str(corpus_dir), config), numbered()):
                task = in_flight.pop(number)
                writer.add(task.layer, task.neuron, task.polarity,
                           list(map(vocab.__getitem__, task.pool.tolist())), result)
                found += len(result.topics)
                bar.update(1)
                if not bar.disable:  # formatting the postfix costs a few microseconds a pool even unseen
                    bar.set_postfix(topics=found, refresh=False)
        finally:
            writer.close()  # a layer whose last unit arrived is complete: its shard is finished, even on error


__all__ = ["Task", "mine_numbered", "mine_task", "mine_to_files", "mining_setup"]
