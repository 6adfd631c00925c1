"""Tiny random models of every supported family, built from configs (no downloads), and tiny
tokenizers of both space-marker styles."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
)
from transformers.models.gemma3 import Gemma3ForCausalLM, Gemma3TextConfig

VOCAB = 97
HIDDEN = 32
LAYERS = 3
INTER = 48

_LLAMA_LIKE = dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=INTER,
                   num_hidden_layers=LAYERS, num_attention_heads=4, num_key_value_heads=2,
                   pad_token_id=0, bos_token_id=1, eos_token_id=2)


def _gpt2() -> torch.nn.Module:
    return GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_embd=HIDDEN, n_layer=LAYERS, n_head=4,
                                      n_inner=INTER, bos_token_id=1, eos_token_id=2))


def _gemma3() -> torch.nn.Module:
    config = Gemma3TextConfig(**_LLAMA_LIKE, head_dim=8, sliding_window=4,
                              layer_types=["sliding_attention", "full_attention",
                                           "sliding_attention"],
                              final_logit_softcapping=3.0)
    return Gemma3ForCausalLM(config)


def _neox(parallel: bool) -> Callable[[], torch.nn.Module]:
    def build() -> torch.nn.Module:
        return GPTNeoXForCausalLM(GPTNeoXConfig(
            vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=INTER,
            num_hidden_layers=LAYERS, num_attention_heads=4, rotary_pct=0.5,
            use_parallel_residual=parallel, bos_token_id=1, eos_token_id=2))
    return build


BUILDERS: dict[str, Callable[[], torch.nn.Module]] = {
    "gpt2": _gpt2,
    "llama": lambda: LlamaForCausalLM(LlamaConfig(**_LLAMA_LIKE)),
    "llama-bias": lambda: LlamaForCausalLM(LlamaConfig(**_LLAMA_LIKE, mlp_bias=True,
                                                       attention_bias=True,
                                                       tie_word_embeddings=False)),
    "mistral": lambda: MistralForCausalLM(MistralConfig(**_LLAMA_LIKE)),
    "qwen2": lambda: Qwen2ForCausalLM(Qwen2Config(**_LLAMA_LIKE)),
    "qwen3": lambda: Qwen3ForCausalLM(Qwen3Config(**_LLAMA_LIKE, head_dim=8)),
    "gemma3": _gemma3,
    "gpt_neox": _neox(True),
    "gpt_neox-serial": _neox(False),
}


def randomize(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Random weights everywhere, norms and biases included, so that no term hides as 0 or 1."""
    gen = torch.Generator().manual_seed(seed)
    gemma = "gemma" in model.config.model_type
    with torch.no_grad():
        for module in model.modules():
            is_norm = "Norm" in type(module).__name__
            for name, param in module.named_parameters(recurse=False):
                noise = torch.randn(param.shape, generator=gen) * 0.3
                shift = 1.0 if is_norm and name == "weight" and not gemma else 0.0
                param.copy_(noise + shift)
    return model.eval()


def build(family: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return randomize(BUILDERS[family](), seed)


def save_tiny(family: str, folder: Path, tokenizer: PreTrainedTokenizerFast | None = None,
              seed: int = 0) -> Path:
    """Build, save with save_pretrained (and the tokenizer, if any) and return the folder."""
    model = build(family, seed)
    model.save_pretrained(folder)
    if tokenizer is not None:
        tokenizer.save_pretrained(folder)
    return folder


def byte_level_tokenizer(tokens: list[str]) -> PreTrainedTokenizerFast:
    """A GPT-2 style tokenizer (``Ġ`` marks a leading space) with exactly ``tokens``."""
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[],
                               unk_token=tokens[0]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token=tokens[0])


def sentencepiece_tokenizer(tokens: list[str]) -> PreTrainedTokenizerFast:
    """A SentencePiece style tokenizer (``▁`` marks a leading space) with exactly ``tokens``."""
    tok = Tokenizer(models.Unigram([(t, -1.0) for t in tokens], unk_id=0))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token=tokens[0])


@cache
def real_model():
    """The embedded default model (SmolLM2-135M), loaded once per test session."""
    from superpose.models import load_model

    return load_model("smollm2-135m")
