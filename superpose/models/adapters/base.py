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

from collections.abc import Callable, Sequence
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
    (GPT-2's ``Conv1D``) instead of ``nn.Linear``'s (out, in). ``attention_path`` names the
    attention module inside a block (for :meth:`one_position_block`).
    """

    family: str
    model_types: tuple[str, ...]
    blocks_path: str
    mlp_out_path: str
    final_norm_path: str
    rotary_path: str | None = None
    post_mlp_norm_path: str | None = None
    out_weight_in_out: bool = False
    attention_path: str = "self_attn"
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

    # --- one-position blocks, value/output path only -----------------------------------------

    def one_position_block(self, model: nn.Module, index: int
                           ) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """Block ``index`` as a function of (batch, hidden) rows at a lone position, or None.

        A lone position attends only to itself with weight exactly 1, so the attention output
        is the output projection of its values: queries, keys, rotary terms and the softmax
        cannot change it and are skipped. The rest is the block's own modules, in the block's
        order. This default covers pre-norm LLaMA-style blocks (``input_layernorm``,
        ``self_attn.v_proj``/``o_proj`` with grouped values, ``post_attention_layernorm``,
        ``mlp``); it returns None when the block does not look like one. The projection checks
        the result against the block's own forward before relying on it.
        """
        block = self.blocks(model)[index]
        attn = get_path(block, self.attention_path)
        if not _has(block, "input_layernorm", "post_attention_layernorm", "mlp") or \
                not _has(attn, "v_proj", "o_proj", "head_dim", "num_key_value_groups"):
            return None
        values = grouped_values(attn)

        def run(x: torch.Tensor) -> torch.Tensor:
            h = x + attn.o_proj(values(block.input_layernorm(x)))
            return h + block.mlp(block.post_attention_layernorm(h))
        return run


def _has(obj: Any, *names: str) -> bool:
    return all(hasattr(obj, name) for name in names)


def grouped_values(attn: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """(batch, hidden) -> (batch, heads x head_dim): each query head's value, that of its
    key/value group (the order of ``repeat_kv``), which is its attention output at one position."""
    groups, head_dim = int(attn.num_key_value_groups), int(attn.head_dim)

    def values(x: torch.Tensor) -> torch.Tensor:
        v = attn.v_proj(x)
        if groups == 1:
            return v
        return v.view(len(v), -1, 1, head_dim).expand(-1, -1, groups, -1).reshape(len(v), -1)
    return values
