"""Streaming per-neuron activation records for one layer, vectorised over all its neurons.

Memory is bounded by the record counts, not by the corpus: every structure below has a fixed
size of (records x sequence length x neurons). Sequences all have the same length.

Two passes over the same sequences (documented choice for the quantile samples):

* :class:`FirstPass` keeps per-neuron token statistics (mean, variance, maximum), the top-k
  sequences by their maximum activation, one shared uniform random sample of sequences
  (reservoir sampling, the same sequences for every neuron), and a fixed-edge histogram of each
  neuron's per-sequence maxima. The histogram bins are equal steps of ``asinh(1000 x)``, so they
  cover tiny and large activations of either sign with about 1.6 % relative resolution.
* :class:`QuantilePass` reads quantile edges off those histograms and, in a second run over the
  sequences, keeps for each neuron and quantile bucket a uniform random sample of the sequences
  whose maximum falls in the bucket (priority sampling with random keys).

The quantile edges are therefore exact up to one histogram bin; the samples within a bucket are
exactly uniform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from superpose.config import RecordParams

HIST_BINS = 2048
_HIST_SCALE = 1000.0
_HIST_LIMIT = float(np.arcsinh(1e7))  # covers |activation| up to 1e4

DEFAULT_QUANTILES: tuple[tuple[float, float], ...] = ((0.0, 0.5), (0.5, 0.9), (0.9, 0.99),
                                                      (0.99, 0.999))


def histogram_bins(values: torch.Tensor) -> torch.Tensor:
    """Histogram bin index of each value (same shape, int64)."""
    t = torch.asinh(values.double() * _HIST_SCALE)
    idx = torch.floor((t + _HIST_LIMIT) / (2 * _HIST_LIMIT) * HIST_BINS)
    return idx.clamp_(0, HIST_BINS - 1).long()


def bin_lower_edge(bins: np.ndarray) -> np.ndarray:
    """The activation value where each histogram bin starts."""
    t = np.asarray(bins, dtype=np.float64) / HIST_BINS * 2 * _HIST_LIMIT - _HIST_LIMIT
    return np.sinh(t) / _HIST_SCALE


def _merge_top(keep_keys: torch.Tensor, keep_ids: torch.Tensor, keep_acts: torch.Tensor,
               new_keys: torch.Tensor, new_ids: torch.Tensor, new_acts: torch.Tensor,
               largest: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep the k best keys per neuron among kept and new candidates, with their ids and acts.

    keys/ids: (k, N) and (B, N); acts: (k, L, N) and (B, L, N).
    """
    k, n_len, n_neurons = keep_acts.shape
    keys = torch.cat([keep_keys, new_keys])
    ids = torch.cat([keep_ids, new_ids])
    best_keys, idx = keys.topk(k, dim=0, largest=largest)
    acts = torch.cat([keep_acts, new_acts]).gather(
        0, idx[:, None, :].expand(k, n_len, n_neurons))
    return best_keys, ids.gather(0, idx), acts


class FirstPass:
    """Statistics, top-k, shared random sample and per-sequence-maximum histograms of a layer."""

    def __init__(self, n_neurons: int, seq_len: int, top_k: int = RecordParams.top_k,
                 n_random: int = RecordParams.n_random, seed: int = RecordParams.seed) -> None:
        self.n_neurons, self.seq_len = n_neurons, seq_len
        self.n_sequences = 0
        self.n_tokens = 0
        self.sum = torch.zeros(n_neurons, dtype=torch.float64)
        self.sumsq = torch.zeros(n_neurons, dtype=torch.float64)
        self.max = torch.full((n_neurons,), -torch.inf)
        self.hist = torch.zeros(n_neurons * HIST_BINS, dtype=torch.int64)
        self.top_keys = torch.full((top_k, n_neurons), -torch.inf)
        self.top_ids = torch.full((top_k, n_neurons), -1, dtype=torch.int64)
        self.top_acts = torch.zeros(top_k, seq_len, n_neurons)
        self.random_ids = torch.full((n_random,), -1, dtype=torch.int64)
        self.random_acts = torch.zeros(n_random, seq_len, n_neurons)
        self._rng = np.random.default_rng(seed)

    def update(self, acts: torch.Tensor, seq_ids: torch.Tensor) -> None:
        """Add a batch: ``acts`` (B, L, N) float, ``seq_ids`` (B,) global sequence numbers."""
        acts = acts.detach().float()
        b = acts.shape[0]
        flat = acts.reshape(-1, self.n_neurons).double()
        self.sum += flat.sum(0)
        self.sumsq += (flat * flat).sum(0)
        self.n_tokens += flat.shape[0]
        seq_max = acts.amax(dim=1)  # (B, N)
        self.max = torch.maximum(self.max, seq_max.amax(0))
        offsets = torch.arange(self.n_neurons) * HIST_BINS
        self.hist += torch.bincount((histogram_bins(seq_max) + offsets).ravel(),
                                    minlength=self.hist.numel())
        ids = seq_ids.long()[:, None].expand(b, self.n_neurons)
        self.top_keys, self.top_ids, self.top_acts = _merge_top(
            self.top_keys, self.top_ids, self.top_acts, seq_max, ids, acts, largest=True)
        self._reservoir(acts, seq_ids)
        self.n_sequences += b

    def _reservoir(self, acts: torch.Tensor, seq_ids: torch.Tensor) -> None:
        """Algorithm R over sequences: every sequence seen so far is kept with equal chance."""
        size = self.random_ids.numel()
        for i in range(acts.shape[0]):
            seen = self.n_sequences + i
            slot = seen if seen < size else int(self._rng.integers(0, seen + 1))
            if slot < size:
                self.random_ids[slot] = int(seq_ids[i])
                self.random_acts[slot] = acts[i]

    def histogram(self) -> torch.Tensor:
        return self.hist.view(self.n_neurons, HIST_BINS)

    def stats(self) -> dict[str, np.ndarray]:
        n = max(self.n_tokens, 1)
        mean = self.sum / n
        var = (self.sumsq / n - mean * mean).clamp_(min=0)
        return {"mean": mean.numpy(), "var": var.numpy(), "max": self.max.double().numpy()}


def quantile_bins(hist: torch.Tensor, q: float) -> torch.Tensor:
    """Per neuron, the first histogram bin with at least a fraction ``q`` of sequences below it."""
    counts = hist.double()
    below = torch.cumsum(counts, dim=1) - counts
    total = counts.sum(dim=1, keepdim=True).clamp(min=1)
    return ((below / total) < q).sum(dim=1)


class QuantilePass:
    """Uniform samples per neuron of the sequences whose maximum lies in each quantile bucket."""

    def __init__(self, hist: torch.Tensor, seq_len: int, per_bucket: int = 10,
                 quantiles: tuple[tuple[float, float], ...] = DEFAULT_QUANTILES,
                 seed: int = 1) -> None:
        n_neurons = hist.shape[0]
        self.n_neurons, self.quantiles = n_neurons, quantiles
        self.lo = torch.stack([quantile_bins(hist, a) if a > 0 else torch.zeros(n_neurons).long()
                               for a, _ in quantiles])  # (Q, N)
        self.hi = torch.stack([quantile_bins(hist, b) for _, b in quantiles])
        q = len(quantiles)
        self.keys = torch.full((q, per_bucket, n_neurons), torch.inf)
        self.ids = torch.full((q, per_bucket, n_neurons), -1, dtype=torch.int64)
        self.acts = torch.zeros(q, per_bucket, seq_len, n_neurons)
        self._gen = torch.Generator().manual_seed(seed)

    def update(self, acts: torch.Tensor, seq_ids: torch.Tensor) -> None:
        acts = acts.detach().float()
        b = acts.shape[0]
        bins = histogram_bins(acts.amax(dim=1))  # (B, N)
        ids = seq_ids.long()[:, None].expand(b, self.n_neurons)
        for j in range(len(self.quantiles)):
            inside = (bins >= self.lo[j]) & (bins < self.hi[j])
            keys = torch.rand(b, self.n_neurons, generator=self._gen)
            keys = torch.where(inside, keys, torch.full_like(keys, torch.inf))
            self.keys[j], self.ids[j], self.acts[j] = _merge_top(
                self.keys[j], self.ids[j], self.acts[j], keys, ids, acts, largest=False)
        # Keys of +inf mean "not in the bucket": forget those ids so they are never saved.
        self.ids[torch.isinf(self.keys)] = -1

    def edges(self) -> np.ndarray:
        """(Q, 2, N) activation values of each bucket's lower and upper edge."""
        return np.stack([bin_lower_edge(self.lo.numpy()), bin_lower_edge(self.hi.numpy())], axis=1)


@dataclass
class LayerRecords:
    """Everything kept for one layer, as numpy arrays (neuron axis last, as collected)."""

    top_ids: np.ndarray       # (k, N) int64, -1 where fewer than k sequences were seen
    top_max: np.ndarray       # (k, N)
    top_acts: np.ndarray      # (k, L, N)
    random_ids: np.ndarray    # (R,) shared by all neurons; (R, N) per neuron in imported records
    random_acts: np.ndarray   # (R, L, N)
    quantile_ids: np.ndarray  # (Q, n, N), -1 where a bucket had fewer sequences
    quantile_acts: np.ndarray  # (Q, n, L, N)
    quantile_edges: np.ndarray  # (Q, 2, N)
    quantiles: np.ndarray     # (Q, 2)
    mean: np.ndarray          # (N,)
    var: np.ndarray
    max: np.ndarray
    n_tokens: int

    def neuron_random_ids(self, neuron: int) -> np.ndarray:
        """Sequence ids of ``neuron``'s random sample (-1: none), shared or per neuron."""
        return self.random_ids if self.random_ids.ndim == 1 else self.random_ids[:, neuron]


def finish(first: FirstPass, second: QuantilePass | None) -> LayerRecords:
    stats = first.stats()
    n, length = first.n_neurons, first.seq_len
    if second is None:
        q_ids = np.full((0, 0, n), -1, dtype=np.int64)
        q_acts = np.zeros((0, 0, length, n), dtype=np.float32)
        q_edges = np.zeros((0, 2, n))
        quantiles = np.zeros((0, 2))
    else:
        q_ids, q_acts = second.ids.numpy(), second.acts.numpy()
        q_edges, quantiles = second.edges(), np.array(second.quantiles, dtype=np.float64)
    keep = slice(0, min(first.n_sequences, first.random_ids.numel()))
    return LayerRecords(
        top_ids=first.top_ids.numpy(), top_max=first.top_keys.numpy(),
        top_acts=first.top_acts.numpy(), random_ids=first.random_ids[keep].numpy(),
        random_acts=first.random_acts[keep].numpy(), quantile_ids=q_ids, quantile_acts=q_acts,
        quantile_edges=q_edges, quantiles=quantiles, mean=stats["mean"], var=stats["var"],
        max=stats["max"], n_tokens=first.n_tokens)
