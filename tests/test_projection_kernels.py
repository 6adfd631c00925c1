"""The compiled CPU kernels of the batch-invariant projection give the bits of the torch
expressions they replace (superpose.projection.kernels), on hand-made rows: zeros and signed
zeros, subnormal and tiny rows, ties, the clamp's edges, huge and non-finite values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from superpose.projection import exact as exact_module
from superpose.projection.exact import det_sigmoid, det_silu, tree_sum


def _same_bits(got: torch.Tensor, want: torch.Tensor) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    ints = {torch.float32: torch.int32, torch.float64: torch.int64}[got.dtype]
    assert torch.equal(got.contiguous().view(ints), want.contiguous().view(ints))


def _float32_samples() -> torch.Tensor:
    gen = torch.Generator().manual_seed(5)
    every = torch.arange(0x3F000000, 0x3F000000 + 300_000, dtype=torch.int32).view(torch.float32)
    special = torch.tensor([0.0, -0.0, 1e-45, -1e-45, 1e-38, -1e-38, 87.0, -87.0, 88.0, -88.0, 87.5,
                            -87.5, 89.0, -89.0, 1e30, -1e30, float("inf"), -float("inf"),
                            0.5 * 0.693359375, -0.5 * 0.693359375])
    return torch.cat([torch.linspace(-100, 100, 400_001), torch.randn(200_000, generator=gen) * 8,
                      torch.randn(50_000, generator=gen) * 1e-4, every, -every, special])


def test_sigmoid_and_silu_kernels_are_the_torch_bits():
    x = _float32_samples()
    _same_bits(det_sigmoid(x), det_sigmoid(x, compiled=False))
    _same_bits(det_silu(x), det_silu(x, compiled=False))
    grid = x[:600_000].reshape(300, 2000)  # any shape: the kernel sees the flat elements
    _same_bits(det_silu(grid), det_silu(grid, compiled=False))
    assert torch.isnan(det_sigmoid(torch.tensor([float("nan")]))).all()


def test_silu_kernel_keeps_the_models_dtype_under_the_mode():
    x = _float32_samples()[:10_000].reshape(100, 100)
    with exact_module.BatchInvariant():
        got = torch.nn.functional.silu(x.bfloat16())
    assert got.dtype == torch.bfloat16
    assert torch.equal(got, det_silu(x.bfloat16(), compiled=False).bfloat16())


@pytest.mark.parametrize("n", [2, 3, 5, 7, 49, 576, 577, 1536])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_tree_sum_kernel_is_the_torch_tree(n, dtype):
    gen = torch.Generator().manual_seed(n)
    x = (torch.randn(4, 9, n, generator=gen) * torch.logspace(-6, 6, 9)[:, None]).to(dtype)
    x[0, 0] = 0.0
    x[0, 1] = -0.0  # an all -0 row sums to -0
    x[0, 2, ::2] = 1e30
    x[0, 2, 1::2] = -1e30  # cancellation: the order decides
    got = tree_sum(x)
    _same_bits(got, tree_sum(x, compiled=False))
    assert got.shape == (4, 9, 1)
    _same_bits(tree_sum(x[:, :, ::1].transpose(0, 1)), tree_sum(x.transpose(0, 1), compiled=False))


def _hand_made_rows(gen: torch.Generator) -> torch.Tensor:
    x = torch.randn(16, 333, generator=gen) * torch.logspace(-40, 37, 16)[:, None]
    x[0] = 0.0
    x[1] = -0.0
    x[2, ::2] = 0.0
    x[3, ::3] = 1e-42  # subnormal entries in a row of normal ones
    x[4] = 1e-45  # a row of the smallest subnormal
    x[5] = torch.randn(333, generator=gen) * 1e-35  # largest magnitude below 2**-100
    x[6] = 2.0 ** -20 * torch.arange(333, dtype=torch.float32)  # ties to even at 21-22 bits
    x[7] = 0.5 * torch.randint(-4, 5, (333,), generator=gen).float()
    x[8] = -x[8].abs()
    x[9] = 3.0e38  # near the float32 maximum
    return x


@pytest.mark.parametrize("bits", [12, 21, 22, 24, 26])
def test_quantize_kernel_is_the_torch_rule(bits):
    x = _hand_made_rows(torch.Generator().manual_seed(bits))
    _same_bits(exact_module._quantize(x, bits), exact_module._quantize(x, bits, compiled=False))
    _same_bits(exact_module._quantize(x, bits), exact_module._quantize(x.double(), bits))
    t = x.T.contiguous().T  # a transposed (weight) view
    _same_bits(exact_module._quantize(t, bits), exact_module._quantize(t, bits, compiled=False))


def test_quantize_kernel_hands_non_finite_rows_to_the_torch_rule():
    x = _hand_made_rows(torch.Generator().manual_seed(1))
    x[10, 7] = float("inf")
    x[11, 3] = float("nan")
    got, want = exact_module._quantize(x, 21), exact_module._quantize(x, 21, compiled=False)
    assert torch.equal(got.isnan(), want.isnan())
    finite = ~want.isnan()
    assert torch.equal(got[finite], want[finite])


def test_kernels_leave_other_devices_and_grad_to_torch():
    x = torch.randn(3, 8, requires_grad=True)
    assert not exact_module._compiled(x, torch.float32)
    assert not exact_module._compiled(torch.randn(3, 8, dtype=torch.float16), torch.float32)
    assert exact_module._compiled(torch.randn(3, 8), torch.float32)
    if torch.cuda.is_available():
        assert not exact_module._compiled(torch.randn(3, 8, device="cuda"), torch.float32)


def test_kernel_output_does_not_alias_its_input():
    x = torch.randn(5, 64)
    before = x.clone()
    out = det_silu(x)
    assert np.shares_memory(out.numpy(), x.numpy()) is False
    assert torch.equal(x, before)
