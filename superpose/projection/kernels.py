"""Compiled CPU kernels for the batch-invariant arithmetic of :mod:`superpose.projection.exact`.

Each kernel runs, element by element, the same IEEE operations in the same order as the torch
expression it replaces, so it gives the same bits (tests/test_projection_kernels.py checks them
against those expressions). What it saves is passes over memory and one dispatch per operation:
the torch form of the float32 exponential is some twenty element-wise operations, each a pass
over the tensor (in cache-sized pieces) and a round trip through the dispatcher, where here it is
one loop. No fast-math flags: the compiler may neither fuse a product and a sum nor reorder them.

The kernels release the GIL and run on the calling thread; they are compiled once per machine
(numba's cache).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# float32 constants of exact.det_exp32, rounded to float32 as torch rounds a Python scalar that
# meets a float32 tensor
_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_LO = np.float32(-87.0)
_HI = np.float32(88.0)
_INV_LN2 = np.float32(1.0 / math.log(2.0))
_LN2_A = np.float32(0.693359375)
_LN2_B = np.float32(-2.12194440e-4)
_T6 = np.float32(1.0 / math.factorial(6))
_T5 = np.float32(1.0 / math.factorial(5))
_T4 = np.float32(1.0 / math.factorial(4))
_T3 = np.float32(1.0 / math.factorial(3))
_T2 = np.float32(1.0 / math.factorial(2))
_POW2 = np.array([2.0 ** k for k in range(-126, 128)], dtype=np.float32)  # 2**k for the clamped k


@njit(cache=True, nogil=True, inline="always")
def _exp32(x: np.float32) -> np.float32:
    """exact.det_exp32 for one float32: clamp, Cody-Waite reduction, degree-6 Taylor, 2**k."""
    if x < _LO:  # torch's clamp: NaN passes through
        x = _LO
    elif x > _HI:
        x = _HI
    k = np.float32(np.rint(x * _INV_LN2))  # float32 product, rounded half to even
    r = x - k * _LN2_A
    r = r - k * _LN2_B
    p = _T6 * r + _T5  # each * and + rounds to float32: the torch mul_ then add_
    p = p * r + _T4
    p = p * r + _T3
    p = p * r + _T2
    p = p * r + _F1
    p = p * r + _F1
    if k != k:  # NaN in, NaN out
        return p
    return p * _POW2[np.int32(k) + 126]  # torch builds the same power from its bits


@njit(cache=True, nogil=True)
def sigmoid32(x: np.ndarray, out: np.ndarray, times_x: bool) -> None:
    """``out = 1 / (exp32(-x) + 1)`` over 1-D float32 arrays (exact.det_sigmoid), times ``x``
    when ``times_x`` (SiLU: ``x * sigmoid(x)``)."""
    for i in range(x.shape[0]):
        v = x[i]
        s = _F1 / (_exp32(-v) + _F1)
        out[i] = v * s if times_x else s


@njit(cache=True, nogil=True)
def tree_sum_rows(x: np.ndarray, out: np.ndarray) -> None:
    """``out[i] = `` the fixed pairwise tree sum of row ``x[i]`` (exact.tree_sum): each level adds
    the second half onto the first, an odd last element moving up unchanged."""
    n = x.shape[1]
    buf = np.empty(n, dtype=x.dtype)
    for i in range(x.shape[0]):
        for j in range(n):
            buf[j] = x[i, j]
        m = n
        while m > 1:
            half = m // 2
            for j in range(half):
                buf[j] = buf[j] + buf[j + half]
            if m % 2:
                buf[half] = buf[m - 1]
            m = half + m % 2
        out[i] = buf[0]


@njit(cache=True, nogil=True)
def quantize_rows(x: np.ndarray, bits: int, out: np.ndarray) -> bool:
    """exact._quantize of the float32 rows ``x`` into float64 ``out``; False (``out`` unfinished)
    when a row's largest magnitude is not finite (the torch path handles those).

    Per row: ``2**e`` is the power of two above the largest magnitude, and each entry becomes
    ``rint(x * 2**(bits - e)) * 2**(e - bits)`` in float64; both powers of two and the first
    product are exact for float32 entries (e is in [-148, 128]), so this is the float64 path of
    exact._quantize, which equals its float32 path.
    """
    rows, n = x.shape
    for i in range(rows):
        amax = 0.0
        for j in range(n):
            a = abs(np.float64(x[i, j]))
            if not a <= amax:  # larger, or NaN
                amax = a
        if not amax < math.inf:
            return False
        e = math.frexp(amax)[1]  # amax < 2**e (e = 0 for an all-zero row, as torch.frexp)
        up = math.ldexp(1.0, bits - e)
        down = math.ldexp(1.0, e - bits)
        for j in range(n):
            out[i, j] = np.rint(np.float64(x[i, j]) * up) * down
    return True
