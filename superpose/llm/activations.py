"""Run a model over corpus sequences and collect per-neuron activation records per layer.

A neuron's activation is the input of the MLP down/out projection (read with a forward
pre-hook on that module). The forward pass stops right after the deepest requested layer,
so records for early layers cost only the blocks up to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch

from superpose.errors import SuperposeError
from superpose.llm.records import FirstPass, LayerRecords, QuantilePass, finish


def cut_sequences(tokenizer: Any, documents: Iterable[str], seq_len: int = 64,
                  max_tokens: int = 200_000) -> np.ndarray:
    """(S, seq_len) int32 token ids: documents tokenised, joined and cut into full sequences.

    Documents are separated by the tokenizer's end-of-text token when it has one, so a
    sequence may span a document boundary, as in the usual packing of training text; the
    remainder shorter than ``seq_len`` is dropped.
    """
    sep = tokenizer.eos_token_id
    buffer: list[int] = []
    limit = (max_tokens // seq_len) * seq_len
    for doc in documents:
        if not doc.strip():
            continue
        buffer.extend(tokenizer.encode(doc, add_special_tokens=False))
        if sep is not None:
            buffer.append(int(sep))
        if len(buffer) >= limit:
            break
    n = min(len(buffer), limit) // seq_len
    if n == 0:
        raise SuperposeError(f"the corpus gave fewer than {seq_len} tokens; "
                             "choose a larger --corpus-source")
    return np.asarray(buffer[:n * seq_len], dtype=np.int32).reshape(n, seq_len)


class _StopForward(Exception):
    """Raised in the deepest hook: later blocks are not needed."""


def _run(model: torch.nn.Module, modules: Mapping[int, torch.nn.Module], sequences: np.ndarray,
         batch_size: int, consume: Callable[[int, torch.Tensor, torch.Tensor], None],
         progress: Callable[[int], None] | None) -> None:
    """Forward every batch; ``consume(layer, acts (B, L, N), seq_ids)`` for each layer."""
    captured: dict[int, torch.Tensor] = {}
    deepest = max(modules)

    def make_hook(layer: int) -> Callable[..., None]:
        def hook(_module: torch.nn.Module, args: tuple[Any, ...]) -> None:
            captured[layer] = args[0].detach().float()
            if layer == deepest:
                raise _StopForward
        return hook

    handles = [m.register_forward_pre_hook(make_hook(layer)) for layer, m in modules.items()]
    try:
        with torch.inference_mode():
            for start in range(0, len(sequences), batch_size):
                ids = torch.from_numpy(sequences[start:start + batch_size].astype(np.int64))
                captured.clear()
                try:
                    model(input_ids=ids, use_cache=False)
                except _StopForward:
                    pass
                seq_ids = torch.arange(start, start + ids.shape[0])
                for layer in modules:
                    consume(layer, captured[layer], seq_ids)
                if progress is not None:
                    progress(ids.shape[0])
    finally:
        for h in handles:
            h.remove()


def collect_records(model: torch.nn.Module, modules: Mapping[int, torch.nn.Module],
                    sequences: np.ndarray, *, top_k: int = 40, n_random: int = 40,
                    per_quantile: int = 10, batch_size: int = 16, seed: int = 0,
                    progress: Callable[[int], None] | None = None) -> dict[int, LayerRecords]:
    """Records of every neuron of the layers in ``modules`` (layer -> MLP out projection).

    Two passes when ``per_quantile > 0`` (see :mod:`superpose.llm.records`), one otherwise.
    """
    if not modules:
        raise SuperposeError("no layers chosen")
    seq_len = sequences.shape[1]
    first: dict[int, FirstPass] = {}

    def consume_first(layer: int, acts: torch.Tensor, seq_ids: torch.Tensor) -> None:
        if layer not in first:
            first[layer] = FirstPass(acts.shape[-1], seq_len, top_k, n_random, seed + layer)
        first[layer].update(acts, seq_ids)

    _run(model, modules, sequences, batch_size, consume_first, progress)
    second: dict[int, QuantilePass] = {}
    if per_quantile > 0:
        second = {layer: QuantilePass(fp.histogram(), seq_len, per_quantile,
                                      seed=seed + 1000 + layer) for layer, fp in first.items()}
        _run(model, modules, sequences, batch_size,
             lambda layer, acts, ids: second[layer].update(acts, ids), progress)
    return {layer: finish(first[layer], second.get(layer)) for layer in modules}
