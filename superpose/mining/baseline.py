"""Random baseline (docs/method.md step 7): topics mined the same way from random pools.

Each mined unit-polarity gets a random pool of the same size, drawn without replacement from the
corpus words that some token of the model maps to (the words a real pool could hold), seeded by
``(seed, layer, neuron, polarity)`` so every pool is reproducible on its own. Results use the
mined run's layout (paper files or shards) under ``{run}/random/``, so the same readers and the
summary apply.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from superpose.config import ExecutionConfig, MiningConfig
from superpose.core.errors import SuperposeError
from superpose.core.fileio import check_writable, write_json_atomic
from superpose.core.manifest import refuse_other_request, stamp
from superpose.core.ranges import parse_range
from superpose.corpus.store import load_corpus
from superpose.execution import make_executor
from superpose.mining.run import Task, mine_to_files
from superpose.mining.runfile import read_run_file
from superpose.mining.store import POLARITIES, PaperWriter, RunReader, ShardWriter, write_bulk


def random_pool(universe: np.ndarray, size: int, seed: int, layer: int, neuron: int, polarity: str) -> np.ndarray:
    rng = np.random.default_rng([seed, layer, neuron, POLARITIES.index(polarity)])
    return rng.choice(universe, size=min(size, len(universe)), replace=False)


def baseline(run_folder: str, *, seed: int = 0, neurons: str | None = None, execution: ExecutionConfig | None = None,
             cache_dir: str | None = None, progress: bool = True) -> Path:
    """Mine random pools matching the pools of the mined run in ``run_folder``.

    ``neurons`` (range syntax, e.g. ``0-1535/8`` for every eighth unit) restricts the baseline to
    those units of every layer, for a cheaper estimate on a large run.
    """
    from superpose.models import load_model
    from superpose.projection.pools import word_mapper

    folder = Path(run_folder)
    run = read_run_file(folder)
    if run is None or not run.get("finished"):
        raise SuperposeError(f"{folder} holds no finished mining run (run.json with a finish time): "
                             "run `superpose mine` first and pass its {out}/{model}/{mode} folder")
    check_writable(folder / "random")
    request = run["request"]
    executor = make_executor(execution or ExecutionConfig())
    pools = RunReader(folder).pools()
    corpus_dir = request["corpus"]["path"]
    counts = load_corpus(corpus_dir, mmap=True)
    params = MiningConfig.from_json(request["params"])
    lm = load_model(request["model_source"], cache_dir=cache_dir)
    pooling = request.get("pooling", "whole-tokens")
    universe = word_mapper(pooling, lm.tokenizer, counts.index, lm.vocab_size).universe()
    out = folder / "random"
    meta_path = out / "baseline.json"
    wanted = {"seed": seed, "neurons": neurons, "run": request}
    refuse_other_request(meta_path, wanted, what="a baseline", fix="delete it to redo it")
    rows = pools.select(["layer", "neuron", "polarity", "pool_size"]).to_pylist()
    if neurons is not None:
        keep = set(parse_range(neurons, max(r["neuron"] for r in rows) + 1, "neuron"))
        rows = [r for r in rows if r["neuron"] in keep]
    write_json_atomic(meta_path, stamp(request=wanted, universe_words=int(len(universe))))
    mode = request["mode"] + "-random"
    units_meta = request.get("units")
    if units_meta:
        from superpose.units.sae import units_run_name
    name = request["model"] if not units_meta else units_run_name(request["model"], units_meta)
    if request.get("layout") == "shards":
        expected: dict[int, int] = {}
        for r in rows:
            expected[r["layer"]] = expected.get(r["layer"], 0) + 1
        writer: PaperWriter | ShardWriter = ShardWriter(out, counts.vocab, name, mode, expected)
    else:
        writer = PaperWriter(out, counts.vocab)
    tasks = [Task(r["layer"], r["neuron"], r["polarity"],
                  random_pool(universe, r["pool_size"], seed, r["layer"], r["neuron"], r["polarity"]))
             for r in rows if not writer.done(r["layer"], r["neuron"], r["polarity"])]
    mine_to_files(tasks, writer, corpus_dir, counts.vocab, params, executor, total=len(rows), pending=len(tasks),
                  desc="random pools", progress=progress)
    if request.get("layout") != "shards":
        write_bulk(out, name, mode, list(dict.fromkeys((r["layer"], r["neuron"]) for r in rows)))
    return out
