"""Checks shared by the shortlist and the exact solver: both read a symmetric NPMI matrix."""

from __future__ import annotations

import numpy as np
from numba import njit

from superpose.core.errors import SuperposeError

SYMMETRY_ATOL = 1e-9


@njit(cache=True)
def finite_and_symmetric(w: np.ndarray) -> bool:
    """Every entry finite and ``w == w.T`` exactly, in one pass over the upper triangle (the
    common case, checked without the temporaries of ``isfinite`` and a transposed comparison)."""
    n = w.shape[0]
    for i in range(n):
        if not np.isfinite(w[i, i]):
            return False
        for j in range(i + 1, n):
            a, b = w[i, j], w[j, i]
            if not (np.isfinite(a) and a == b):
                return False
    return True


def check_weights(weights: object, name: str = "weights") -> np.ndarray:
    """Return a float64 copy of a square, symmetric matrix with a zero diagonal.

    The diagonal is ignored (NPMI of a word with itself is meaningless and may be NaN), so it may
    hold anything; every off-diagonal entry must be finite, and the matrix must be symmetric
    within ``SYMMETRY_ATOL``. The copy is symmetrised by averaging, so that both triangles agree
    exactly and every caller reads the same pair weight.
    """
    try:
        w = np.array(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SuperposeError(f"{name} must be a numeric matrix ({exc})") from None
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise SuperposeError(f"{name} must be a square matrix, got shape {w.shape}")
    n = w.shape[0]
    np.fill_diagonal(w, 0.0)
    if finite_and_symmetric(w):
        return w
    if not np.isfinite(w).all():
        i, j = np.argwhere(~np.isfinite(w))[0]
        raise SuperposeError(f"{name} has a non-finite entry off the diagonal at ({i}, {j})")
    if np.array_equal(w, w.T):  # exactly symmetric (NPMI matrices are): averaging would not change it
        return w
    if n and not np.allclose(w, w.T, rtol=0.0, atol=SYMMETRY_ATOL):
        i, j = np.unravel_index(np.argmax(np.abs(w - w.T)), w.shape)
        raise SuperposeError(
            f"{name} must be symmetric: entry ({i}, {j}) is {w[i, j]!r} but ({j}, {i}) is "
            f"{w[j, i]!r}"
        )
    return (w + w.T) / 2.0
