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
def _gather(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, ids: np.ndarray,
            position: np.ndarray, out: np.ndarray) -> bool:
    """``out[r, c] = matrix[ids[r], ids[c]]`` of a symmetric matrix with sorted column indices;
    False (``out`` unfinished) when ``ids`` repeats a word. ``position`` (all -1) is restored."""
    n = ids.shape[0]
    unique = True
    for c in range(n):
        if position[ids[c]] >= 0:
            unique = False
        position[ids[c]] = c
    if unique:
        for r in range(n):
            word = ids[r]
            for p in range(indptr[word], indptr[word + 1]):
                col = indices[p]
                if col > word:
                    break
                c = position[col]
                if c >= 0:
                    out[r, c] = data[p]
                    out[c, r] = data[p]
    for c in range(n):
        position[ids[c]] = -1
    return unique


def is_symmetric(matrix: sp.csr_matrix) -> bool:
    """Whether a canonical CSR matrix equals its transpose exactly (structure and values)."""
    other = matrix.T.tocsr()
    other.sort_indices()
    return bool(np.array_equal(other.indptr, matrix.indptr) and np.array_equal(other.indices, matrix.indices)
                and np.array_equal(other.data, matrix.data))


def dense_submatrix(matrix: sp.csr_matrix, ids: np.ndarray, symmetric: bool) -> np.ndarray:
    """``matrix[ids][:, ids].toarray()``; compiled for a ``symmetric`` (:func:`is_symmetric`) canonical
    matrix (sorted, unique column indices per row: the corpus format's pair counts) and distinct ids;
    anything else takes scipy's path."""
    ids = np.asarray(ids, dtype=np.int64)
    size = matrix.shape[0]
    if symmetric and ids.size and matrix.format == "csr" and matrix.has_canonical_format:
        if ids.min() < 0 or ids.max() >= size:
            raise IndexError(f"word id out of range for a {size}-word matrix")
        out = np.zeros((ids.size, ids.size), dtype=matrix.dtype)
        if _gather(np.asarray(matrix.indptr), np.asarray(matrix.indices), np.asarray(matrix.data), ids,
                   np.full(size, -1, dtype=np.int64), out):
            return out
    return matrix[ids][:, ids].toarray()
