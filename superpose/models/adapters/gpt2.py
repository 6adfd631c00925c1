"""GPT-2: ``transformer.h`` blocks, ``Conv1D`` MLP output (weight stored in x out, with bias),
learned absolute positions (added to the input only, so a one-position block needs none),
final ``ln_f`` LayerNorm. The attention's ``c_attn`` packs queries, keys and values side by side
(each ``hidden`` wide); at one position only the values matter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from superpose.models.adapters.base import Adapter


@dataclass(frozen=True)
class GPT2Adapter(Adapter):
    """Post-attention residual blocks with a packed ``c_attn``."""

    def one_position_block(self, model: nn.Module, index: int
                           ) -> Callable[[torch.Tensor], torch.Tensor] | None:
        block = self.blocks(model)[index]
        attn = block.attn
        width = attn.c_proj.weight.shape[0]
        weight = attn.c_attn.weight[:, 2 * width:3 * width]  # Conv1D: (in, out), values last
        bias = attn.c_attn.bias[2 * width:3 * width]

        def run(x: torch.Tensor) -> torch.Tensor:
            h = attn.c_proj(torch.addmm(bias, block.ln_1(x), weight)) + x
            return h + block.mlp(block.ln_2(h))
        return run


ADAPTER = GPT2Adapter(
    family="gpt2",
    model_types=("gpt2",),
    blocks_path="transformer.h",
    mlp_out_path="mlp.c_proj",
    final_norm_path="transformer.ln_f",
    out_weight_in_out=True,
    attention_path="attn",
    note="c_proj is a Conv1D; its bias is part of every neuron's output direction",
)
