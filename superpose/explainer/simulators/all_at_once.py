"""The "all at once" simulator on a local causal LM.

One prompt lists every token followed by a tab and ``unknown``; one forward pass gives, right
after each tab, the model's next-token distribution, and the expected value over the numeral
tokens is the prediction. Numerals must be single tokens. Tokenizers that split numbers into
digits (SmolLM2, Qwen2.5, LLaMA) have no single token for "10", so the prompt then uses the
scale 0-9 and the expected value is rescaled by 10/9; with a single-token "10" the scale is 0-10.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from superpose.core.registry import Kind
from superpose.explainer.prompts import simulation_layout
from superpose.explainer.simulators import SimulatorContext
from superpose.explainer.simulators.base import expected_values


def numeral_token_ids(tokenizer: Any) -> list[int]:
    """Ids of "0", "1", ... as single tokens: 0-10 when "10" is one token, else 0-9."""
    ids = []
    for i in range(11):
        enc = tokenizer.encode(str(i), add_special_tokens=False)
        if len(enc) != 1:
            if i < 10:
                raise ValueError(f"the simulator's tokenizer splits the numeral {i!r}; "
                                 "choose a model with single-token digits")
            break
        ids.append(enc[0])
    return ids


def _right_padded(batch: list[tuple[list[int], list[int]]], skip: int = 0) -> tuple[Any, Any, Any]:
    """Input ids, attention mask and read-position mask of prompts, right-padded, each prompt's
    first ``skip`` tokens left out (they are in a cache). Right padding keeps positions valid.
    """
    import torch

    length = max(len(ids) for ids, _ in batch) - skip
    input_ids = torch.zeros(len(batch), length, dtype=torch.long)
    mask = torch.zeros(len(batch), length, dtype=torch.long)
    keep = torch.zeros(len(batch), length, dtype=torch.bool)
    for i, (ids, positions) in enumerate(batch):
        input_ids[i, :len(ids) - skip] = torch.tensor(ids[skip:])
        mask[i, :len(ids) - skip] = 1
        keep[i, [p - skip for p in positions]] = True
    return input_ids, mask, keep


def _per_prompt(values: np.ndarray, batch: list[tuple[list[int], list[int]]]
                ) -> list[np.ndarray]:
    """Cut values read at the kept positions (row-major: prompt by prompt) back per prompt."""
    out, at = [], 0
    for _, positions in batch:
        out.append(values[at:at + len(positions)])
        at += len(positions)
    return out


class NumeralReadout:
    """The logits of a few tokens only: the model's body, then those rows of its output layer.

    Built by :func:`numeral_readout` only after it reproduced the model's own logits on a
    probe input, so output layers that scale or cap logits in ways it does not know about
    fall back to the full forward instead of giving wrong values.
    """

    def __init__(self, body: Any, weight: Any, bias: Any, softcap: float | None) -> None:
        self.body, self.weight, self.bias, self.softcap = body, weight, bias, softcap

    def __call__(self, keep: Any, **inputs: Any) -> Any:
        return self.with_output(keep, **inputs)[0]

    def with_output(self, keep: Any, **inputs: Any) -> tuple[Any, Any]:
        """The logits at ``keep`` and the body's whole output (its key/value cache, for a
        caller that extends the prompt later)."""
        out = self.body(**inputs)
        return self.head(out.last_hidden_state[keep]), out

    def head(self, hidden: Any) -> Any:
        """The kept rows of the output layer applied to final hidden states."""
        import torch

        logits = hidden @ self.weight.T
        if self.bias is not None:
            logits = logits + self.bias
        if self.softcap:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return logits


def numeral_readout(model: Any, numerals: Sequence[int]) -> NumeralReadout | None:
    """A :class:`NumeralReadout` of a transformers causal LM, or None when it has none.

    Checked once against the full forward on a short probe (relative 1e-4).
    """
    import torch

    get_head = getattr(model, "get_output_embeddings", None)
    body = getattr(model, "base_model", None)
    head = get_head() if callable(get_head) else None
    if body is None or body is model or not isinstance(head, torch.nn.Linear):
        return None
    idx = torch.tensor(list(numerals), device=head.weight.device)
    bias = head.bias.detach()[idx] if head.bias is not None else None
    config = getattr(model, "config", None)
    readout = NumeralReadout(body, head.weight.detach()[idx], bias,
                             getattr(config, "final_logit_softcapping", None))
    probe = torch.tensor([[int(i) for i in numerals[:4]] * 2], device=head.weight.device)
    keep = torch.ones_like(probe, dtype=torch.bool)
    try:
        with torch.inference_mode():
            want = model(input_ids=probe).logits[0][:, idx]
            got = readout(keep, input_ids=probe)
    except Exception:  # noqa: BLE001 - any surprise means: use the full forward
        return None
    if got.shape != want.shape or not torch.allclose(got.float(), want.float(), rtol=1e-4,
                                                     atol=1e-4):
        return None
    return readout


class AllAtOnceSimulator:
    """Local causal LM; one forward pass per sequence, batched, logits only where read."""

    method = "all-at-once (local next-token probabilities of numerals)"

    def __init__(self, model: Any, tokenizer: Any, name: str, batch_size: int = 4,
                 reuse_prefix: bool = True, chat: bool = False) -> None:
        self.model, self.tokenizer, self.name = model, tokenizer, name
        self.batch_size = max(1, batch_size)
        self.numerals = numeral_token_ids(tokenizer)
        self.top = len(self.numerals) - 1
        self._start = list(tokenizer("", add_special_tokens=True)["input_ids"])
        from superpose.explainer.local_models import special_texts

        self._specials = special_texts(tokenizer)  # kept: every record token is encoded apart
        self._tab = self._encode("\t")
        self.reuse_prefix = reuse_prefix
        self.chat = chat and getattr(tokenizer, "chat_template", None) is not None
        if self.chat:
            self.method = self.method.replace("(local", "(local, chat template,")
        self._prefix: tuple[list[int], str, Any] | None = None
        self._readout: Any = None  # None: not tried yet; False: the model has none
        self._memo: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}

    def _encode(self, text: str) -> list[int]:
        """Ids of prompt text; a special token's text in a record or explanation (``<|im_end|>``)
        stays ordinary text."""
        from superpose.explainer.local_models import encode_text

        return encode_text(self.tokenizer, text, self._specials)

    def prompt_ids(self, explanation: str, tokens: Sequence[str]) -> tuple[list[int], list[int]]:
        """Token ids of the prompt and the positions whose next-token distribution is read.

        Pieces are tokenised separately so that every tab is its own token sequence and the
        read position is exactly the last token of a tab.
        """
        layout = simulation_layout(explanation, tokens, self.top)
        intro = layout.query_intro.lstrip("\n") if self.chat else layout.query_intro
        ids = self._fixed_ids(layout) + self._encode(intro)
        positions = []
        for token in layout.query_tokens:
            ids += self._encode(token) + self._tab
            positions.append(len(ids) - 1)
            ids += self._encode(layout.unknown + "\n")
        return ids, positions

    def _fixed_ids(self, layout: Any) -> list[int]:
        """Ids of the part shared by every prompt: instructions and the worked examples.

        With ``chat`` they form the user turn of the model's chat template and the listing is
        the start of the assistant's reply.
        """
        if self.chat:
            text = layout.fixed_text()
            from superpose.explainer.local_models import encode_rendered, render_chat

            return encode_rendered(self.tokenizer, *render_chat(
                self.tokenizer, [{"role": "user", "content": text}], True))
        ids = self._start + self._encode(layout.header)
        for i, (intro, rows) in enumerate(layout.examples):
            ids += self._encode(("\n" if i else "") + intro)
            for token, value in rows:
                ids += self._encode(token) + self._tab + self._encode(value + "\n")
        return ids

    def simulate(self, explanation: str, sequences: Sequence[Sequence[str]]
                 ) -> list[np.ndarray]:
        """Predictions per sequence; repeated (explanation, sequence) pairs are remembered."""
        keys = [(explanation, tuple(s)) for s in sequences]
        if len(self._memo) > 8192:  # bounded: scoring many neurons must not grow without end
            self._memo.clear()
        missing = [s for k, s in zip(keys, sequences, strict=True) if k not in self._memo]
        for seq, values in zip(missing, self._simulate(explanation, missing), strict=True):
            self._memo[(explanation, tuple(seq))] = values
        return [self._memo[k] for k in keys]

    def _simulate(self, explanation: str, sequences: Sequence[Sequence[str]]
                  ) -> list[np.ndarray]:
        forward = self._forward_after_prefix if self.reuse_prefix else self._forward
        out: list[np.ndarray] = []
        for start in range(0, len(sequences), self.batch_size):
            batch = [self.prompt_ids(explanation, s)
                     for s in sequences[start:start + self.batch_size]]
            out.extend(forward(batch))
        return out

    def _forward(self, batch: list[tuple[list[int], list[int]]]) -> list[np.ndarray]:
        import torch

        input_ids, mask, keep = (t.to(self._device()) for t in _right_padded(batch))
        with torch.inference_mode():
            logits = self._numeral_logits(keep, input_ids=input_ids, attention_mask=mask)
        return _per_prompt(expected_values(logits.float().cpu().numpy(), self.top), batch)

    def _device(self) -> Any:
        """The model's device: inputs go there, logits come back to the CPU."""
        from superpose.models.device import module_device

        return module_device(self.model)

    def _prefix_cache(self) -> tuple[list[int], str, Any]:
        """Ids of the shared prefix, the model's name for the cache argument, and the cache.

        Computed once per simulator: the prefix depends only on the scale and the chat flag.
        """
        if self._prefix is None:
            import inspect

            import torch

            fixed = self._fixed_ids(simulation_layout("", [], self.top))
            # transformers 5 renamed past_key_values to cache; accept either.
            cache_arg = "cache" if "cache" in inspect.signature(self.model.forward).parameters \
                else "past_key_values"
            with torch.inference_mode():
                out = self.model(input_ids=torch.tensor([fixed], device=self._device()),
                                 use_cache=True)
            self._prefix = (fixed, cache_arg, getattr(out, cache_arg))
        return self._prefix

    def _forward_after_prefix(self, batch: list[tuple[list[int], list[int]]]
                              ) -> list[np.ndarray]:
        """A batch of prompts, reusing the cached keys and values of their shared prefix.

        The instructions and examples are the same in every prompt, so they are computed once;
        each sequence then costs only its explanation line and token listing. The batch's
        rows are right-padded after the prefix (padding is masked, and later positions never
        change earlier ones), which uses the CPU better than one row at a time.
        """
        import copy

        import torch

        fixed, cache_arg, prefix = self._prefix_cache()
        n = len(fixed)
        if any(ids[:n] != fixed or min(positions) < n for ids, positions in batch):
            return self._forward(batch)
        cache = copy.deepcopy(prefix)
        if len(batch) > 1:
            if not hasattr(cache, "batch_repeat_interleave"):
                return [v for item in batch for v in self._forward_after_prefix([item])]
            cache.batch_repeat_interleave(len(batch))
        input_ids, mask, keep = _right_padded(batch, skip=n)
        mask = torch.cat([torch.ones(len(batch), n, dtype=mask.dtype), mask], dim=1)
        input_ids, mask, keep = (t.to(self._device()) for t in (input_ids, mask, keep))
        with torch.inference_mode():
            logits = self._numeral_logits(keep, input_ids=input_ids, attention_mask=mask,
                                          use_cache=True, **{cache_arg: cache})
        return _per_prompt(expected_values(logits.float().cpu().numpy(), self.top), batch)

    def _numeral_logits(self, keep: Any, **inputs: Any) -> Any:
        """(kept positions, numerals) logits, in row-major order of the boolean ``keep``.

        Only the numerals' rows of the output layer are applied to the final hidden states
        (see :func:`numeral_readout`), which skips nearly all of the unembedding's cost; models
        without such a readout get their full logits, restricted to ``keep`` when they can.
        """
        import torch

        if self._readout is None:
            self._readout = numeral_readout(self.model, self.numerals) or False
        if self._readout:
            return self._readout(keep, **inputs)
        numerals = torch.tensor(self.numerals, device=self._device())
        try:
            logits = self.model(logits_to_keep=keep, **inputs).logits
            return logits.reshape(-1, logits.shape[-1])[:, numerals]
        except TypeError:  # models without logits_to_keep: full logits, then select
            return self.model(**inputs).logits[keep][:, numerals]


def build(ctx: SimulatorContext) -> AllAtOnceSimulator:
    lm = ctx.local_model()
    return AllAtOnceSimulator(lm.model, lm.tokenizer, lm.name + lm.placement.name_suffix(),
                              ctx.batch_size)


SIMULATOR = Kind("all-at-once", "local model: next-token probabilities of numerals after "
                 "every token of one prompt (the method's simulator)", build)
