"""``superpose mine``: projection, pools and topics for every unit and polarity, resumably.

Stages and their files, all under ``{out}/{model}/{mode}/``:

1. ``layer_{LL}.npz``: projection with pools (see docs/formats/projection.md); reused when it
   exists with the same parameters.
2. per unit and polarity, the paper's three files (see :mod:`superpose.mining.store`), written
   atomically, topics last; a unit-polarity whose topics file exists is skipped on resume.
3. ``topics.csv.gz`` and ``pools.csv.gz``, rebuilt from the per-unit files at the end, and
   ``run.json`` with every parameter and version.

Mining runs in worker processes that each load the corpus once (memory-mapped); they receive a
pool of word ids and return a :class:`PoolResult`; only the parent writes files.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from superpose.core.errors import SuperposeError
from superpose.core.fileio import write_json_atomic
from superpose.core.provenance import timestamp, versions
from superpose.corpus.store import CorpusCounts, load_corpus
from superpose.mining.pool import MineParams, PoolResult, mine_pool
from superpose.mining.store import POLARITIES, is_done, write_bulk, write_unit

RUN_FORMAT = "superpose-mine"
RUN_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Task:
    layer: int
    neuron: int
    polarity: str
    pool: np.ndarray


# One corpus per worker process, loaded by the pool initializer (not shared between runs).
_WORKER_STATE: dict[str, object] = {}


def _init_worker(corpus_dir: str, params: MineParams) -> None:
    _WORKER_STATE["counts"] = load_corpus(corpus_dir, mmap=True)
    _WORKER_STATE["params"] = params


def _work(task: Task) -> tuple[Task, PoolResult]:
    return task, mine_pool(task.pool, _WORKER_STATE["counts"], _WORKER_STATE["params"])


def run_results(tasks: Iterable[Task], corpus_dir: str, counts: CorpusCounts, params: MineParams,
                workers: int) -> Iterator[tuple[Task, PoolResult]]:
    """Mine tasks in ``workers`` processes (in this process when ``workers <= 1``)."""
    if workers <= 1:
        for task in tasks:
            yield task, mine_pool(task.pool, counts, params)
        return
    context = mp.get_context("spawn")  # not fork: the parent has torch's thread pools running
    with context.Pool(workers, initializer=_init_worker, initargs=(corpus_dir, params)) as pool:
        yield from pool.imap_unordered(_work, tasks, chunksize=4)


def mine_to_files(tasks: Iterable[Task], folder: Path, corpus_dir: str, counts: CorpusCounts, params: MineParams,
                  workers: int, *, total: int, pending: int, desc: str, progress: bool) -> None:
    """Mine ``tasks`` and write each unit-polarity's files as it finishes, with a progress bar
    (``total`` units, of which ``pending`` are in ``tasks``) that shows the topics found so far.

    ``tasks`` may be a generator: it is consumed as the workers need it.
    """
    found = 0
    with tqdm(total=total, initial=total - pending, desc=desc, unit="pool", disable=not progress,
              file=sys.stderr) as bar:
        for task, result in run_results(tasks, corpus_dir, counts, params, workers):
            write_unit(folder, task.layer, task.neuron, task.polarity, [counts.vocab[w] for w in task.pool.tolist()],
                       result, counts.vocab)
            found += len(result.topics)
            bar.update(1)
            bar.set_postfix(topics=found, refresh=False)


def check_run_folder(folder: Path, request: dict, overwrite: bool) -> None:
    """Refuse a folder holding a run with different parameters (unless ``overwrite``)."""
    path = folder / "run.json"
    if not path.is_file() or overwrite:
        return
    previous = json.loads(path.read_text(encoding="utf-8")).get("request")
    if previous != request:
        changed = sorted(k for k in set(previous or {}) | set(request)
                         if (previous or {}).get(k) != request.get(k))
        raise SuperposeError(f"{folder} holds a run with different parameters ({', '.join(changed)}): "
                             "choose another --out or pass --overwrite")


def mine(model: str, corpus_dir: str, out: str, *, mode: str = "hi-c", layers: str | None = None,
         neurons: str | None = None, tau: int = 900, params: MineParams | None = None, workers: int = 2,
         threads: int | None = None, cache_dir: str | None = None, overwrite: bool = False,
         progress: bool = True) -> Path:
    """Run the whole mining job; returns the run folder ``{out}/{model}/{mode}``."""
    from superpose.core.ranges import format_range, parse_range
    from superpose.models import load_model
    from superpose.projection.project import check_mode, n_units
    from superpose.projection.run import CorpusWords, project_to_files
    from superpose.projection.store import load_layer

    params = params or MineParams()
    check_mode(mode)
    counts = load_corpus(corpus_dir, mmap=True)
    lm = load_model(model, cache_dir=cache_dir, threads=threads)
    layer_list = parse_range(layers, lm.n_layers, "layer")
    unit_list = parse_range(neurons, n_units(lm, mode), "neuron" if mode.startswith("hi") else "residual dimension")
    folder = Path(out) / lm.name / mode
    request = {"model": lm.name, "model_source": lm.source, "mode": mode, "layers": format_range(layer_list),
               "neurons": format_range(unit_list), "tau": tau, "params": params.to_json(),
               "corpus": {"path": str(Path(corpus_dir).resolve()), "n_windows": counts.n_windows,
                          "vocab_size": len(counts.vocab), "window": counts.meta.get("window"),
                          "windowing": counts.meta.get("windowing"), "created": counts.meta.get("created")}}
    check_run_folder(folder, request, overwrite)
    if overwrite and folder.exists():
        _remove_unit_files(folder)
    write_json_atomic(folder / "run.json", {"format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION,
                                            "request": request, "versions": versions(), "started": timestamp(),
                                            "finished": None})
    corpus_words = CorpusWords.from_vocab(counts.vocab, str(Path(corpus_dir).resolve()))
    with tqdm(total=len(layer_list) * len(unit_list), desc="projecting", unit="unit", disable=not progress,
              file=sys.stderr) as bar:
        paths = project_to_files(lm, mode, layer_list, out, neurons=unit_list, tau=tau, corpus=corpus_words,
                                 overwrite=overwrite, on_units=bar.update)
    pending = sum(not is_done(folder, layer, neuron, polarity)
                  for layer in layer_list for neuron in unit_list for polarity in POLARITIES)

    def tasks() -> Iterator[Task]:
        """Unfinished unit-polarities, one layer file in memory at a time."""
        for path in paths:
            layer_file = load_layer(path)
            for row, neuron in enumerate(layer_file.neurons.tolist()):
                for polarity in POLARITIES:
                    if not is_done(folder, layer_file.meta["layer"], neuron, polarity):
                        yield Task(layer_file.meta["layer"], neuron, polarity,
                                   np.asarray(layer_file.pool(row, polarity)))

    total = len(layer_list) * len(unit_list) * len(POLARITIES)
    started = time.perf_counter()
    mine_to_files(tasks(), folder, corpus_dir, counts, params, workers, total=total, pending=pending, desc="mining",
                  progress=progress)
    seconds = time.perf_counter() - started
    units = [(layer, neuron) for layer in layer_list for neuron in unit_list]
    totals = write_bulk(folder, lm.name, mode, units)
    write_json_atomic(folder / "run.json", {"format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION,
                                            "request": request, "versions": versions(), "finished": timestamp(),
                                            "totals": totals, "mined_now": pending,
                                            "mining_seconds_now": round(seconds, 2)})
    return folder


def _remove_unit_files(folder: Path) -> None:
    for pattern in ("*_pool.txt", "*_isets.csv", "*_topics.csv"):
        for path in folder.glob(pattern):
            path.unlink()


__all__ = ["MineParams", "Task", "mine", "mine_to_files", "run_results"]
