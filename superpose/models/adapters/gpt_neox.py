"""GPT-NeoX (Pythia): ``gpt_neox.layers``, MLP output ``mlp.dense_4h_to_h`` with bias, partial
rotary embeddings from ``gpt_neox.rotary_emb``, final LayerNorm ``gpt_neox.final_layer_norm``.
With ``use_parallel_residual`` the MLP reads the block input, not the attention output; the
model's own block handles both variants. ``query_key_value`` packs, head by head, the head's
query, key and value; at one position only the values matter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from superpose.models.adapters.base import Adapter


@dataclass(frozen=True)
class GPTNeoXAdapter(Adapter):
    """Parallel or serial residual blocks with a head-interleaved ``query_key_value``."""

    def one_position_block(self, model: nn.Module, index: int
                           ) -> Callable[[torch.Tensor], torch.Tensor] | None:
        block = self.blocks(model)[index]
        attn = block.attention
        size = int(attn.head_size)
        packed = attn.query_key_value
        width = packed.weight.shape[1]
        # rows of head h: [query (size), key (size), value (size)]; keep the values
        weight = packed.weight.view(-1, 3 * size, width)[:, 2 * size:].reshape(-1, width)
        bias = None if packed.bias is None else packed.bias.view(-1, 3 * size)[:, 2 * size:].reshape(-1)

        def attention(x: torch.Tensor) -> torch.Tensor:
            return attn.dense(torch.nn.functional.linear(block.input_layernorm(x), weight, bias))

        if block.use_parallel_residual:
            def run(x: torch.Tensor) -> torch.Tensor:
                return block.mlp(block.post_attention_layernorm(x)) + attention(x) + x
        else:
            def run(x: torch.Tensor) -> torch.Tensor:
                h = attention(x) + x
                return block.mlp(block.post_attention_layernorm(h)) + h
        return run


ADAPTER = GPTNeoXAdapter(
    family="gpt_neox",
    model_types=("gpt_neox",),
    blocks_path="gpt_neox.layers",
    mlp_out_path="mlp.dense_4h_to_h",
    final_norm_path="gpt_neox.final_layer_norm",
    rotary_path="gpt_neox.rotary_emb",
    attention_path="attention",
)
