"""Batch-invariant arithmetic for the projection: a unit's numbers depend on the unit alone.

Ordinary float32 kernels give a row results that differ in their last bits with the shape of the
batch it is computed in and with the thread count: a matrix product picks its blocking and its
threads' split by shape, and an element-wise transcendental such as ``exp`` takes a vectorised
path or a scalar one depending on where the element falls in the tensor. Word pools rank tokens
by logit, so those bits decide the order of near-equal words.

:class:`BatchInvariant` is a torch function mode under which the model's own modules compute
every number of a row from that row alone, with a fixed sequence of IEEE operations:

- **Matrix products are exact.** Each row of the input is rounded to ``a`` significant bits
  relative to the power of two above its largest magnitude, each weight row (output unit) to
  ``b`` bits the same way, with ``a + b + ceil(log2 K) <= 53`` for a reduction over ``K`` terms.
  Every product and every partial sum is then an integer multiple of one power of two below
  ``2**53`` of it, so the float64 matrix product is exact in any summation order, blocking or
  thread split. The exact sum is scaled by powers of two (exact) and rounded once to the working
  dtype. With SmolLM2 (``K`` up to 1536) ``a = b = 21``: the rounding of the operands is about
  ``2**-21`` of a row's largest entry, the order of float32 accumulation error.
- **Reductions over the hidden dimension** (the means of RMSNorm and LayerNorm) are a fixed
  pairwise tree of element-wise additions.
- **Transcendentals** (``exp`` and what uses it: SiLU, tanh, sigmoid, GELU and its erf) are a
  fixed range reduction and polynomial (float32 operations; erf: a series and a continued
  fraction in float64), accurate to a few units in the last place of float32.
- Everything else the blocks do is element-wise ``+ - * /``, ``sqrt`` and casts, which IEEE 754
  rounds correctly wherever the element sits.

On the CPU the rounding of the operands, the tree sums, sigmoid and SiLU run as compiled kernels
(:mod:`superpose.projection.kernels`) doing the same operations per element, so the same bits;
``compiled=False`` gives the torch expressions they replace.

A function outside these lists raises, so a model that calls something new cannot silently lose
the guarantee. The results equal the model's own float32 forward to about 1e-6 relative.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from superpose.core.errors import SuperposeError
from superpose.projection import kernels

_MANTISSA = 53  # float64

__all__ = ["BatchInvariant", "det_sigmoid", "det_silu", "det_tanh64", "exact_linear", "operand_bits", "tree_sum"]


def operand_bits(k: int) -> tuple[int, int]:
    """(input bits, weight bits) whose products summed over ``k`` terms stay exact in float64."""
    total = _MANTISSA - max(1, math.ceil(math.log2(max(k, 2))))
    return total - total // 2, total // 2


def pow2(k: torch.Tensor) -> torch.Tensor:
    """2**k as float64 for integer tensors ``k`` in [-1022, 1023], built from its bits (exact;
    ``torch.ldexp`` goes through ``pow``, which need not be)."""
    return ((k.to(torch.int64) + 1023) << 52).view(torch.float64)


_TINY32 = 2.0 ** -100  # rows of float32 whose largest magnitude is at least this are scaled in float32


def _compiled(x: torch.Tensor, *dtypes: torch.dtype) -> bool:
    """Whether ``x`` can go through the compiled CPU kernels (superpose.projection.kernels),
    which give the same bits as the torch expressions beside them."""
    return x.device.type == "cpu" and x.dtype in dtypes and not x.requires_grad


def _quantize(x: torch.Tensor, bits: int, *, compiled: bool = True) -> torch.Tensor:
    """Rows of ``x`` in float64, rounded (half to even) to ``bits`` bits below the power of two
    above the row's largest magnitude: every entry is a multiple of ``2**(e - bits)``, at most
    ``2**e`` in size.

    Float32 rows are scaled and rounded in float32, the same numbers for fewer bytes: the scale
    ``2**(bits - e)`` is a normal float32 (the row's largest magnitude is 0 or at least 2**-100),
    a product by a power of two is exact unless it falls below 2**-126, and such an entry rounds
    to (signed) zero on either path; the integers, at most ``2**bits``, are float32 numbers.
    Float32 rows on the CPU take one compiled pass (``compiled=False``: the torch expression).
    """
    if compiled and _compiled(x, torch.float32) and x.dim() == 2:
        grid = torch.empty(x.shape, dtype=torch.float64)
        if kernels.quantize_rows(x.contiguous().numpy(), bits, grid.numpy()):
            return grid
    amax = x.abs().amax(dim=-1, keepdim=True)
    _, exponent = torch.frexp(amax.to(torch.float64))  # amax < 2**exponent
    if x.dtype == torch.float32 and bits <= 24 and bool(((amax == 0) | (amax >= _TINY32)).all()):
        scale = pow2(bits - exponent).to(torch.float32)  # a normal float32: exact
        return (x * scale).round_().to(torch.float64).mul_(pow2(exponent - bits))
    grid = x.to(torch.float64, copy=True)
    return grid.mul_(pow2(bits - exponent)).round_().mul_(pow2(exponent - bits))  # powers of two: exact


class _Weights:
    """Quantized weights, computed once per weight tensor and dropped with it."""

    def __init__(self) -> None:
        self.cache: dict[int, dict[tuple[int, ...], torch.Tensor]] = {}

    def get(self, weight: torch.Tensor, bits: int, transposed: bool) -> torch.Tensor:
        owner = weight if weight._base is None else weight._base
        per = self.cache.get(id(owner))
        if per is None:
            per = self.cache[id(owner)] = {}
            weakref.finalize(owner, self.cache.pop, id(owner), None)
        version = -1 if weight.is_inference() else weight._version  # inference tensors never change
        key = (weight.data_ptr(), bits, int(transposed), *weight.shape, *weight.stride(), version)
        if key not in per:
            per[key] = _quantize(weight.T if transposed else weight, bits)
        return per[key]


_WEIGHTS = _Weights()


def exact_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, *,
                 transposed: bool = False, out_dtype: torch.dtype | None = None) -> torch.Tensor:
    """``x @ weight.T + bias`` (``x @ weight`` when ``transposed``) from exactly summed
    products of the rounded operands (module docstring), in ``out_dtype`` (default x's)."""
    k = x.shape[-1]
    a, b = operand_bits(k)
    grid_w = _WEIGHTS.get(weight, b, transposed)
    lead = x.shape[:-1]
    # Products are multiples of 2**(ex - a + ew - b) below 2**(ex + ew), k of them: every partial
    # sum is representable, so the float64 product is exact in any order.
    exact = _quantize(x.reshape(-1, k), a) @ grid_w.T
    if bias is not None:
        exact = exact + bias.to(torch.float64)
    return exact.reshape(*lead, -1).to(out_dtype or x.dtype)


def tree_sum(x: torch.Tensor, *, compiled: bool = True) -> torch.Tensor:
    """Sum over the last dimension by a fixed pairwise tree (keepdim), the same for every row;
    on the CPU in one compiled pass (``compiled=False``: the torch expression)."""
    if compiled and _compiled(x, torch.float32, torch.float64) and x.dim() >= 1 and x.shape[-1] > 1:
        rows = x.reshape(-1, x.shape[-1]).contiguous()
        out = torch.empty((len(rows),), dtype=x.dtype)
        kernels.tree_sum_rows(rows.numpy(), out.numpy())
        return out.reshape(*x.shape[:-1], 1)
    while x.shape[-1] > 1:
        n = x.shape[-1]
        half = n // 2
        paired = x[..., :half] + x[..., half:2 * half]
        x = torch.cat([paired, x[..., 2 * half:]], dim=-1) if n % 2 else paired
    return x


# --- transcendentals in fixed float64 operations --------------------------------------------

_LN2_HI = 6.93147180369123816490e-01  # fdlibm: k * _LN2_HI is exact for |k| < 2**11
_LN2_LO = 1.90821492927058770002e-10
_EXP_TERMS = [1.0 / math.factorial(n) for n in range(14)]


def det_exp(x: torch.Tensor) -> torch.Tensor:
    """exp in float64 by Cody-Waite reduction and a degree-13 Taylor polynomial (|r| <= 0.35,
    relative error below 1e-15); overflow to inf and underflow to 0 as exp does."""
    x = x.to(torch.float64).clamp(-746.0, 710.0)
    k = torch.round(x * (1.0 / math.log(2.0)))
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = torch.full_like(r, _EXP_TERMS[-1])
    for c in reversed(_EXP_TERMS[:-1]):
        p = p * r + c
    # 2**k in two steps, so k up to 1024 and down to -1075 neither overflows nor flushes early
    half = torch.div(k, 2, rounding_mode="floor")
    return p * pow2(half) * pow2(k - half)


_EXP32_TERMS = [1.0 / math.factorial(n) for n in range(7)]


def det_exp32(x: torch.Tensor) -> torch.Tensor:
    """exp in float32 operations (enough where the result is float32 or coarser): Cody-Waite
    reduction with cephes' two-part ln 2 and a degree-6 Taylor polynomial, within a few units in
    the last place; arguments clamped to [-87, 88], where exp stays a normal float32."""
    x = x.to(torch.float32).clamp(-87.0, 88.0)
    k = torch.round(x * (1.0 / math.log(2.0)))
    r = x.sub_(k * 0.693359375).sub_(k * -2.12194440e-4)  # k * 0.693359375 is exact (|k| <= 127)
    p = torch.full_like(r, _EXP32_TERMS[-1])
    for c in reversed(_EXP32_TERMS[:-1]):
        p = p.mul_(r).add_(c)
    return p.mul_(k.to(torch.int32).add_(127).bitwise_left_shift_(23).view(torch.float32))


_CHUNK = 1 << 16  # elements per piece of an element-wise evaluation: it stays in cache


def det_sigmoid(x: torch.Tensor, *, compiled: bool = True) -> torch.Tensor:
    """1 / (1 + exp(-x)) in float32 operations, evaluated piece by piece (the same operations on
    every element, so the pieces change nothing but speed); on the CPU in one compiled pass
    (``compiled=False``: the torch expression)."""
    flat = x.to(torch.float32).reshape(-1)
    if compiled and _compiled(flat, torch.float32):
        return _sigmoid_kernel(flat, times_x=False).reshape(x.shape)
    out = torch.empty_like(flat)
    for start in range(0, len(flat), _CHUNK):
        piece = flat[start:start + _CHUNK]
        out[start:start + _CHUNK] = (det_exp32(-piece).add_(1.0)).reciprocal_()
    return out.reshape(x.shape)


def det_silu(x: torch.Tensor, *, compiled: bool = True) -> torch.Tensor:
    """x * sigmoid(x) in float32 operations; on the CPU in one compiled pass, the product fused
    (``compiled=False``: the torch expression)."""
    x32 = x.to(torch.float32)
    if compiled and _compiled(x32, torch.float32):
        return _sigmoid_kernel(x32.reshape(-1), times_x=True).reshape(x.shape)
    return x32 * det_sigmoid(x32, compiled=False)


def _sigmoid_kernel(flat: torch.Tensor, *, times_x: bool) -> torch.Tensor:
    """sigmoid (times x) of a 1-D float32 CPU tensor by superpose.projection.kernels.sigmoid32."""
    flat = flat.contiguous()
    out = torch.empty_like(flat)
    kernels.sigmoid32(flat.numpy(), out.numpy(), times_x)
    return out


def det_tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh in float32 operations: sign(x) (1 - 2 / (exp(2|x|) + 1)), and the odd Taylor series
    for |x| < 2**-4, where that subtraction would cancel."""
    x = x.to(torch.float32)
    a = x.abs()
    big = 1.0 - 2.0 / (det_exp32(2.0 * a) + 1.0)
    x2 = a * a
    small = a * (1.0 + x2 * (-1.0 / 3 + x2 * (2.0 / 15 + x2 * (-17.0 / 315 + x2 * (62.0 / 2835)))))
    return torch.where(a < 0.0625, small, big) * torch.sign(x)


def det_tanh64(x: torch.Tensor) -> torch.Tensor:
    """tanh in float64 operations (logit soft-capping of float64 scores)."""
    x = x.to(torch.float64)
    a = x.abs()
    big = 1.0 - 2.0 / (det_exp(2.0 * a) + 1.0)
    x2 = a * a
    small = a * (1.0 + x2 * (-1.0 / 3 + x2 * (2.0 / 15 + x2 * (-17.0 / 315 + x2 * (
        62.0 / 2835 + x2 * (-1382.0 / 155925 + x2 * (21844.0 / 6081075 + x2 * (-929569.0 / 638512875))))))))
    return torch.where(a < 0.0625, small, big) * torch.sign(x)


_ERF_SERIES = 60
_ERFC_DEPTH = 60


def det_erf(x: torch.Tensor) -> torch.Tensor:
    """erf: Maclaurin series for |x| < 2.5 (60 terms), the erfc continued fraction (depth 60)
    for 2.5 <= |x| < 6, and +-1 beyond (erfc(6) is below float64's resolution at 1)."""
    x = x.to(torch.float64)
    a = x.abs()
    s = a.clamp(max=2.5)
    s2 = s * s
    term = s.clone()
    series = s.clone()
    for n in range(1, _ERF_SERIES):
        term = term * (-s2) / n
        series = series + term / (2 * n + 1)
    series = series * (2.0 / math.sqrt(math.pi))
    z = a.clamp(2.5, 6.0)
    t = z.clone()
    for n in range(_ERFC_DEPTH, 0, -1):
        t = z + (n / 2.0) / t
    erfc = det_exp(-(z * z)) / (t * math.sqrt(math.pi))
    value = torch.where(a < 2.5, series, torch.where(a < 6.0, 1.0 - erfc, torch.ones_like(a)))
    return value * torch.sign(x)


def det_gelu(x: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    if approximate == "tanh":
        x32 = x.to(torch.float32)
        inner = math.sqrt(2.0 / math.pi) * (x32 + 0.044715 * (x32 * x32 * x32))
        return 0.5 * x32 * (1.0 + det_tanh(inner))
    x64 = x.to(torch.float64)
    return 0.5 * x64 * (1.0 + det_erf(x64 * (1.0 / math.sqrt(2.0))))


# --- the mode ------------------------------------------------------------------------------

def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _linear(args: tuple, kwargs: dict) -> torch.Tensor:
    return exact_linear(args[0], args[1], _arg(args, kwargs, 2, "bias"))


def _addmm(args: tuple, kwargs: dict) -> torch.Tensor:
    bias, x, weight = args[0], args[1], args[2]
    if kwargs.get("beta", 1) != 1 or kwargs.get("alpha", 1) != 1:
        raise SuperposeError("batch-invariant projection: addmm with beta or alpha is not supported")
    return exact_linear(x, weight, bias, transposed=True)


def _matmul(args: tuple, kwargs: dict) -> torch.Tensor:
    x, weight = args[0], args[1]
    if weight.dim() != 2:
        raise SuperposeError("batch-invariant projection: only products with a matrix are supported")
    return exact_linear(x, weight, transposed=True)


def _last_dim(x: torch.Tensor, dim: Any) -> bool:
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return len(dims) == 1 and dims[0] is not None and dims[0] % x.dim() == x.dim() - 1


def _mean(args: tuple, kwargs: dict) -> torch.Tensor:
    x, dim = args[0], _arg(args, kwargs, 1, "dim")
    if not _last_dim(x, dim):
        raise SuperposeError("batch-invariant projection: only means over the last dimension are supported")
    total = tree_sum(x) / x.shape[-1]
    return total if _arg(args, kwargs, 2, "keepdim", False) else total.squeeze(-1)


def _sum(args: tuple, kwargs: dict) -> torch.Tensor:
    x, dim = args[0], _arg(args, kwargs, 1, "dim")
    if not _last_dim(x, dim):
        raise SuperposeError("batch-invariant projection: only sums over the last dimension are supported")
    total = tree_sum(x)
    return total if _arg(args, kwargs, 2, "keepdim", False) else total.squeeze(-1)


def _pow(args: tuple, kwargs: dict) -> torch.Tensor:
    x, exponent = args[0], _arg(args, kwargs, 1, "exponent")
    if not isinstance(x, torch.Tensor) or isinstance(exponent, torch.Tensor) or \
            float(exponent) not in (1.0, 2.0, 3.0, 4.0):
        raise SuperposeError(f"batch-invariant projection: pow with exponent {exponent!r} is not supported")
    out = x
    for _ in range(int(exponent) - 1):
        out = out * x
    return out


def _rsqrt(args: tuple, kwargs: dict) -> torch.Tensor:
    return 1.0 / torch.sqrt(args[0])


def _layer_norm(args: tuple, kwargs: dict) -> torch.Tensor:
    x = args[0]
    shape = _arg(args, kwargs, 1, "normalized_shape")
    weight, bias = _arg(args, kwargs, 2, "weight"), _arg(args, kwargs, 3, "bias")
    eps = _arg(args, kwargs, 4, "eps", 1e-5)
    if len(tuple(shape)) != 1:
        raise SuperposeError("batch-invariant projection: only layer norms over the last dimension are supported")
    n = x.shape[-1]
    x32 = x.to(torch.float32)
    mean = tree_sum(x32) / n
    centred = x32 - mean
    var = tree_sum(centred * centred) / n
    out = centred / torch.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out.to(x.dtype)


def _unary(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[tuple, dict], torch.Tensor]:
    def run(args: tuple, kwargs: dict) -> torch.Tensor:
        return fn(args[0]).to(args[0].dtype)
    return run


def _silu(args: tuple, kwargs: dict) -> torch.Tensor:
    return det_silu(args[0]).to(args[0].dtype)


def _gelu(args: tuple, kwargs: dict) -> torch.Tensor:
    x = args[0]
    return det_gelu(x, _arg(args, kwargs, 1, "approximate", "none")).to(x.dtype)


def _dropout(args: tuple, kwargs: dict) -> torch.Tensor:
    if _arg(args, kwargs, 2, "training", True):
        raise SuperposeError("batch-invariant projection: dropout in training mode")
    return args[0]


_HANDLERS: dict[Any, Callable[[tuple, dict], torch.Tensor]] = {
    F.linear: _linear, torch.addmm: _addmm, torch.Tensor.addmm: _addmm,
    torch.matmul: _matmul, torch.Tensor.matmul: _matmul, torch.Tensor.__matmul__: _matmul,
    torch.mm: _matmul, torch.Tensor.mm: _matmul,
    torch.mean: _mean, torch.Tensor.mean: _mean, torch.sum: _sum, torch.Tensor.sum: _sum,
    torch.pow: _pow, torch.Tensor.pow: _pow, torch.Tensor.__pow__: _pow,
    torch.rsqrt: _rsqrt, torch.Tensor.rsqrt: _rsqrt,
    F.layer_norm: _layer_norm,
    torch.exp: _unary(det_exp), torch.Tensor.exp: _unary(det_exp),
    torch.tanh: _unary(det_tanh), torch.Tensor.tanh: _unary(det_tanh), F.tanh: _unary(det_tanh),
    torch.sigmoid: _unary(det_sigmoid), torch.Tensor.sigmoid: _unary(det_sigmoid),
    F.sigmoid: _unary(det_sigmoid), torch.erf: _unary(det_erf), torch.Tensor.erf: _unary(det_erf),
    F.silu: _silu, F.gelu: _gelu, F.dropout: _dropout,
}

# Functions that only move, cast or combine elements with correctly rounded IEEE operations.
_SAFE = {
    "__getitem__", "__len__", "__get__", "add", "__add__", "__radd__", "__iadd__", "sub", "__sub__",
    "__rsub__", "mul", "__mul__", "__rmul__", "__imul__", "div", "__truediv__", "__rtruediv__",
    "neg", "__neg__", "sqrt", "contiguous", "expand", "reshape", "view", "to", "float", "double",
    "type_as", "size", "dim", "arange", "zeros", "ones", "zeros_like", "ones_like", "full",
    "cat", "stack", "transpose", "t", "unsqueeze", "squeeze", "clone", "detach", "permute",
    "flatten", "split", "chunk", "narrow", "select", "index_select", "where", "abs", "sign",
    "clamp", "round", "frexp", "amax", "full_like", "__setitem__", "copy_", "numel",
    "is_floating_point", "dtype", "device", "shape", "__format__", "__repr__", "half", "bfloat16",
    "__eq__", "__lt__", "__gt__", "__le__", "__ge__", "__ne__", "__bool__", "item", "tolist",
    "__iter__", "__hash__", "new_zeros", "new_ones", "new_empty", "empty", "empty_like",
}


class BatchInvariant(TorchFunctionMode):
    """Run the model's modules with the batch-invariant arithmetic of the module docstring."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        handler = _HANDLERS.get(func)
        if handler is not None:
            return handler(args, kwargs)
        name = getattr(func, "__name__", "")
        if name not in _SAFE:
            raise SuperposeError(f"the batch-invariant projection does not know the function "
                                 f"{getattr(func, '__qualname__', func)!r} that this model calls: "
                                 "its results could depend on the batch (please report it)")
        return func(*args, **kwargs)
