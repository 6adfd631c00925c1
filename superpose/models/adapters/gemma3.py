"""Gemma 3 (text): ``model.layers``; the block normalises the MLP output with
``post_feedforward_layernorm`` before adding it to the residual stream, so a neuron's output
direction is that RMSNorm of its ``down_proj`` column. Sliding-window and global layers use
different rotary embeddings (``model.rotary_emb(x, position_ids, layer_type)``); at position 0
both are the identity up to the rotary attention scaling, but each layer still gets its own.
The input embedding scale (sqrt(hidden)) does not touch these paths; a final logit soft-cap, if
configured, is applied by ``Adapter.unembed``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from superpose.models.adapters.base import Adapter, get_path, grouped_values


@dataclass(frozen=True)
class Gemma3Adapter(Adapter):
    """Rotary embeddings chosen by the layer's type (sliding or full attention)."""

    def position_embeddings(self, model: nn.Module, index: int, hidden: torch.Tensor) -> Any:
        layer_type = model.config.layer_types[index]
        position_ids = torch.zeros((1, 1), dtype=torch.long, device=hidden.device)
        return get_path(model, self.rotary_path)(hidden, position_ids, layer_type)

    def one_position_block(self, model: nn.Module, index: int
                           ) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """Gemma 3's sandwich block: a norm before and after both attention and MLP."""
        block = self.blocks(model)[index]
        attn = block.self_attn
        values = grouped_values(attn)

        def run(x: torch.Tensor) -> torch.Tensor:
            h = x + block.post_attention_layernorm(attn.o_proj(values(block.input_layernorm(x))))
            return h + block.post_feedforward_layernorm(block.mlp(block.pre_feedforward_layernorm(h)))
        return run


ADAPTER = Gemma3Adapter(
    family="gemma3",
    model_types=("gemma3_text",),
    blocks_path="model.layers",
    mlp_out_path="mlp.down_proj",
    final_norm_path="model.norm",
    rotary_path="model.rotary_emb",
    post_mlp_norm_path="post_feedforward_layernorm",
    note="output direction includes post_feedforward_layernorm",
)
