"""Import the paper's own reference (PreferredAI/topic-metrics) as a corpus folder.

Two published forms (layouts read in the topic-metrics code; see docs/reference-corpus.md):

- ``npmi-matrix``: a dense NPMI matrix ``.npy`` and ``vocab2id.pkl`` (word -> row). The corpus
  folder names the matrix, which is memory-mapped where it lies (:mod:`superpose.corpus.matrix`).
- ``topic-metrics``: the count trees its ``count_histogram``/``count_windows`` write:
  ``histogram.csv`` (``length,lines``: lines per whitespace-token count), ``{window}/single.pkl``
  (id -> windows with the word) and ``{window}/joint/{id}.pkl`` (id -> windows with both words;
  the diagonal is the single count). The released Wikipedia counts use ``{window}_single.pkl``
  and ``{window}/{id}.pkl``; both are read. Imported into our counts format under the lim-lauw
  convention, NPMI is the reference's for ``min_freq`` = ``--min-windows``.

Pickles are read by :func:`safe_load`, which builds only dicts, lists and tuples of strings,
numbers and numpy number scalars (what these files hold); anything else is refused before it
is built. Every input is checked before anything is written, and the folder appears whole or
not at all.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_dir, check_writable
from superpose.core.provenance import timestamp, versions
from superpose.corpus.lines import reference_windows
from superpose.corpus.store import FORMAT_NAME, FORMAT_VERSION, CorpusCounts, load_corpus, save_counts

# --- pickles: numbers, strings and dicts only ------------------------------------------------

_NUMBER_KINDS = "iuf"


class _Refused(pickle.UnpicklingError):
    """A pickle that asks for more than plain data."""


def _number_dtype(*args):
    """``numpy.dtype`` for pickles, numeric kinds only (the count files' scalars are int64)."""
    dtype = np.dtype(*args[:1])
    if dtype.kind not in _NUMBER_KINDS:
        raise _Refused(f"a {dtype} value (only numbers are allowed)")
    return dtype


def _number_scalar(dtype, data=None):
    """``numpy.core.multiarray.scalar`` for pickles: a number scalar from its bytes."""
    if not isinstance(dtype, np.dtype) or dtype.kind not in _NUMBER_KINDS or not isinstance(data, bytes) \
            or len(data) != dtype.itemsize:
        raise _Refused("a numpy scalar that is not a number")
    return np.frombuffer(data, dtype=dtype)[0]


_ALLOWED = {("numpy", "dtype"): _number_dtype,
            ("numpy.core.multiarray", "scalar"): _number_scalar,
            ("numpy._core.multiarray", "scalar"): _number_scalar}


class _NumbersUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return _ALLOWED[module, name]
        raise _Refused(f"it asks for {module}.{name}")


def safe_load(path: Path, what: str) -> object:
    """A pickle of plain data (strings, numbers, numpy numbers in dicts, lists, tuples), or a one-line
    error: nothing else (no class, no function) is ever constructed."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SuperposeError(f"cannot read {path} ({err.strerror}): give {what}") from err
    try:
        return _NumbersUnpickler(io.BytesIO(data)).load()
    except _Refused as err:
        raise SuperposeError(f"{path} is refused: {err}; only pickles of dicts of strings and numbers are "
                             f"read: give {what}") from err
    except Exception as err:  # noqa: BLE001 - a truncated or foreign file raises many types
        raise SuperposeError(f"{path} is not a readable pickle ({type(err).__name__}: {err}): give {what}") from err


def _is_int(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, np.integer)


def read_vocab2id(path: Path) -> list[str]:
    """The words of a ``vocab2id.pkl`` in row order (word -> row, rows 0..V-1 each once)."""
    what = "the vocab2id.pkl published with the counts or the matrix (a dict word -> row)"
    mapping = safe_load(path, what)
    if not isinstance(mapping, dict) or not mapping:
        raise SuperposeError(f"{path} holds a {type(mapping).__name__}, not a non-empty dict word -> row: give {what}")
    vocab: list[str | None] = [None] * len(mapping)
    for word, row in mapping.items():
        if not isinstance(word, str) or not _is_int(row):
            raise SuperposeError(f"{path}: entry {word!r}: {row!r} is not word -> row: give {what}")
        if not word or word != word.strip() or any(c.isspace() for c in word):
            raise SuperposeError(f"{path}: the word {word!r} is empty or holds whitespace: give {what}")
        if not 0 <= int(row) < len(mapping) or vocab[int(row)] is not None:
            raise SuperposeError(f"{path}: rows are not 0..{len(mapping) - 1}, each once ({word!r} -> {row}): "
                                 f"give {what}")
        vocab[int(row)] = word
    return vocab  # type: ignore[return-value]


def read_histogram(path: Path) -> np.ndarray:
    """``histogram.csv`` (``length,lines`` per line) as lines per length."""
    if not path.is_file():
        raise SuperposeError(f"{path} is missing: give the topic-metrics counts folder (it holds histogram.csv)")
    rows = []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line:
                continue
            match = re.fullmatch(rb"(\d+)(?:\.0*)?,(\d+)(?:\.0*)?", line)
            if match is None:
                raise SuperposeError(f"{path}, line {number}: not 'length,lines' (two whole numbers): give the "
                                     "histogram.csv that topic-metrics wrote")
            rows.append((int(match.group(1)), int(match.group(2))))
    if not rows:
        raise SuperposeError(f"{path} is empty: give the histogram.csv that topic-metrics wrote")
    histogram = np.zeros(max(length for length, _ in rows) + 1, dtype=np.int64)
    for length, lines in rows:
        histogram[length] += lines
    return histogram


def _count_dict(path: Path, size: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """A pickled dict id -> count as (ids, counts) arrays, checked."""
    graph = safe_load(path, what)
    if not isinstance(graph, dict):
        raise SuperposeError(f"{path} holds a {type(graph).__name__}, not a dict id -> count: give {what}")
    for key, value in graph.items():
        if not _is_int(key) or not _is_int(value) or not 0 <= key < size or value < 0:
            raise SuperposeError(f"{path}: entry {key!r}: {value!r} is not id -> count (ids 0..{size - 1}, counts "
                                 f"whole and not negative): give {what}")
    ids = np.fromiter(graph.keys(), dtype=np.int64, count=len(graph))
    counts = np.fromiter(graph.values(), dtype=np.int64, count=len(graph))
    return ids, counts


@dataclass(frozen=True)
class CountTree:
    """Where a topic-metrics count tree keeps its files, for one window."""

    histogram: Path
    single: Path
    joint: Path

    @classmethod
    def find(cls, folder: Path, window: int) -> CountTree:
        if not folder.is_dir():
            raise SuperposeError(f"--counts {folder} is not a folder: give the topic-metrics counts folder")
        single = next((p for p in (folder / str(window) / "single.pkl", folder / f"{window}_single.pkl")
                       if p.is_file()), None)
        if single is None:
            raise SuperposeError(f"{folder} has no {window}/single.pkl (nor {window}_single.pkl): give the counts "
                                 f"of window {window} (--window)")
        joint = folder / str(window) / "joint"
        if not joint.is_dir():
            joint = folder / str(window)
        return cls(folder / "histogram.csv", single, joint)


def read_count_tree(tree: CountTree, size: int) -> tuple[np.ndarray, sp.csr_matrix]:
    """Windows per word and the symmetric pair matrix (zero diagonal) of a count tree, checked."""
    what = "the single.pkl that topic-metrics wrote for these counts"
    ids, counts = _count_dict(tree.single, size, what)
    if len(ids) != size:
        raise SuperposeError(f"{tree.single} has counts for {len(ids):,} words, the vocabulary {size:,}: give the "
                             "vocab2id.pkl these counts were made with")
    single = np.zeros(size, dtype=np.int64)
    single[ids] = counts
    rows, cols, data = [], [], []
    for row in range(size):
        path = tree.joint / f"{row}.pkl"
        if not path.is_file():
            raise SuperposeError(f"{path} is missing: the count tree is incomplete (topic-metrics writes one file "
                                 "per word); download or count it again")
        ids, counts = _count_dict(path, size, "the joint counts that topic-metrics wrote")
        diagonal = ids == row
        if diagonal.any() and counts[diagonal][0] != single[row]:
            raise SuperposeError(f"{path}: its own count {counts[diagonal][0]} differs from single.pkl's "
                                 f"{single[row]}: the files are not from one count")
        keep = ~diagonal & (counts > 0)
        rows.append(np.full(int(keep.sum()), row, dtype=np.int64))
        cols.append(ids[keep])
        data.append(counts[keep])
    pairs = sp.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(size, size), dtype=np.int64)
    pairs.sort_indices()
    if (pairs != pairs.T).nnz:
        raise SuperposeError(f"the joint counts in {tree.joint} are not symmetric: the files are not from one count")
    return single, pairs


# --- the two imports -------------------------------------------------------------------------

def _prepare_out(out: Path, overwrite: bool) -> None:
    check_writable(out)
    if out.exists() and not out.is_dir():
        raise SuperposeError(f"{out} is a file: choose another --out")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise SuperposeError(f"{out} is not empty: choose another --out or pass --overwrite")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_matrix_values(matrix: np.ndarray, path: Path, rows_at_once: int = 512) -> None:
    """Every value finite and in [-1, 1] (up to float16 rounding), and the matrix symmetric on a
    seeded sample of pairs: one pass over the file, row blocks at a time (memory flat)."""
    size = matrix.shape[0]
    for start in range(0, size, rows_at_once):
        block = np.asarray(matrix[start:start + rows_at_once], dtype=np.float64)
        bad = ~np.isfinite(block) | (np.abs(block) > 1.001)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise SuperposeError(f"{path}: entry ({start + row}, {col}) is {block[row, col]}, not an NPMI value in "
                                 "[-1, 1]: give the NPMI matrix")
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, size, 10_000), rng.integers(0, size, 10_000)
    asymmetric = np.flatnonzero(np.asarray(matrix[a, b]) != np.asarray(matrix[b, a]))
    if len(asymmetric):
        i = asymmetric[0]
        raise SuperposeError(f"{path} is not symmetric (entries ({a[i]}, {b[i]}) and ({b[i]}, {a[i]}) differ): "
                             "give the NPMI matrix")


def import_npmi_matrix(npmi: str | Path, vocab: str | Path, out: str | Path, *, overwrite: bool = False) -> Path:
    """A corpus folder ``out`` that reads NPMI from the matrix file ``npmi`` (left in place)."""
    from superpose.corpus.matrix import open_matrix

    npmi, vocab_path, out = Path(npmi).expanduser().resolve(), Path(vocab).expanduser(), Path(out)
    _prepare_out(out, overwrite)
    if not npmi.is_file():
        raise SuperposeError(f"--npmi {npmi} does not exist: give the NPMI matrix (.npy)")
    words = read_vocab2id(vocab_path)
    matrix = open_matrix(npmi, len(words))
    _check_matrix_values(matrix, npmi)
    meta = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "kind": "npmi-matrix",
            "convention": "lim-lauw", "vocab_size": len(words), "npmi_file": str(npmi),
            "npmi_bytes": npmi.stat().st_size, "npmi_sha256": _sha256(npmi), "npmi_dtype": matrix.dtype.name,
            "imported": {"format": "npmi-matrix", "npmi": str(npmi), "vocab": str(vocab_path.resolve()),
                         "vocab_sha256": _sha256(vocab_path)},
            "versions": versions(), "created": timestamp()}
    with atomic_dir(out) as tmp:
        (tmp / "vocab.txt").write_text("".join(w + "\n" for w in words), encoding="utf-8")
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    load_corpus(out)  # what every stage will do: fails here, not later, if anything is off
    return out


def import_topic_metrics(counts: str | Path, vocab: str | Path, window: int, out: str | Path, *,
                         min_windows: int = 0, overwrite: bool = False) -> CorpusCounts:
    """A corpus folder ``out`` (our counts format, lim-lauw convention) from a topic-metrics count tree."""
    if window < 1:
        raise SuperposeError(f"--window must be at least 1 (got {window})")
    if min_windows < 0:
        raise SuperposeError(f"--min-windows must be at least 0 (got {min_windows})")
    folder, vocab_path, out = Path(counts).expanduser(), Path(vocab).expanduser(), Path(out)
    _prepare_out(out, overwrite)
    tree = CountTree.find(folder, window)
    words = read_vocab2id(vocab_path)
    histogram = read_histogram(tree.histogram)
    single, pairs = read_count_tree(tree, len(words))
    n_windows = reference_windows(histogram, window)
    if single.max(initial=0) > n_windows:
        raise SuperposeError(f"a word is in {single.max():,} windows but histogram.csv gives {n_windows:,} windows of "
                             f"{window}: the histogram and the counts are not from one corpus")
    meta = {"kind": "counts", "convention": "lim-lauw", "window": window, "windowing": "filtered",
            "min_windows": min_windows, "lines": int(histogram.sum()),
            "tokens": int((histogram * np.arange(len(histogram))).sum()), "word_counts": "unknown",
            "imported": {"format": "topic-metrics", "counts": str(folder.resolve()), "histogram": str(tree.histogram),
                         "single": str(tree.single), "joint": str(tree.joint), "vocab": str(vocab_path.resolve()),
                         "vocab_sha256": _sha256(vocab_path)},
            "versions": versions(), "created": timestamp()}
    with atomic_dir(out) as tmp:
        # topic-metrics keeps no token occurrences: word_counts.npy holds -1 ("unknown" in meta.json)
        save_counts(tmp, CorpusCounts(words, np.full(len(words), -1, dtype=np.int64), single, pairs, n_windows,
                                      meta))
    return load_corpus(out)  # type: ignore[return-value]


__all__ = ["CountTree", "import_npmi_matrix", "import_topic_metrics", "read_count_tree", "read_histogram",
           "read_vocab2id", "safe_load"]
