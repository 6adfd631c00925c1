"""Input-side topics: the same NPMI graph, star heuristic and exact k-clique, run on a neuron's top
activating words (:mod:`superpose.activations.top_words`) instead of the words its output pushes.

The input-side pools of a neuron: ``pos``, its top activating words by largest activation; ``neg``,
the words of its most negative activations (smallest activation below zero), both restricted to the
corpus vocabulary and cut at ``pool_size`` words. They are mined by :func:`superpose.mining.pool.
mine_pool`, unchanged, and written in the paper's layout under ``{out}/{model}/input/`` (mode
``input``), so ``summary``, ``baseline`` readers and the report apply as to an output-side run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from superpose.activations.top_words import WordActivation, WordSegmenter, neuron_words
from superpose.config import ExecutionConfig, MiningConfig
from superpose.core.errors import SuperposeError
from superpose.core.fileio import write_json_atomic
from superpose.core.manifest import refuse_other_request, stamp
from superpose.core.provenance import timestamp
from superpose.core.ranges import format_range, parse_range
from superpose.corpus.store import load_corpus
from superpose.mining.run import Task, mine_to_files
from superpose.mining.runfile import INPUT_RUN_FORMAT, RUN_FORMAT_VERSION
from superpose.mining.store import POLARITIES, PaperWriter, is_done, write_bulk

MODE = "input"


def input_pools(words: Sequence[WordActivation], index: dict[str, int], pool_size: int
                ) -> dict[str, np.ndarray]:
    """The ``pos`` and ``neg`` input-side pools (corpus word ids, best first) of one neuron."""
    pos = [index[w.word] for w in words if w.word in index][:pool_size]
    negative = sorted((w for w in words if w.min_act < 0 and w.word in index), key=lambda w: (w.min_act, w.word))
    neg = [index[w.word] for w in negative][:pool_size]
    return {"pos": np.asarray(pos, dtype=np.int64), "neg": np.asarray(neg, dtype=np.int64)}


def mine_input_side(records: str | Path, corpus_dir: str | Path, out: str | Path, *, layers: str | None = None,
                    neurons: str | None = None, pool_size: int = 250, min_count: int = 1,
                    mining: MiningConfig | None = None, execution: ExecutionConfig | None = None,
                    overwrite: bool = False, progress: bool = True) -> Path:
    """Mine the input-side topics of the neurons of ``records``; returns ``{out}/{model}/input``."""
    from superpose.activations.formats import RecordStore
    from superpose.execution import make_executor

    if pool_size < 1 or min_count < 1:
        raise SuperposeError(f"--pool-size and --min-count must be at least 1, got {pool_size} and {min_count}")
    mining = mining or MiningConfig()
    store = RecordStore(records)
    layer_list = store.layers if layers is None else parse_range(layers, 10_000, "layer")
    missing = [layer for layer in layer_list if layer not in store.layers]
    if missing or not layer_list:
        raise SuperposeError(f"no records for layer(s) {missing or layer_list} in {store.folder} (it has "
                             f"{store.layers}): run `superpose activations` for them first")
    unit_list = parse_range(neurons, int(store.meta["n_neurons"]), "neuron")
    counts = load_corpus(corpus_dir, mmap=True)
    executor = make_executor(execution or ExecutionConfig())
    folder = Path(out) / store.model / MODE
    request = {"model": store.model, "model_source": store.meta.get("model_source", store.model), "mode": MODE,
               "records": str(Path(records).resolve()),
               "records_meta": {k: store.meta.get(k) for k in ("corpus", "n_tokens", "top_k", "n_random")},
               "layers": format_range(layer_list), "neurons": format_range(unit_list), "pool_size": pool_size,
               "min_count": min_count, "params": mining.to_json(), "corpus": counts.identity(str(corpus_dir))}
    if not overwrite:
        refuse_other_request(folder / "run.json", request, what="an input-side run",
                             fix="choose another --out or pass --overwrite")
    elif folder.exists():
        for pattern in ("*_pool.txt", "*_isets.csv", "*_topics.csv"):
            for path in folder.glob(pattern):
                path.unlink()
    write_json_atomic(folder / "run.json", stamp(format=INPUT_RUN_FORMAT, format_version=RUN_FORMAT_VERSION,
                                                 request=request, started=timestamp(), finished=None))
    segmenter = WordSegmenter(store)

    def tasks() -> Iterator[Task]:
        for layer in layer_list:
            for neuron in unit_list:
                todo = [p for p in POLARITIES if not is_done(folder, layer, neuron, p)]
                if not todo:
                    continue
                words = neuron_words(store, layer, neuron, top=None, min_count=min_count, segmenter=segmenter)
                pools = input_pools(words, counts.index, pool_size)
                for polarity in todo:
                    yield Task(layer, neuron, polarity, pools[polarity])

    pending = sum(not is_done(folder, layer, neuron, p) for layer in layer_list for neuron in unit_list
                  for p in POLARITIES)
    total = len(layer_list) * len(unit_list) * len(POLARITIES)
    started = time.perf_counter()
    mine_to_files(tasks(), PaperWriter(folder, counts.vocab), str(corpus_dir), counts.vocab, mining, executor,
                  total=total, pending=pending, desc="input-side topics", progress=progress)
    units = [(layer, neuron) for layer in layer_list for neuron in unit_list]
    totals = write_bulk(folder, store.model, MODE, units)
    write_json_atomic(folder / "run.json", stamp(format=INPUT_RUN_FORMAT, format_version=RUN_FORMAT_VERSION,
                                                 request=request, finished=timestamp(), totals=totals,
                                                 mined_now=pending,
                                                 mining_seconds_now=round(time.perf_counter() - started, 2)))
    return folder


def _overlap(a: Iterable[frozenset[str]], b: Iterable[frozenset[str]]) -> int:
    """The largest number of words any topic of ``a`` shares with any topic of ``b`` (0 if none)."""
    b = list(b)
    return max((len(x & y) for x in a for y in b), default=0)


def side_overlap(input_topics: dict[tuple[int, int], list[frozenset[str]]],
                 output_topics: dict[tuple[int, int], list[frozenset[str]]], *, min_shared: int = 3,
                 shuffles: int = 200, seed: int = 0) -> list[dict]:
    """Per layer: among neurons with topics on both sides, the share whose input-side and output-side
    topics share at least ``min_shared`` words; and the same share when each neuron's input topics
    meet the output topics of another neuron of the same layer (``shuffles`` random derangements),
    the chance level, with its 2.5-97.5% range."""
    rng = np.random.default_rng(seed)
    rows = []
    layers = sorted({layer for layer, _ in input_topics})
    for layer in layers:
        both = sorted(n for (ly, n) in input_topics if ly == layer and input_topics[(ly, n)]
                      and output_topics.get((ly, n)))
        if not both:
            rows.append({"layer": layer, "neurons_both": 0})
            continue
        hits = np.array([_overlap(input_topics[(layer, n)], output_topics[(layer, n)]) >= min_shared for n in both])
        chance = []
        for _ in range(shuffles if len(both) > 1 else 0):
            perm = rng.permutation(len(both))
            while len(both) > 1 and np.any(perm == np.arange(len(both))):
                perm = rng.permutation(len(both))
            chance.append(np.mean([_overlap(input_topics[(layer, n)], output_topics[(layer, both[j])]) >= min_shared
                                   for n, j in zip(both, perm, strict=True)]))
        rows.append({"layer": layer, "neurons_both": len(both), "shared": float(hits.mean()),
                     "shared_count": int(hits.sum()),
                     "chance_mean": float(np.mean(chance)) if chance else float("nan"),
                     "chance_lo": float(np.quantile(chance, 0.025)) if chance else float("nan"),
                     "chance_hi": float(np.quantile(chance, 0.975)) if chance else float("nan")})
    return rows


__all__ = ["MODE", "input_pools", "mine_input_side", "side_overlap"]
