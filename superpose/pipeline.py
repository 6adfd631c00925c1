"""``superpose mine``: the stages composed, project, then mine, then export, resumably.

Everything a run needs is checked before anything is written: the configs validate themselves on
construction; the corpus and the model load; tau, layers and units are checked against the model;
a folder holding another run is refused. Only then is ``run.json`` recorded, so a failed command
never blocks the corrected one. Files, all under ``{out}/{model}/{mode}/``:

1. ``layer_{LL}.npz``: the projection with pools (docs/formats/projection.md); reused when it exists
   with the same parameters.
2. ``layout="paper"``: per unit and polarity, the paper's three files (:mod:`superpose.mining.store`),
   written atomically, topics last; a unit-polarity whose topics file exists is skipped on resume.
   ``layout="shards"``: per layer, ``shards/layer_{LL}_*`` tables (Parquet and gzip CSV) written
   when the layer's last unit is mined; a layer whose shard exists is skipped on resume. ``auto``
   (the default) takes shards above :data:`SHARDS_ABOVE_UNITS` units: a whole model in the paper's
   layout is millions of files.
3. paper layout: ``topics.csv.gz`` and ``pools.csv.gz``, rebuilt from the per-unit files at the end;
   both layouts: ``run.json`` with every parameter and version.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.core.fileio import check_writable, write_json_atomic
from superpose.core.manifest import refuse_other_request, stamp
from superpose.core.provenance import timestamp
from superpose.core.ranges import format_range, parse_range
from superpose.corpus.store import load_corpus
from superpose.execution import make_executor
from superpose.mining.run import Task, mine_to_files
from superpose.mining.runfile import RUN_FORMAT, RUN_FORMAT_VERSION, read_run_file
from superpose.mining.store import POLARITIES, PaperWriter, RunReader, ShardWriter, write_bulk
from superpose.models.device import Placement

LAYOUTS = ("auto", "paper", "shards")
SHARDS_ABOVE_UNITS = 1000  # ``auto``: runs of more units than this are written as shards


def mine(model: str, corpus_dir: str, out: str, *, projection: ProjectionConfig | None = None,
         mining: MiningConfig | None = None, execution: ExecutionConfig | None = None,
         layers: str | None = None, neurons: str | None = None, cache_dir: str | None = None,
         overwrite: bool = False, progress: bool = True, placement: Placement | None = None,
         layout: str = "auto") -> Path:
    """Run the whole mining job; returns the run folder ``{out}/{model}/{mode}``.

    With ``projection.sae`` the units are that SAE's latents, the layer is its hook's (``layers`` may
    only name that one), and the folder is ``{out}/{model}--sae-{name}/{mode}``; the request records
    the SAE (``units``) and a pooling other than the default (``pooling``).
    ``placement`` is the projection's device and dtype (default: CPU, float32).
    ``layout``: ``paper`` (three files per unit and polarity), ``shards`` (tables per layer) or
    ``auto`` (the layout of the run already in the folder, else shards above
    :data:`SHARDS_ABOVE_UNITS` units).
    """
    from superpose.models import load_model
    from superpose.projection.project import check_source, check_tau, n_units
    from superpose.projection.run import CorpusWords, project_to_files, run_name
    from superpose.projection.store import load_layer
    from superpose.units import load_sae

    if layout not in LAYOUTS:
        raise SuperposeError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    projection = projection or ProjectionConfig()
    mining = mining or MiningConfig()
    execution = execution or ExecutionConfig()
    check_writable(out)
    executor = make_executor(execution)  # a cluster that does not answer fails here, before any work
    source = load_sae(projection.sae, hook=projection.sae_hook) if projection.sae is not None else None
    counts = load_corpus(corpus_dir, mmap=True)
    lm = load_model(model, cache_dir=cache_dir, device=placement)
    check_tau(lm, projection.tau)
    if source is None:
        layer_list = parse_range(layers, lm.n_layers, "layer")
        unit_list = parse_range(neurons, n_units(lm, projection.mode), projection.unit_kind)
    else:
        layer_list = parse_range(layers, lm.n_layers, "layer") if layers is not None else [source.layer]
        for layer in layer_list:
            check_source(lm, projection.mode, layer, source)
        unit_list = parse_range(neurons, source.n_units(), source.unit_name)
    folder = Path(out) / run_name(lm, source) / projection.mode
    request = {"model": lm.name, "model_source": lm.source, "mode": projection.mode,
               "layers": format_range(layer_list), "neurons": format_range(unit_list), "tau": projection.tau,
               "params": mining.to_json(), "corpus": counts.identity(corpus_dir)}
    if projection.pooling != "whole-tokens":  # absent for the default, so earlier runs still resume
        request["pooling"] = projection.pooling
    if source is not None:
        request["units"] = source.identity()
    if lm.placement.dtype != "float32":  # pools from another precision are another run
        request["dtype"] = lm.placement.dtype
    layout = resolve_layout(layout, folder, len(layer_list) * len(unit_list), overwrite)
    if layout == "shards":  # only then: paper runs keep the run.json request they always had
        request["layout"] = "shards"
    if not overwrite:
        refuse_other_request(folder / "run.json", request, what="a run",
                             fix="choose another --out or pass --overwrite")
    elif folder.exists():
        _remove_unit_files(folder)
    write_json_atomic(folder / "run.json", stamp(format=RUN_FORMAT, format_version=RUN_FORMAT_VERSION,
                                                 request=request, started=timestamp(), finished=None))
    if layout == "shards":
        writer: PaperWriter | ShardWriter = ShardWriter(folder, counts.vocab, run_name(lm, source), projection.mode,
                                                        {layer: 2 * len(unit_list) for layer in layer_list})
    else:
        writer = PaperWriter(folder, counts.vocab)

    threads, overlap = projection_threads(execution, lm.placement.device != "cpu")

    def project(on_layer: Callable[[Path], None] | None, on_units: Callable[[int], None]) -> list[Path]:
        # Beside the mining, last layers first: in the Hi-C and Lo-C modes they run through the
        # fewest blocks, so the workers get their first pools soonest. Before it, in layer order.
        order = layer_list[::-1] if overlap else layer_list
        return project_to_files(lm, projection.mode, order, out, neurons=unit_list, tau=projection.tau,
                                corpus=CorpusWords.from_counts(counts, corpus_dir), overwrite=overwrite,
                                on_units=on_units, source=source, pooling=projection.pooling, on_layer=on_layer)

    def tasks(paths: Iterator[Path]) -> Iterator[Task]:
        """Unfinished unit-polarities, one layer file in memory at a time, as layers are projected."""
        for path in paths:
            layer_file = load_layer(path)
            if layout == "shards" and writer.done(layer_file.meta["layer"], 0, "pos"):
                continue  # the layer's shard exists
            for row, neuron in enumerate(layer_file.neurons.tolist()):
                for polarity in POLARITIES:
                    if not writer.done(layer_file.meta["layer"], neuron, polarity):
                        yield Task(layer_file.meta["layer"], neuron, polarity,
                                   np.asarray(layer_file.pool(row, polarity)))

    total = len(layer_list) * len(unit_list) * len(POLARITIES)
    pending = sum(not writer.done(layer, neuron, polarity)
                  for layer in layer_list for neuron in unit_list for polarity in POLARITIES)
    started = time.perf_counter()
    with tqdm(total=len(layer_list) * len(unit_list), desc="projecting", unit="unit", disable=not progress,
              file=sys.stderr) as bar:
        if overlap:
            with OverlappedProjection(project, bar.update, threads) as projected:
                mine_to_files(tasks(projected.layers()), writer, corpus_dir, counts.vocab, mining, executor,
                              total=total, pending=pending, desc="mining", progress=progress)
        else:  # projection first, in this thread, on all threads; no worker exists yet
            paths = project(None, bar.update)
    if not overlap:
        mine_to_files(tasks(iter(paths)), writer, corpus_dir, counts.vocab, mining, executor, total=total,
                      pending=pending, desc="mining", progress=progress)
    seconds = time.perf_counter() - started
    if layout == "shards":
        reader = RunReader(folder)
        totals = {"topics": reader.topics().num_rows, "pools": reader.pools().num_rows}
    else:
        totals = write_bulk(folder, run_name(lm, source), projection.mode,
                            [(layer, neuron) for layer in layer_list for neuron in unit_list])
    write_json_atomic(folder / "run.json", stamp(format=RUN_FORMAT, format_version=RUN_FORMAT_VERSION,
                                                 request=request, finished=timestamp(), totals=totals,
                                                 mined_now=pending, mining_seconds_now=round(seconds, 2)))
    return folder


def projection_threads(execution: ExecutionConfig, gpu: bool = False) -> tuple[int, bool]:
    """(torch threads, overlap) for the projection of a mining run.

    The projection runs beside the mining (``overlap``) only where that takes no core from it:
    on a GPU, or on the threads (``--threads``, else torch's choice) that the processes mining on
    this machine leave. Where the workers take every thread (``--workers auto``), the projection
    runs first on all threads and the mining after it. Measured on 2 idle cores, whole SmolLM2
    Hi-C: one projection thread beside 2 workers made the 1-thread projection the run's critical
    path, 223 s and 287 s against 202 s for projection then mining; a 2-thread projection beside
    busy workers spins at its barriers (3x the CPU).
    """
    import torch

    if execution.executor == "ray" and execution.address is not None:
        miners = 0  # a cluster elsewhere
    elif execution.executor in ("local", "ray"):
        miners = int(execution.workers)
    else:
        miners = 1  # the serial executor mines in this process
    threads = torch.get_num_threads()
    if gpu or threads - miners >= 1:
        return max(1, threads - miners), True
    return threads, False


class OverlappedProjection:
    """Runs ``project(on_layer, on_units)`` in a thread while this one mines: :meth:`layers` yields
    each layer's file as soon as it is complete, so the workers mine one layer while the next is
    projected (both cores busy from the first layer to the last, not projection then mining).

    The projection runs on ``threads`` torch threads, put back at the end. Never more, not even
    while the mining waits for a layer: a 2-thread team beside 2 busy workers spins at its
    barriers (a whole-model run that switched to 2 threads whenever the mining waited spent 3x
    the CPU). A projection error is raised by :meth:`layers`; leaving the block (mining done,
    failed or interrupted) stops the projection at its next batch and waits for it.
    """

    def __init__(self, project: Callable[[Callable[[Path], None], Callable[[int], None]], object],
                 on_units: Callable[[int], None], threads: int) -> None:
        self._project, self._on_units, self._threads = project, on_units, threads
        self._ready: queue.Queue[Path | BaseException | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="superpose-projection", daemon=True)

    def __enter__(self) -> OverlappedProjection:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import torch

        before = torch.get_num_threads()
        try:
            torch.set_num_threads(self._threads)
            self._project(self._ready.put, self._units)
            self._ready.put(None)
        except _Stopped:
            pass
        except BaseException as err:  # noqa: BLE001 - raised in the mining thread by layers()
            self._ready.put(err)
        finally:
            torch.set_num_threads(before)

    def _units(self, n: int) -> None:
        if self._stop.is_set():
            raise _Stopped
        self._on_units(n)

    def layers(self) -> Iterator[Path]:
        while (item := self._ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item


class _Stopped(Exception):
    """The mining stopped: the projection thread ends at its next batch."""


def resolve_layout(layout: str, folder: Path, units: int, overwrite: bool = False) -> str:
    """``auto``: the layout of the run already in ``folder`` (resume), else shards above
    :data:`SHARDS_ABOVE_UNITS` units; an explicit layout is kept (a clash is refused later, as any
    changed parameter)."""
    if layout != "auto":
        return layout
    previous = None if overwrite else read_run_file(folder)
    if previous is not None:
        return str(previous["request"].get("layout", "paper"))
    return "shards" if units > SHARDS_ABOVE_UNITS else "paper"


def _remove_unit_files(folder: Path) -> None:
    for pattern in ("*_pool.txt", "*_isets.csv", "*_topics.csv", "shards/layer_*"):
        for path in folder.glob(pattern):
            path.unlink()


__all__ = ["LAYOUTS", "RUN_FORMAT", "RUN_FORMAT_VERSION", "OverlappedProjection", "mine", "projection_threads",
           "resolve_layout"]
