"""Build a reference corpus folder from text sources, streaming.

Pass 1 (:mod:`superpose.corpus.stream`) reads every document once, tokenises it in worker
processes, and appends the word ids to a temporary ``uint32`` file beside the output (so the
text is never held in memory), counting word frequencies on the way. The vocabulary is then
chosen (minimum count, stopwords, minimum length, optional maximum size). Pass 2 counts the
windows of the id stream in the same worker processes, each a run of whole documents, and merges
their partial counts through disk (:mod:`superpose.corpus.parallel_count`), so memory is bounded
by one task's counts plus the final matrix.

Two conventions (``convention``): ``superpose`` (the default) counts everything, the number of
windows included, on the vocabulary-filtered stream, and applies the minimum count to word
occurrences only; ``lim-lauw`` reproduces the reference code (PreferredAI/topic-metrics): every
line is a document, the number of windows comes from each line's whitespace tokens (a line with
no vocabulary word, blank or digits only, is still one window; :mod:`superpose.corpus.lines`),
and NPMI applies ``min_windows`` (the reference's ``min_freq``, by default the minimum count) to
the window counts of words and pairs (:attr:`CorpusCounts.min_windows`).
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from superpose.config import CorpusParams
from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_dir, check_writable
from superpose.core.provenance import timestamp, versions
from superpose.corpus.lines import reference_windows
from superpose.corpus.parallel_count import count_parallel
from superpose.corpus.sources import Source, resolve_sources
from superpose.corpus.store import CorpusCounts, load_corpus, save_counts
from superpose.corpus.stream import Stream, write_stream
from superpose.corpus.tokenize import stopwords as english_stopwords
from superpose.corpus.workers import resolve_workers


def normalize_request(request: dict) -> dict:
    """A recorded build request in today's terms (older corpora: stopwords as a bool, no convention)."""
    params = dict(request.get("params", {}))
    if isinstance(params.get("stopwords"), bool):
        params["stopwords"] = "remove" if params["stopwords"] else "keep"
    params.setdefault("convention", "superpose")
    params.setdefault("min_windows", None)
    return dict(request, params=params)


def choose_vocabulary(words: list[str], frequency: np.ndarray, params: CorpusParams) -> list[int]:
    """Stream word ids kept in the vocabulary, most frequent first (ties alphabetical)."""
    stop = english_stopwords() if params.stopwords == "remove" else frozenset()
    frequency = np.asarray(frequency, dtype=np.int64)
    frequent = np.flatnonzero(frequency >= params.min_count).tolist()
    by_word = sorted((i for i in frequent if len(words[i]) >= params.min_length and words[i] not in stop),
                     key=words.__getitem__)
    # a stable sort by falling frequency of the alphabetical list: ties stay alphabetical (a
    # sequential step of every build, so numpy rather than a Python key per word)
    keep = np.asarray(by_word, dtype=np.int64)[np.argsort(-frequency[by_word], kind="stable")].tolist()
    if params.max_vocab is not None:
        keep = keep[: params.max_vocab]
    return keep


def count_stream(stream: Stream, remap: np.ndarray, n_vocab: int, params: CorpusParams, spill: Path, *,
                 workers: int = 1, batch_tokens: int = 1 << 20, progress: bool = False
                 ) -> tuple[int, np.ndarray, sp.csr_matrix]:
    """Pass 2: window counts over the on-disk id stream, in ``workers`` processes
    (:mod:`superpose.corpus.parallel_count`); ``spill`` is an empty folder for partial counts."""
    frequency = np.zeros(n_vocab, dtype=np.int64)
    frequency[remap[remap >= 0]] = stream.frequency[remap >= 0]
    total = int(stream.doc_lengths.sum())
    with tqdm(total=total, desc="counting", unit=" tok", unit_scale=True, disable=not progress) as bar:
        return count_parallel(stream.path, spill, remap, n_vocab, stream.doc_lengths, frequency, params.window,
                              params.windowing == "filtered", workers=workers, batch_tokens=batch_tokens,
                              on_tokens=bar.update)


def build_corpus(sources: list[str | Source], out: str | Path, params: CorpusParams | None = None, *,
                 overwrite: bool = False, progress: bool = False, workers: int | str = 1,
                 batch_tokens: int = 1 << 20) -> CorpusCounts:
    """Build (or reuse) the corpus folder ``out`` from source names or paths.

    ``sources`` are names, paths, or :class:`Source` objects (for custom readers). ``workers``
    (1 to the available cores, or ``"auto"``) tokenise and count in parallel; ``batch_tokens`` bounds
    the tokens counted at once (memory). Neither changes the counts.
    """
    params = params or CorpusParams()
    n_workers = resolve_workers(workers)
    out = Path(out)
    check_writable(out)
    resolved = resolve_sources(sources)
    wanted = {"sources": [s.name for s in resolved], "params": asdict(params)}
    existing = _existing(out)
    if existing is not None and not overwrite:
        old = normalize_request(existing.get("request", {}))
        if old == wanted:
            return load_corpus(out)
        built_under = old.get("params", {}).get("convention")
        if existing.get("request") and built_under != params.convention:
            raise SuperposeError(f"{out} holds a corpus built under the {built_under} convention, not "
                                 f"{params.convention}: choose another --out or pass --overwrite")
        raise SuperposeError(f"{out} already holds a different corpus: choose another --out or pass --overwrite")
    if out.exists() and existing is None and any(out.iterdir()):
        raise SuperposeError(f"{out} is a non-empty folder that is not a corpus: choose another --out")
    started, cpu_started, thread_started = time.perf_counter(), time.process_time(), time.thread_time()
    workers_started = _workers_cpu()
    with atomic_dir(out) as tmp:
        lim_lauw = params.convention == "lim-lauw"
        stream = write_stream(resolved, tmp / "tokens.u32", workers=n_workers, progress=progress, lines=lim_lauw)
        read_seconds, read_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        read_thread_cpu = time.thread_time() - thread_started
        read_workers_cpu, workers_started = _workers_cpu() - workers_started, _workers_cpu()
        vocab_started, cpu_started = time.perf_counter(), time.process_time()
        keep = choose_vocabulary(stream.words, stream.frequency, params)
        if not keep:
            raise SuperposeError(
                f"the vocabulary is empty after filtering (min count {params.min_count}, min length "
                f"{params.min_length}): lower --min-count or add text")
        remap = np.full(len(stream.words), -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        vocab_seconds, vocab_cpu = time.perf_counter() - vocab_started, time.process_time() - cpu_started
        count_started, cpu_started = time.perf_counter(), time.process_time()
        (tmp / "spill").mkdir()
        n_windows, word_windows, pairs = count_stream(stream, remap, len(keep), params, tmp / "spill",
                                                      workers=n_workers, batch_tokens=batch_tokens,
                                                      progress=progress)
        (tmp / "spill").rmdir()
        count_seconds, count_cpu = time.perf_counter() - count_started, time.process_time() - cpu_started
        count_workers_cpu = _workers_cpu() - workers_started
        (tmp / "tokens.u32").unlink()
        extra = {}
        if lim_lauw:
            extra = {"filtered_windows": n_windows, "lines": int(stream.line_histogram.sum()),
                     "min_windows": params.min_count if params.min_windows is None else params.min_windows}
            n_windows = reference_windows(stream.line_histogram, params.window)
        meta = {
            "request": wanted,
            "sources": stream.per_source,
            "documents": int(len(stream.doc_lengths)),
            "tokens": int(stream.doc_lengths.sum()),
            "distinct_words": len(stream.words),
            **asdict(params),
            **extra,
            "versions": versions(),
            "created": timestamp(),
            "workers": n_workers,
            "seconds": {"read": round(read_seconds, 3), "vocabulary": round(vocab_seconds, 3),
                        "count": round(count_seconds, 3)},
            # CPU time of this process ("read_main_thread": without the thread that decompresses a
            # single-stream dump) and of its finished worker processes ("*_workers"): on a busy
            # machine wall time says little, these say what the sequential parts cost
            "cpu_seconds": {"read": round(read_cpu, 3), "read_main_thread": round(read_thread_cpu, 3),
                            "vocabulary": round(vocab_cpu, 3), "count": round(count_cpu, 3),
                            "read_workers": round(read_workers_cpu, 3), "count_workers": round(count_workers_cpu, 3)},
        }
        counts = CorpusCounts([stream.words[i] for i in keep], stream.frequency[keep], word_windows,
                              pairs, n_windows, meta)
        save_counts(tmp, counts)
    return load_corpus(out)


def _workers_cpu() -> float:
    """CPU seconds of this process's finished (reaped) children: the build's workers."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _existing(out: Path) -> dict | None:
    meta = out / "meta.json"
    if not meta.is_file():
        return None
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}


__all__ = ["CorpusParams", "build_corpus", "choose_vocabulary", "count_stream", "normalize_request"]
