"""What the projection needs to know about one decoder-only model family.

An adapter names, by attribute path, the decoder blocks, the MLP output projection inside a
block (the "down" projection whose input is the neuron activation), the final norm and the
unembedding; and it knows how to call one block on a one-position sequence. Everything else
(weights, norms, attention) comes from the model's own modules, so the projection runs exactly
the computation the model runs.

A family is one file in this package defining ``ADAPTER = SomeAdapter(...)``; the registry in
``__init__`` finds it by ``config.model_type``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


def get_path(root: Any, path: str) -> Any:
    """``get_path(model, "model.layers")`` is ``model.model.layers``."""
    obj = root
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Adapter:
    """Layout of one family. Paths are dotted attribute names.

    ``blocks_path`` and ``final_norm_path`` start at the ``*ForCausalLM`` model;
    ``mlp_out_path`` and ``post_mlp_norm_path`` start at a block. ``post_mlp_norm_path`` names a
    norm the block applies to the MLP output before adding it to the residual stream (Gemma 2/3),
    so a neuron's output direction is that norm of its down-projection column.
    ``out_weight_in_out`` is True where the output projection stores its weight as (in, out)
    (GPT-2's ``Conv1D``) instead of ``nn.Linear``'s (out, in).
    """

    family: str
    model_types: tuple[str, ...]
    blocks_path: str
    mlp_out_path: str
    final_norm_path: str
    rotary_path: str | None = None
    post_mlp_norm_path: str | None = None
    out_weight_in_out: bool = False
    note: str = ""

    # --- layout -------------------------------------------------------------------------------

    def blocks(self, model: nn.Module) -> Sequence[nn.Module]:
        """The decoder blocks in order (hook their MLP output projection to read activations)."""
        return get_path(model, self.blocks_path)

    def mlp_out_proj(self, block: nn.Module) -> nn.Module:
        """The MLP output ("down") projection of a block; its input is the neuron activations."""
        return get_path(block, self.mlp_out_path)

    def final_norm(self, model: nn.Module) -> nn.Module:
        return get_path(model, self.final_norm_path)

    def unembedding(self, model: nn.Module) -> nn.Module:
        """The module mapping the final hidden state to vocabulary logits (``lm_head``)."""
        return model.get_output_embeddings()

    def n_neurons(self, model: nn.Module) -> int:
        """MLP units per block: the input width of the output projection."""
        weight = self.mlp_out_proj(self.blocks(model)[0]).weight
        return int(weight.shape[0] if self.out_weight_in_out else weight.shape[1])

    # --- vectors ------------------------------------------------------------------------------

    def out_directions(self, block: nn.Module, neurons: torch.Tensor) -> torch.Tensor:
        """Rows (len(neurons), hidden): each neuron's contribution to the residual stream for a
        unit activation: its output-projection column plus the bias, then any post-MLP norm."""
        proj = self.mlp_out_proj(block)
        weight = proj.weight
        vectors = weight[neurons] if self.out_weight_in_out else weight[:, neurons].T
        bias = getattr(proj, "bias", None)
        if bias is not None:
            vectors = vectors + bias
        if self.post_mlp_norm_path is not None:
            vectors = get_path(block, self.post_mlp_norm_path)(vectors)
        return vectors.contiguous()

    def unembed(self, model: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
        """Final norm, unembedding and any final logit soft-capping, as the model's forward does."""
        logits = self.unembedding(model)(self.final_norm(model)(hidden))
        cap = getattr(model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return logits

    # --- one-position blocks ------------------------------------------------------------------

    def position_embeddings(self, model: nn.Module, index: int, hidden: torch.Tensor) -> Any:
        """Rotary (cos, sin) for position 0, or None for families without rotary embeddings."""
        if self.rotary_path is None:
            return None
        position_ids = torch.zeros((1, 1), dtype=torch.long, device=hidden.device)
        return get_path(model, self.rotary_path)(hidden, position_ids)

    def run_block(self, model: nn.Module, index: int, hidden: torch.Tensor) -> torch.Tensor:
        """Block ``index`` applied to ``hidden`` of shape (batch, 1, hidden size).

        One position needs no attention mask (it attends to itself) and position id 0.
        """
        block = self.blocks(model)[index]
        kwargs: dict[str, Any] = {"attention_mask": None}
        rotary = self.position_embeddings(model, index, hidden)
        if rotary is not None:
            kwargs["position_embeddings"] = rotary
            kwargs["position_ids"] = torch.zeros((1, 1), dtype=torch.long, device=hidden.device)
        out = block(hidden, **kwargs)
        return out[0] if isinstance(out, tuple) else out
