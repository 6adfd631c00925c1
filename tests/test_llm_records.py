"""Streaming records against brute force on random activations, and the layer file round trip."""

import numpy as np
import pytest
import torch

from superpose.activations.formats import load_layer, save_layer
from superpose.activations.records import (
    FirstPass,
    QuantilePass,
    finish,
    histogram_bins,
    quantile_bins,
)


def _data(seed=0, s=300, length=6, n=5):
    gen = torch.Generator().manual_seed(seed)
    acts = torch.randn(s, length, n, generator=gen) * torch.tensor([1.0, 0.01, 50.0, 1.0, 3.0])
    acts[:, :, 3] = -torch.rand(s, length, generator=gen)  # a neuron that is never positive
    return acts


def _stream(acts, batch, top_k=7, n_random=9, per_bucket=4):
    first = FirstPass(acts.shape[2], acts.shape[1], top_k, n_random, seed=3)
    for start in range(0, len(acts), batch):
        first.update(acts[start:start + batch], torch.arange(start, min(start + batch, len(acts))))
    second = QuantilePass(first.histogram(), acts.shape[1], per_bucket)
    for start in range(0, len(acts), batch):
        second.update(acts[start:start + batch], torch.arange(start, min(start + batch, len(acts))))
    return first, second


@pytest.mark.parametrize("batch", [1, 16, 300])
def test_top_k_and_statistics_match_brute_force(batch):
    acts = _data()
    first, _ = _stream(acts, batch)
    rec = finish(first, None)
    seq_max = acts.amax(dim=1).numpy()
    for n in range(acts.shape[2]):
        want = np.argsort(-seq_max[:, n], kind="stable")[:7]
        assert sorted(rec.top_ids[:, n]) == sorted(want)
        assert rec.top_max[:, n] == pytest.approx(np.sort(seq_max[:, n])[::-1][:7], rel=1e-6)
        for i, s in enumerate(rec.top_ids[:, n]):
            assert np.array_equal(rec.top_acts[i, :, n], acts[s, :, n].numpy())
    flat = acts.reshape(-1, acts.shape[2]).double().numpy()
    assert rec.mean == pytest.approx(flat.mean(0), rel=1e-9, abs=1e-12)
    assert rec.var == pytest.approx(flat.var(0), rel=1e-6)
    assert rec.max == pytest.approx(flat.max(0), rel=1e-6)
    assert rec.n_tokens == flat.shape[0]


def test_random_sample_is_distinct_shared_and_carries_its_activations():
    acts = _data()
    first, _ = _stream(acts, 8)
    rec = finish(first, None)
    assert len(set(rec.random_ids.tolist())) == 9
    for i, s in enumerate(rec.random_ids):
        assert np.array_equal(rec.random_acts[i], acts[s].numpy())
    other = finish(_stream(acts, 8)[0], None)
    assert np.array_equal(rec.random_ids, other.random_ids)  # seeded: reproducible
    small = FirstPass(5, 6, 7, 9)
    small.update(acts[:3], torch.arange(3))
    assert finish(small, None).random_ids.tolist() == [0, 1, 2]


def test_quantile_samples_lie_in_their_buckets():
    acts = _data(s=2000)
    first, second = _stream(acts, 64)
    bins = histogram_bins(acts.amax(dim=1))  # (S, N)
    hist = first.histogram()
    for j, (a, b) in enumerate(second.quantiles):
        lo = quantile_bins(hist, a) if a > 0 else torch.zeros(5).long()
        hi = quantile_bins(hist, b)
        for n in range(5):
            ids = [int(s) for s in second.ids[j, :, n] if s >= 0]
            inside = ((bins[:, n] >= lo[n]) & (bins[:, n] < hi[n])).nonzero().ravel().tolist()
            assert set(ids) <= set(inside)
            assert len(ids) == min(4, len(inside)) and len(set(ids)) == len(ids)
            # the bucket's share of sequences is close to its quantile width
            assert len(inside) / 2000 == pytest.approx(b - a, abs=0.02)


def test_histogram_quantile_matches_numpy_quantile_within_a_bin():
    values = torch.randn(5000, 1).double() * 3
    hist = torch.bincount(histogram_bins(values).ravel(), minlength=2048)[None]
    from superpose.activations.records import bin_lower_edge

    for q in (0.5, 0.9, 0.99):
        edge = bin_lower_edge(quantile_bins(hist, q).numpy())[0]
        assert edge == pytest.approx(np.quantile(values.numpy(), q), rel=0.03, abs=0.01)


def test_layer_file_round_trip(tmp_path):
    first, second = _stream(_data(), 32)
    rec = finish(first, second)
    save_layer(tmp_path, 4, rec)
    back = load_layer(tmp_path, 4)
    assert back.n_tokens == rec.n_tokens
    for name in ("top_ids", "top_acts", "random_ids", "quantile_ids", "quantile_acts", "mean"):
        assert np.array_equal(getattr(back, name), getattr(rec, name))


def test_limited_split_keeps_the_first_records_of_each_kind():
    from superpose.activations.formats import ActivationRecord, RecordSplit

    def recs(kind, n, start):
        return [ActivationRecord(["a"], np.zeros(1), start + i, kind) for i in range(n)]

    split = RecordSplit(recs("top", 5, 0), recs("top", 4, 10) + recs("random", 6, 20),
                        recs("top", 3, 30) + recs("random", 7, 40))
    cut = split.limited(2)
    assert [r.sequence for r in cut.calibration] == [10, 11, 20, 21]
    assert [r.sequence for r in cut.holdout] == [30, 31, 40, 41]
    assert cut.explain == split.explain
    assert split.limited(0) is split
    assert len(split.limited(100).holdout) == 10
