"""A transformers chat model on this machine (greedy decoding, so replies are cacheable)."""

from __future__ import annotations

from typing import Any

from superpose.config import Backend
from superpose.core.registry import Kind
from superpose.explainer.clients.base import ChatClient, DiskCache


class LocalChatClient(ChatClient):
    """A transformers chat model on its own device, greedy decoding (deterministic, so cacheable)."""

    def __init__(self, model: Any, tokenizer: Any, name: str,
                 cache: DiskCache | None = None) -> None:
        super().__init__(cache)
        self.model, self.tokenizer, self.name = model, tokenizer, f"local:{name}"

    def _complete(self, request: dict[str, Any]) -> str:
        import torch

        from superpose.explainer.local_models import encode_rendered, render_chat
        from superpose.models.device import module_device

        # a special token's text inside a record (``<|im_end|>``) stays ordinary text
        ids = torch.tensor([encode_rendered(self.tokenizer, *render_chat(
            self.tokenizer, request["messages"], True))], device=module_device(self.model))
        enc = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        kwargs: dict[str, Any] = {"max_new_tokens": request["max_tokens"], "do_sample": False}
        if request["temperature"] > 0:
            kwargs.update(do_sample=True, temperature=request["temperature"])
        pad = self.tokenizer.pad_token_id
        kwargs["pad_token_id"] = pad if pad is not None else self.tokenizer.eos_token_id
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        return self.tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)


def build(backend: Backend, cache: DiskCache | None) -> LocalChatClient:
    from superpose.explainer.local_models import load_local_model

    lm = load_local_model(backend.model, device=backend.placement)
    return LocalChatClient(lm.model, lm.tokenizer, lm.name + lm.placement.name_suffix(), cache)


CLIENT = Kind("local", "a transformers chat model on this CPU (smollm2-135m, "
              "qwen2.5-coder-0.5b or a folder)", build)
