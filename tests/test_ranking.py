"""The compiled top/bottom-tau kernel equals a stable sort of each whole row, and the torch path."""

import numpy as np
import pytest
import torch

from superpose.projection import project as project_module
from superpose.projection.ranking import _cut, extremes_cpu


def _want(row: np.ndarray, tau: int, largest: bool) -> np.ndarray:
    """Ids by score (best first), equal scores (-0.0 == 0.0 included) by lower id."""
    key = -(row + 0.0) if largest else row + 0.0
    return np.lexsort((np.arange(len(row)), key))[:tau]


def _rows(vocab: int, dtype: torch.dtype, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    s = torch.randn(8, vocab, generator=gen, dtype=torch.float64).to(dtype)
    s[1] = torch.randint(-4, 5, (vocab,), generator=gen).to(dtype)  # ties across many blocks
    s[2] = 0.0
    s[2, ::3] = -0.0  # zeros of both signs: equal scores
    s[3, 5], s[3, 7] = float("inf"), -float("inf")
    s[4] = torch.arange(vocab, dtype=dtype) % 7  # ties in every block
    s[5, -1] = 100.0  # the last (maybe shorter) block holds the best and the worst
    s[5, -2] = -100.0
    s[6] = 3.0  # one value everywhere
    s[7] = torch.linspace(-1e300, 1e300, vocab, dtype=torch.float64).to(dtype)  # a huge range
    return s


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("vocab", [40, 1007, 1024, 4099])
def test_kernel_is_a_stable_sort_of_the_whole_row(vocab, dtype):
    scores = _rows(vocab, dtype, vocab)
    for tau in sorted({1, 2, 37, -(-vocab // 16), -(-vocab // 16) + 1, min(vocab, 900), vocab}):
        (top, top_v), (bottom, bottom_v) = extremes_cpu(scores, tau)
        assert top.dtype == torch.int64 and top_v.dtype == dtype
        for row in range(len(scores)):
            values = scores[row].numpy()
            for ids, got, largest in ((top, top_v, True), (bottom, bottom_v, False)):
                want = _want(values, tau, largest)
                assert ids[row].tolist() == want.tolist(), (row, tau, largest)
                # the scores themselves, bit for bit (the sign of a zero included)
                assert got[row].numpy().tobytes() == values[want].tobytes()


def test_extremes_on_the_cpu_equal_the_torch_path():
    scores = torch.cat([_rows(3000, torch.float64, 1), torch.randn(100, 3000, dtype=torch.float64)])
    for tau in (1, 188, 900):
        fast = project_module.extremes(scores, tau)
        slow = project_module._extremes_torch(scores, tau, (True, False))
        for (fi, fv), (si, sv) in zip(fast, slow, strict=True):
            assert torch.equal(fi, si)
            assert fv.numpy().tobytes() == sv.numpy().tobytes()


def test_threads_rank_disjoint_rows_to_the_same_answer():
    scores = torch.randn(200, 2000, dtype=torch.float64)
    one = extremes_cpu(scores, 50, threads=1)
    three = extremes_cpu(scores, 50, threads=3)
    for (a, av), (b, bv) in zip(one, three, strict=True):
        assert torch.equal(a, b) and torch.equal(av, bv)


def test_a_nan_row_is_left_to_the_torch_path():
    scores = torch.randn(4, 500, dtype=torch.float64)
    scores[2, 17] = float("nan")
    assert extremes_cpu(scores, 10) is None
    fast = project_module.extremes(scores, 10)
    slow = project_module._extremes_torch(scores, 10, (True, False))
    for (fi, fv), (si, sv) in zip(fast, slow, strict=True):
        assert torch.equal(fi, si)
        assert torch.equal(fv.isnan(), sv.isnan()) and torch.equal(fv.nan_to_num(), sv.nan_to_num())


@pytest.mark.parametrize("largest", [True, False])
def test_cut_is_an_extreme_at_least_tau_extremes_reach(largest):
    gen = np.random.default_rng(0)
    counts = np.zeros(256, np.int64)
    for bound in (gen.normal(size=3072), gen.integers(-3, 4, size=3072).astype(float), np.full(50, 2.0),
                  np.r_[gen.normal(size=99), np.inf], np.r_[gen.normal(size=99), -np.inf]):
        for tau in (1, 7, len(bound) // 2, len(bound)):
            cut = _cut(bound, tau, largest, counts)
            assert cut in bound
            reach = (bound >= cut) if largest else (bound <= cut)
            assert reach.sum() >= tau
            # close to the tau-th best: at most one bin's worth (1/255 of the range) beyond it
            best = np.sort(bound)[::-1][tau - 1] if largest else np.sort(bound)[tau - 1]
            span = np.ptp(bound[np.isfinite(bound)])
            if np.isfinite(bound).all():
                assert abs(best - cut) <= span / 255 * 1.0001
