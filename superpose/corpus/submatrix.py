"""A pool's dense submatrix of the pair-count CSR matrix, gathered in one compiled pass.

Fancy indexing (``csr[ids][:, ids]``) copies every stored entry of the pool's rows into a new
matrix, then filters its columns and densifies it: three passes through scipy's index machinery
per pool, over every entry of the pool's rows (about a thousand per word: pools are mostly
frequent words). The pair counts are symmetric, so here each row is read only up to its own word
id (the vocabulary is ordered by frequency, so a frequent word's row is mostly larger ids and is
cut short), and each entry found through a word -> pool-position table is written to both
triangles. The values are the stored counts, so the matrix equals scipy's
(tests/test_corpus_submatrix.py).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit


@njit(cache=True)
def _gather(starts: np.ndarray, columns: np.ndarray, indptr: np.ndarray, data: np.ndarray, ids: np.ndarray,
            position: np.ndarray, out: np.ndarray) -> bool:
    """``out[r, c] = matrix[ids[r], ids[c]]`` of a symmetric matrix with sorted column indices;
    False (``out`` unfinished) when ``ids`` repeats a word. ``position`` (all -1) is restored.

    Row ``w``'s column ids are ``columns[starts[w]:starts[w + 1]]`` (the matrix's own arrays, or
    :func:`lower_rows`' copy of the part up to the diagonal); its values start at ``data[indptr[w]]``."""
    n = ids.shape[0]
    unique = True
    for c in range(n):
        if position[ids[c]] >= 0:
            unique = False
        position[ids[c]] = c
    if unique:
        for r in range(n):
            word = ids[r]
            shift = indptr[word] - starts[word]
            for p in range(starts[word], starts[word + 1]):
                col = columns[p]
                if col > word:
                    break
                c = position[col]
                if c >= 0:
                    value = data[p + shift]
                    out[r, c] = value
                    out[c, r] = value
    for c in range(n):
        position[ids[c]] = -1
    return unique


@njit(cache=True)
def _lower_starts(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Where each row's entries up to its diagonal start in a back-to-back copy of them."""
    n = indptr.shape[0] - 1
    starts = np.zeros(n + 1, dtype=np.int64)
    for w in range(n):
        p = indptr[w]
        while p < indptr[w + 1] and indices[p] <= w:
            p += 1
        starts[w + 1] = starts[w] + p - indptr[w]
    return starts


@njit(cache=True)
def _copy_lower(indptr: np.ndarray, indices: np.ndarray, starts: np.ndarray, columns: np.ndarray) -> None:
    for w in range(starts.shape[0] - 1):
        for k in range(starts[w + 1] - starts[w]):
            columns[starts[w] + k] = indices[indptr[w] + k]


NARROW_COLUMNS = 65536  # column ids fit uint16 up to this many columns


def lower_rows(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray] | None:
    """Each row's column ids up to the diagonal, back to back as uint16, and where each row starts:
    the only part of a symmetric matrix that :func:`dense_submatrix` reads, in half the bytes of the
    int32 indices and with no entry past the diagonal to step over (a pool's pair counts took 2/3
    of the time). None above :data:`NARROW_COLUMNS` columns (the ids would not fit). Costs one byte
    per stored entry, once per process."""
    if matrix.shape[1] > NARROW_COLUMNS:
        return None
    indptr, indices = np.asarray(matrix.indptr), np.asarray(matrix.indices)
    starts = _lower_starts(indptr, indices)
    columns = np.empty(int(starts[-1]), dtype=np.uint16)
    _copy_lower(indptr, indices, starts, columns)
    return starts, columns


def is_symmetric(matrix: sp.csr_matrix) -> bool:
    """Whether a canonical CSR matrix equals its transpose exactly (structure and values)."""
    other = matrix.T.tocsr()
    other.sort_indices()
    return bool(np.array_equal(other.indptr, matrix.indptr) and np.array_equal(other.indices, matrix.indices)
                and np.array_equal(other.data, matrix.data))


def dense_submatrix(matrix: sp.csr_matrix, ids: np.ndarray, symmetric: bool,
                    lower: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``matrix[ids][:, ids].toarray()``; compiled for a ``symmetric`` (:func:`is_symmetric`) canonical
    matrix (sorted, unique column indices per row: the corpus format's pair counts) and distinct ids,
    reading ``lower`` (:func:`lower_rows` of ``matrix``) where given; anything else takes scipy's path."""
    ids = np.asarray(ids, dtype=np.int64)
    size = matrix.shape[0]
    if symmetric and ids.size and matrix.format == "csr" and matrix.has_canonical_format:
        if ids.min() < 0 or ids.max() >= size:
            raise IndexError(f"word id out of range for a {size}-word matrix")
        out = np.zeros((ids.size, ids.size), dtype=matrix.dtype)
        indptr = np.asarray(matrix.indptr)
        starts, columns = lower if lower is not None else (indptr, np.asarray(matrix.indices))
        if _gather(starts, columns, indptr, np.asarray(matrix.data), ids, np.full(size, -1, dtype=np.int32), out):
            return out
    return matrix[ids][:, ids].toarray()
