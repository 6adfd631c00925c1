"""The on-disk corpus format (version 1) and its in-memory view.

A corpus folder holds::

    meta.json           format, version, sources (with package versions), documents, tokens,
                        window, windowing, min_count, max_vocab, stopwords ("remove" or
                        "keep"; true/false in older folders), min_length, convention
                        ("superpose" or "lim-lauw"; absent in older folders: superpose),
                        n_windows (the number NPMI divides by), filtered_windows, lines and
                        min_windows (lim-lauw only; min_windows absent in older folders: the
                        min count), vocab_size, library versions, creation time
    vocab.txt           one word per line; the line number (from 0) is the word id.
                        Ordered by corpus frequency (descending), then alphabetically.
    word_counts.npy     int64[V]  occurrences of each word in the token stream
    word_windows.npy    int64[V]  windows containing each word at least once
    pair_indptr.npy     int64[V+1]  \
    pair_indices.npy    int32[nnz]   > symmetric CSR matrix: windows containing both words
    pair_data.npy       int64[nnz]  /  (zero diagonal, sorted column indices)

All arrays are plain ``.npy`` files so that worker processes can memory-map them.

A corpus is one of two kinds of :class:`NpmiSource`, the one interface through which ``coherence``,
``mine``, ``baseline`` and the API read NPMI: window counts (:class:`CorpusCounts`, the format
above, ``kind`` absent or ``counts``), or a published NPMI matrix used as it is
(:class:`superpose.corpus.matrix.NpmiMatrix`, ``kind`` ``npmi-matrix``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from superpose.config import CONVENTIONS
from superpose.core.errors import SuperposeError
from superpose.corpus.matrix import load_matrix
from superpose.corpus.npmi import counts_npmi, exact_npmi
from superpose.corpus.npmi_source import NpmiSource, PairScores, corpus_convention
from superpose.corpus.submatrix import dense_submatrix, is_symmetric, lower_rows

FORMAT_NAME = "superpose-corpus"
FORMAT_VERSION = 1


def check_convention(meta: dict, wanted: str | None, folder: str | Path = "the corpus") -> None:
    """Refuse a convention asked for on a corpus built under another one (``None``: no request)."""
    if wanted is None:
        return
    if wanted not in CONVENTIONS:
        raise SuperposeError(f"--convention must be one of {', '.join(CONVENTIONS)} (got {wanted!r})")
    built = corpus_convention(meta)
    if built != wanted:
        raise SuperposeError(f"{folder} was built under the {built} convention, not {wanted}: rebuild it with "
                             f"`superpose corpus build --convention {wanted}` or drop --convention")


@dataclass
class CorpusCounts(NpmiSource):
    """Window statistics of a reference corpus: everything NPMI needs."""

    vocab: list[str]
    word_counts: np.ndarray
    word_windows: np.ndarray
    pair_windows: sp.csr_matrix
    n_windows: int
    meta: dict = field(default_factory=dict)

    @property
    def min_windows(self) -> int:
        """Window counts under this are treated as absent by NPMI: the reference's ``min_freq`` under
        the lim-lauw convention (the minimum count in folders from before ``--min-windows``), 0 under ours."""
        if self.convention != "lim-lauw":
            return 0
        return int(self.meta.get("min_windows", self.meta.get("min_count", 0)))

    @cached_property
    def symmetric(self) -> bool:
        """Whether the pair counts equal their transpose exactly (as the format promises; checked once,
        because the fast submatrix and NPMI paths rely on it)."""
        pairs = self.pair_windows
        return pairs.format == "csr" and pairs.has_canonical_format and is_symmetric(pairs)

    @cached_property
    def lower_pairs(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The pair counts' rows up to the diagonal in narrow column ids (:func:`lower_rows`), built
        on the first :meth:`pair_counts` (about 12 ms and 7 MB for the default corpus): a mining
        worker asks for thousands of pools."""
        return lower_rows(self.pair_windows) if self.symmetric else None

    def pair_counts(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """Dense matrix of windows containing both words, for the given ids; under the lim-lauw
        convention a pair in fewer than :attr:`min_windows` windows counts 0 (never co-occurs)."""
        pair = dense_submatrix(self.pair_windows, ids, self.symmetric, self.lower_pairs)
        if self.min_windows:
            pair[pair < self.min_windows] = 0
        return pair

    def scores(self, ids: np.ndarray | list[int]) -> PairScores:
        pair = self.pair_counts(ids)
        return PairScores(counts_npmi(self, ids, pair), pair, exact=exact_npmi(self))


def save_counts(folder: Path, counts: CorpusCounts) -> None:
    """Write the format above into an existing (temporary) folder."""
    (folder / "vocab.txt").write_text("".join(w + "\n" for w in counts.vocab), encoding="utf-8")
    # np.asarray: no copy of an array that has the dtype already (the pair arrays are the largest
    # thing a build writes, and writing is sequential)
    np.save(folder / "word_counts.npy", np.asarray(counts.word_counts, dtype=np.int64))
    np.save(folder / "word_windows.npy", np.asarray(counts.word_windows, dtype=np.int64))
    pairs = counts.pair_windows
    np.save(folder / "pair_indptr.npy", np.asarray(pairs.indptr, dtype=np.int64))
    np.save(folder / "pair_indices.npy", np.asarray(pairs.indices, dtype=np.int32))
    np.save(folder / "pair_data.npy", np.asarray(pairs.data, dtype=np.int64))
    meta = dict(counts.meta, format=FORMAT_NAME, format_version=FORMAT_VERSION,
                n_windows=counts.n_windows, vocab_size=len(counts.vocab),
                pair_nonzeros=int(pairs.nnz))
    (folder / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_meta(folder: str | Path) -> dict:
    """The metadata of a corpus folder, checked for format and version."""
    folder = Path(folder)
    path = folder / "meta.json"
    if not folder.is_dir():
        raise SuperposeError(f"corpus folder {folder} does not exist: build it with `superpose corpus build`")
    if not path.is_file():
        raise SuperposeError(f"{folder} is not a corpus folder (no meta.json): build one with `superpose corpus build`")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise SuperposeError(f"{path} is corrupt ({err.msg}): rebuild the corpus") from err
    if meta.get("format") != FORMAT_NAME:
        raise SuperposeError(f"{folder} is not a superpose corpus: build one with `superpose corpus build`")
    if meta.get("format_version") != FORMAT_VERSION:
        raise SuperposeError(f"{folder} has corpus format version {meta.get('format_version')}, this "
                             f"superpose reads version {FORMAT_VERSION}: rebuild it with `superpose corpus build`")
    return meta


def load_corpus(folder: str | Path, mmap: bool = False) -> NpmiSource:
    """Load a corpus folder; ``mmap=True`` memory-maps the arrays (cheap in worker processes).

    A folder of counts gives :class:`CorpusCounts`; an imported NPMI matrix gives
    :class:`superpose.corpus.matrix.NpmiMatrix` (always memory-mapped).
    """
    folder = Path(folder)
    meta = read_meta(folder)
    if meta.get("kind", "counts") == "npmi-matrix":
        return load_matrix(folder, meta)
    mode = "r" if mmap else None
    try:
        vocab = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode=mode) for name in
                  ("word_counts", "word_windows", "pair_indptr", "pair_indices", "pair_data")}
    except (OSError, ValueError) as err:
        raise SuperposeError(f"corpus folder {folder} is incomplete or corrupt ({err}): rebuild it") from err
    size = len(vocab)
    if size != meta["vocab_size"] or len(arrays["word_windows"]) != size:
        raise SuperposeError(f"corpus folder {folder} is inconsistent (vocabulary size): rebuild it")
    pairs = sp.csr_matrix((arrays["pair_data"], arrays["pair_indices"], arrays["pair_indptr"]),
                          shape=(size, size))
    return CorpusCounts(vocab, arrays["word_counts"], arrays["word_windows"], pairs,
                        int(meta["n_windows"]), meta)
