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


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _exp32(x: np.float32) -> np.float32:
    """exact.det_exp32 for one float32: clamp, Cody-Waite reduction, degree-6 Taylor, 2**k.
    Branch-free (selects), so that the loops calling it vectorise."""
    x = _LO if x < _LO else x  # torch's clamp: NaN passes through
    x = _HI if x > _HI else x
    k = np.rint(x * _INV_LN2)  # float32 product, rounded half to even
    r = x - k * _LN2_A
    r = r - k * _LN2_B
    p = _T6 * r + _T5  # each * and + rounds to float32: the torch mul_ then add_
    p = p * r + _T4
    p = p * r + _T3
    p = p * r + _T2
    p = p * r + _F1
    p = p * r + _F1
    # 2**k from its bits, as torch builds it (k in [-126, 127]; NaN: p is NaN already)
    bits = np.int32((np.int32(k if k == k else _F0) + np.int32(127)) << np.int32(23))
    return p * bits.view(np.float32)


@njit(cache=True, nogil=True, error_model="numpy")  # x / 0 is inf, as in torch: no check
def sigmoid32(x: np.ndarray, out: np.ndarray, times_x: bool) -> None:
    """``out = 1 / (exp32(-x) + 1)`` over 1-D float32 arrays (exact.det_sigmoid), times ``x``
    when ``times_x`` (SiLU: ``x * sigmoid(x)``)."""
    if times_x:
        for i in range(x.shape[0]):
            out[i] = x[i] * (_F1 / (_exp32(-x[i]) + _F1))
    else:
        for i in range(x.shape[0]):
            out[i] = _F1 / (_exp32(-x[i]) + _F1)


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
    """exact._quantize of the C-contiguous float32 rows ``x`` into float64 ``out``; False
    (``out`` unfinished) when a row's largest magnitude is not finite (the torch path handles
    those).

    Per row: ``2**e`` is the power of two above the largest magnitude, and each entry becomes
    ``rint(x * 2**(bits - e)) * 2**(e - bits)`` in float64; both powers of two and the first
    product are exact for float32 entries (e is in [-148, 128]), so this is the float64 path of
    exact._quantize, which equals its float32 path. The largest magnitude is found on the bits
    (a non-negative float32 orders as its bit pattern), an integer maximum that vectorises.
    """
    rows, n = x.shape
    pattern = x.view(np.int32)
    for i in range(rows):
        row, top = pattern[i], np.int32(0)
        for j in range(n):
            top = np.int32(max(top, row[j] & np.int32(0x7FFFFFFF)))
        if top >= np.int32(0x7F800000):  # inf or NaN
            return False
        e = math.frexp(np.float64(np.int32(top).view(np.float32)))[1]  # amax < 2**e (0 for a zero row)
        up = math.ldexp(1.0, bits - e)
        down = math.ldexp(1.0, e - bits)
        src, dst = x[i], out[i]
        for j in range(n):
            dst[j] = np.rint(np.float64(src[j]) * up) * down
    return True
