"""Project neurons onto the vocabulary (docs/method.md step 1): the "betas" of each unit.

Four modes; a *unit* is an MLP neuron of block ``l`` in the Hi modes and a residual-stream
dimension entering block ``l`` in the Lo modes:

- ``hi-c``: the neuron's output direction (down-projection column, plus bias, plus any post-MLP
  norm; see the adapters) through blocks ``l+1 .. L-1``, the final norm and the unembedding.
- ``hi-i``: the same vector straight to the final norm and the unembedding.
- ``lo-c``: the one-hot of dimension ``d`` through blocks ``l .. L-1``, final norm, unembedding.
- ``lo-i``: the one-hot through block ``l`` alone, final norm, unembedding.

The blocks are the model's own modules run on a one-position sequence: the batch dimension
holds many units, so a layer goes through in a few large matrix products. Only one batch of
``batch x vocabulary`` float32 logits (plain forward), or 256 MB of float64 scores (exact
forward: the unembedding runs on as many rows of the batch as fit, a whole batch of 682 at a
49k-token vocabulary), exists at once;
:func:`project_layer` keeps the top and bottom ``tau`` token ids and logits of each unit
(:func:`extremes`). On-disk format: :mod:`superpose.projection.store`.

:func:`project_layer` runs under :class:`~superpose.projection.exact.BatchInvariant`, so a unit's
ranking is a function of the unit alone: the same whatever the batch size, the other units of
the batch, the thread count or the executor (docs/formats/projection.md, "Guarantees").
:func:`iter_logits` is the plain float32 forward (faster, last bits depend on the batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from superpose.config import MODES, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.models import LoadedModel, as_loaded
from superpose.projection.exact import BatchInvariant, det_tanh64, exact_linear
from superpose.projection.ranking import extremes_cpu

DEFAULT_TAU = ProjectionConfig.tau  # declared once, in superpose.config
DEFAULT_BATCH: int | None = None  # None: as many units as keep one batch of logits near 128 MB
_BATCH_LOGITS = 1 << 25

__all__ = ["DEFAULT_BATCH", "DEFAULT_TAU", "MODES", "LayerProjection", "auto_batch", "block_indices", "check_layer",
           "check_mode", "check_source", "check_tau", "check_units", "iter_logits", "n_units", "neuron_logits",
           "extremes", "project_layer", "ranked", "unit_scores", "unit_states"]


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SuperposeError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
    return mode


def n_units(lm: LoadedModel, mode: str) -> int:
    """Units per layer: MLP neurons in the Hi modes, residual dimensions in the Lo modes."""
    return lm.n_neurons if check_mode(mode).startswith("hi") else lm.hidden_size


def check_layer(lm: LoadedModel, layer: int) -> int:
    if not 0 <= int(layer) < lm.n_layers:
        raise SuperposeError(f"layer {layer} is out of range for {lm.name}: valid layers are "
                             f"0-{lm.n_layers - 1}")
    return int(layer)


def check_units(lm: LoadedModel, mode: str, units: Sequence[int] | np.ndarray | None,
                source: Any = None) -> np.ndarray:
    """The unit indices as int64, all of the layer's units when ``units`` is None."""
    size = n_units(lm, mode) if source is None else source.n_units()
    if units is None:
        return np.arange(size, dtype=np.int64)
    arr = np.ascontiguousarray(np.asarray(units, dtype=np.int64).reshape(-1))
    bad = arr[(arr < 0) | (arr >= size)]
    if bad.size:
        what = (f"{source.unit_name}s" if source is not None else "neurons" if mode.startswith("hi")
                else "residual dimensions")
        raise SuperposeError(f"unit {int(bad[0])} is out of range for {lm.name} in {mode}: valid "
                             f"{what} are 0-{size - 1}")
    return arr


def check_tau(lm: LoadedModel, tau: int) -> int:
    if not 1 <= tau <= lm.vocab_size:
        raise SuperposeError(f"tau {tau} is out of range for {lm.name}: choose 1-{lm.vocab_size} "
                             "(the vocabulary size)")
    return tau


def _start_vectors(lm: LoadedModel, mode: str, layer: int, units: torch.Tensor) -> torch.Tensor:
    """Rows in the model's own dtype, so reduced-precision models run in that precision."""
    dtype = lm.placement.torch_dtype
    if mode.startswith("hi"):
        block = lm.adapter.blocks(lm.model)[layer]
        return lm.adapter.out_directions(block, units).to(dtype)
    device = lm.adapter.unembedding(lm.model).weight.device
    vectors = torch.zeros((len(units), lm.hidden_size), dtype=dtype, device=device)
    vectors[torch.arange(len(units), device=device), units] = 1.0
    return vectors


def block_indices(lm: LoadedModel, mode: str, layer: int) -> range:
    """The blocks a ``mode`` runs a unit of ``layer`` through (the method's step 1)."""
    return {"hi-c": range(layer + 1, lm.n_layers), "hi-i": range(0),
            "lo-c": range(layer, lm.n_layers), "lo-i": range(layer, layer + 1)}[mode]


def auto_batch(lm: LoadedModel, batch_size: int | None) -> int:
    """``batch_size``, or for None the largest batch (16-1024) whose logits fit in 128 MB:
    512-680 units for 50k-token vocabularies, 128 for Gemma's 262k."""
    if batch_size is None:
        return max(16, min(1024, _BATCH_LOGITS // lm.vocab_size))
    if batch_size < 1:
        raise SuperposeError(f"batch size must be at least 1, got {batch_size}")
    return batch_size


def check_source(lm: LoadedModel, mode: str, layer: int, source: Any) -> None:
    """One-line error unless ``source`` (if any) fits the model, the mode and ``layer``."""
    if source is None:
        return
    source.check_model(lm)
    source.blocks(lm.n_layers, mode)
    if layer != source.layer:
        raise SuperposeError(f"the SAE's hook is at layer {source.layer}, not {layer}: project "
                             f"layer {source.layer} (or leave --layers out)")


def _full_block(lm: LoadedModel, index: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """The block's own forward on (batch, hidden) rows at one position: the reference."""
    def run(x: torch.Tensor) -> torch.Tensor:
        return lm.adapter.run_block(lm.model, index, x[:, None, :])[:, 0, :]
    return run


def _quick_block(lm: LoadedModel, index: int, probe: torch.Tensor
                 ) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The adapter's value/output-path block when it reproduces the block's own forward on the
    first rows of ``probe`` (to a few units in the last place of the dtype), else None.

    Checked on real inputs each time a layer is projected, so a family variant the adapter does
    not know about (an extra norm, a different attention) is caught.
    """
    quick = lm.adapter.one_position_block(lm.model, index)
    if quick is None:
        return None
    rows = probe[:4]
    want, got = _full_block(lm, index)(rows), quick(rows)
    tol = min(64 * torch.finfo(want.dtype).eps, 0.02)  # float32: 7.6e-6; half types: 2%
    if got.shape == want.shape and torch.allclose(got, want, rtol=tol,
                                                  atol=tol * float(want.abs().max())):
        return quick
    return None


def _checked_block(lm: LoadedModel, index: int, probe: torch.Tensor
                   ) -> Callable[[torch.Tensor], torch.Tensor]:
    """The checked value/output-path block (:func:`_quick_block`), else the block's own forward:
    an unknown variant costs speed, never correctness."""
    return _quick_block(lm, index, probe) or _full_block(lm, index)


def _starts(lm: LoadedModel, mode: str, layer: int, index: torch.Tensor, source: Any) -> torch.Tensor:
    """Start vectors of the units in ``index``: the model's own, or the source's (an SAE)."""
    return (_start_vectors(lm, mode, layer, index) if source is None
            else source.start_vectors(index).to(lm.placement.torch_dtype))


def _batches(lm: LoadedModel, mode: str, layer: int, units: np.ndarray, batch_size: int | None,
             source: Any) -> Iterator[tuple[slice, torch.Tensor, range]]:
    """(positions in ``units``, their indices on the model's device, blocks to run) per batch."""
    check_source(lm, mode, layer, source)
    batch_size = auto_batch(lm, batch_size)
    blocks = block_indices(lm, mode, layer) if source is None else source.blocks(lm.n_layers, mode)
    device = lm.adapter.unembedding(lm.model).weight.device
    for start in range(0, len(units), batch_size):
        part = slice(start, min(start + batch_size, len(units)))
        yield part, torch.as_tensor(units[part], dtype=torch.long, device=device), blocks


def iter_logits(lm: LoadedModel, mode: str, layer: int, units: np.ndarray,
                batch_size: int | None = DEFAULT_BATCH, source: Any = None, *,
                full_blocks: bool = False) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield (positions in ``units``, float32 logits of shape (batch, vocab)) batch by batch.

    ``source`` replaces the model's own units by other output directions (SAE latents,
    :class:`superpose.units.Sae`): it gives the start vectors and the blocks to run. The logits
    stay on the model's device; blocks run in the model's dtype, logits are float32.
    Blocks run their attention's value/output path only (see
    :meth:`~superpose.models.adapters.base.Adapter.one_position_block`); ``full_blocks`` runs
    every block's own full forward instead (the reference; slower, same results).
    """
    check_mode(mode)
    check_layer(lm, layer)
    runners: dict[int, Callable[[torch.Tensor], torch.Tensor]] = {}
    with torch.inference_mode():
        for part, index, blocks in _batches(lm, mode, layer, units, batch_size, source):
            hidden = _starts(lm, mode, layer, index, source)
            for b in blocks:
                if b not in runners:
                    runners[b] = _full_block(lm, b) if full_blocks else _checked_block(lm, b, hidden)
                hidden = runners[b](hidden)
            yield part, lm.adapter.unembed(lm.model, hidden).to(torch.float32)


def neuron_logits(model: Any, mode: str, layer: int, neurons: Sequence[int] | None = None, *,
                  batch_size: int | None = DEFAULT_BATCH, source: Any = None) -> np.ndarray:
    """Full logits, float32 (len(neurons), vocabulary), of units of ``layer`` in ``mode``.

    ``model`` is an embedded name, a folder, a hub id, a LoadedModel or a PreTrainedModel;
    ``neurons`` defaults to all of the layer's units (hidden-size many in the Lo modes, the
    latents of ``source``, an SAE, when given).
    """
    check_mode(mode)
    lm = as_loaded(model)
    check_layer(lm, layer)
    units = check_units(lm, mode, neurons, source)
    out = np.empty((len(units), lm.vocab_size), dtype=np.float32)
    for part, logits in iter_logits(lm, mode, layer, units, batch_size, source):
        out[part] = logits.cpu().numpy()
    return out


@dataclass
class LayerProjection:
    """Top and bottom ``tau`` tokens of each unit of one layer, best first.

    ``top_ids[i]`` are token ids by decreasing logit, ``bottom_ids[i]`` by increasing logit;
    row ``i`` belongs to unit ``neurons[i]``.
    """

    model: str
    mode: str
    layer: int
    tau: int
    neurons: np.ndarray
    top_ids: np.ndarray
    top_logits: np.ndarray
    bottom_ids: np.ndarray
    bottom_logits: np.ndarray


def project_layer(lm: LoadedModel, mode: str, layer: int, neurons: Sequence[int] | None = None, *,
                  tau: int = DEFAULT_TAU, batch_size: int | None = DEFAULT_BATCH,
                  on_batch: Callable[[int], None] | None = None, source: Any = None,
                  full_blocks: bool = False) -> LayerProjection:
    """Project one layer keeping, per unit, the top-tau and bottom-tau ids and logits.

    Token order is by the unit's exact score (:func:`unit_scores`), ties by lower token id, so
    every row depends on its unit alone. ``on_batch(n)`` is called after each batch of ``n``
    units (progress bars); ``source``: as in :func:`iter_logits`. ``full_blocks`` runs the plain
    float32 forward with every block's own full forward instead (the reference for checks).
    """
    check_mode(mode)
    check_layer(lm, layer)
    check_tau(lm, tau)
    units = check_units(lm, mode, neurons, source)
    shape = (len(units), tau)
    top_ids, bottom_ids = np.empty(shape, np.int32), np.empty(shape, np.int32)
    top_logits, bottom_logits = np.empty(shape, np.float32), np.empty(shape, np.float32)
    batches = (iter_logits(lm, mode, layer, units, batch_size, source, full_blocks=True)
               if full_blocks else _iter_scores(lm, mode, layer, units, batch_size, source))
    for part, scores in batches:
        for (ids, values), ids_out, logits_out in zip(extremes(scores, tau), (top_ids, bottom_ids),
                                                      (top_logits, bottom_logits), strict=True):
            ids_out[part] = ids.cpu().numpy()
            logits_out[part] = (values.to(torch.float32) if full_blocks else
                                capped(lm, values)).cpu().numpy()
        if on_batch is not None:
            on_batch(part.stop - part.start)
    return LayerProjection(lm.name, mode, layer, tau, units, top_ids, top_logits, bottom_ids,
                           bottom_logits)


def _exact_block(lm: LoadedModel, index: int, probe: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """The checked one-position block (:func:`_quick_block`). Refused, never replaced, when it
    fails its check, so which code runs cannot depend on the rows it was checked on."""
    quick = _quick_block(lm, index, probe)
    if quick is None:
        raise SuperposeError(f"block {index} of {lm.name} does not match its adapter's one-position "
                             "path, which the batch-invariant projection needs: please report it")
    return quick


# float64 scores over the vocabulary held at once: 682 units at 49k tokens (a whole default batch:
# the unembedding's product runs 1.27x faster per row than in pieces of 170 rows, measured on 2 threads)
_SCORE_BYTES = 1 << 28


def _iter_scores(lm: LoadedModel, mode: str, layer: int, units: np.ndarray,
                 batch_size: int | None, source: Any) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield (positions in ``units``, float64 scores (rows, vocab)) from :func:`unit_scores`:
    the blocks run on the whole batch, the unembedding on a few rows at a time (a row's scores
    do not depend on the others), so one batch's float64 scores never all exist at once."""
    runners: dict[int, Callable[[torch.Tensor], torch.Tensor]] = {}
    rows = max(1, _SCORE_BYTES // (8 * lm.vocab_size))
    with torch.inference_mode():
        for part, index, blocks in _batches(lm, mode, layer, units, batch_size, source):
            for b in blocks:
                if b not in runners:
                    runners[b] = _exact_block(lm, b, _starts(lm, mode, layer, index[:4], source))
            normed = unit_states(lm, mode, layer, index, source, [runners[b] for b in blocks])
            for start in range(0, len(index), rows):
                stop = min(start + rows, len(index))
                yield slice(part.start + start, part.start + stop), _unembed(lm, normed[start:stop])


def unit_states(lm: LoadedModel, mode: str, layer: int, index: torch.Tensor, source: Any,
                runners: Sequence[Callable[[torch.Tensor], torch.Tensor]]) -> torch.Tensor:
    """The final-normed hidden states of the units in ``index``: start vectors, blocks and final
    norm under :class:`~superpose.projection.exact.BatchInvariant` (each row the same bits
    whatever else is in the batch)."""
    with BatchInvariant():
        hidden = _starts(lm, mode, layer, index, source)
        for run in runners:
            hidden = run(hidden)
        return lm.adapter.final_norm(lm.model)(hidden)


def _unembed(lm: LoadedModel, normed: torch.Tensor) -> torch.Tensor:
    head = lm.adapter.unembedding(lm.model)
    return exact_linear(normed, head.weight, getattr(head, "bias", None), out_dtype=torch.float64)


def unit_scores(lm: LoadedModel, mode: str, layer: int, index: torch.Tensor, source: Any,
                runners: Sequence[Callable[[torch.Tensor], torch.Tensor]]) -> torch.Tensor:
    """Exact float64 scores (logits before any soft-capping) of the units in ``index``.

    :func:`unit_states`, then the unembedding as an exact product: each row is the same bits
    whatever else is in the batch, threads or machine.
    """
    return _unembed(lm, unit_states(lm, mode, layer, index, source, runners))


def capped(lm: LoadedModel, scores: torch.Tensor) -> torch.Tensor:
    """Float32 logits of float64 scores: the model's final soft-capping (in fixed float64
    operations) where it has one."""
    cap = getattr(lm.model.config, "final_logit_softcapping", None)
    if cap:
        scores = det_tanh64(scores / cap) * cap
    return scores.to(torch.float32)


_GROUP = 16  # tokens per group whose largest and smallest scores give the candidates' thresholds


def ranked(scores: torch.Tensor, tau: int, *, largest: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row, the ``tau`` token ids with the largest (``largest``) or smallest scores, best
    first, ties by lower token id, and their scores: the same for a row whatever the other rows.

    One end of :func:`extremes`.
    """
    return extremes(scores, tau, ends=(largest,))[0]


def extremes(scores: torch.Tensor, tau: int, *, ends: tuple[bool, ...] = (True, False)
             ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(ids, scores) of the ``tau`` largest (end True) and smallest (end False) scores of each
    row, best first, ties by lower token id: the same for a row whatever the other rows.

    On the CPU a compiled kernel does it (:mod:`superpose.projection.ranking`, the same answer);
    elsewhere, and for rows holding NaN, torch operations: the row's tokens are split into groups
    of (at most) 16; the tau-th largest of the groups'
    maxima is a threshold that at least ``tau`` tokens reach (the maximum of each of those
    groups), and every token scoring at least as much as one that reaches it reaches it too. So
    the tokens at or above it hold the answer, ties at the tau-th score included, at the first
    try whatever the scores; they are sorted stably by score in token-id order, so equal scores
    keep the lower id first. The smallest end is the same with minima.
    """
    if scores.device.type == "cpu" and scores.dtype in (torch.float32, torch.float64) and scores.shape[0]:
        both = extremes_cpu(scores, tau, torch.get_num_threads())
        if both is not None:
            return [both[0] if largest else both[1] for largest in ends]
    return _extremes_torch(scores, tau, ends)


def _extremes_torch(scores: torch.Tensor, tau: int, ends: tuple[bool, ...]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """:func:`extremes` with torch operations: any device, NaN scores (sorted where torch puts them)."""
    n, vocab = scores.shape
    groups = -(-vocab // _GROUP)
    if tau > groups:  # a small vocabulary: every token is a candidate
        every = torch.ones(scores.shape, dtype=torch.bool, device=scores.device)
        return [_sorted_candidates(scores, every, tau, largest)[:2] for largest in ends]
    # group j holds tokens j, j + groups, j + 2 groups, ...: its extremes are element-wise ones
    # of 16 slices; a padding place p repeats token p mod groups, of its own group
    fill = torch.arange(vocab, _GROUP * groups, device=scores.device) % groups
    padded = torch.cat([scores, scores[:, fill]], dim=1) if len(fill) else scores
    slices = padded.reshape(n, _GROUP, groups)
    out = []
    for largest in ends:
        cut = torch.topk(slices.amax(1) if largest else slices.amin(1), tau, dim=1, largest=largest,
                         sorted=False).values
        mask = (scores >= cut.amin(1, keepdim=True)) if largest else (scores <= cut.amax(1, keepdim=True))
        ids, values, enough = _sorted_candidates(scores, mask, tau, largest)
        if not bool(enough.all()):  # only scores that compare false to themselves (NaN) get here
            every = torch.ones((int((~enough).sum()), vocab), dtype=torch.bool, device=scores.device)
            ids[~enough], values[~enough] = _sorted_candidates(scores[~enough], every, tau, largest)[:2]
        out.append((ids, values))
    return out


def _sorted_candidates(part: torch.Tensor, mask: torch.Tensor, tau: int, largest: bool
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first ``tau`` of each row's masked tokens by score (stable: ties in id order), and
    which rows had at least ``tau`` candidates (the others' answers are not meaningful)."""
    n, vocab = part.shape
    rows, cols = _positions(mask)  # row-major: ids ascend within a row
    counts = torch.bincount(rows, minlength=n)
    starts = torch.cumsum(counts, 0) - counts
    pos = torch.arange(len(rows), device=part.device) - starts[rows]
    width = max(int(counts.max()), tau)
    values = torch.full((n, width), -torch.inf if largest else torch.inf, dtype=part.dtype,
                        device=part.device)
    ids = torch.full((n, width), vocab, dtype=torch.long, device=part.device)
    values[rows, pos] = part[rows, cols]
    ids[rows, pos] = cols
    order = torch.sort(values, dim=1, descending=largest, stable=True).indices[:, :tau]
    return ids.gather(1, order), values.gather(1, order), counts >= tau


def _positions(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, columns) of the true entries of a 2-D mask in row-major order; on the CPU through
    numpy, whose search of a boolean array is several times faster than torch's."""
    if mask.device.type != "cpu":
        return mask.nonzero(as_tuple=True)
    flat = torch.from_numpy(np.flatnonzero(mask.contiguous().numpy()))
    return flat // mask.shape[1], flat % mask.shape[1]
