"""The all-at-once simulator on an OpenAI-compatible server that returns prompt logprobs.

The prompt is the local simulator's (same instructions, worked examples and ``unknown`` rows),
sent as text to ``/v1/completions`` with ``echo``, ``logprobs`` and ``max_tokens: 1``
(llama.cpp / llama-cpp-python, vLLM, legacy OpenAI) and vLLM's ``prompt_logprobs``. For every
query row the server's distribution over the token right after the tab is read; the expected
numeral under the numerals' renormalised probabilities is the prediction. The server's
tokenizer is unknown here, so the scale is 0-9 (single digits are single tokens in every
common tokenizer) and rescaled to 0-10. Numerals outside the server's top ``logprobs`` count
as probability 0; a row with no numeral among them predicts 0 (counted in ``missing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from superpose.core.registry import Kind
from superpose.explainer.clients import LLMError
from superpose.explainer.prompts import simulation_layout
from superpose.explainer.simulators import SimulatorContext
from superpose.explainer.simulators.base import SimulationError, expected_values

SCALE_TOP = 9
NO_LOGPROBS = ("the server returned no prompt logprobs (choices[0].logprobs.top_logprobs or "
               "choices[0].prompt_logprobs); serve the model so that it can (llama.cpp: "
               "--logits_all true; vLLM returns them by default) or use --simulator "
               "chat-numbers, the labelled fallback")


def value_offsets(explanation: str, tokens: Sequence[str]) -> tuple[str, list[int]]:
    """The prompt text and, per query row, the character offset right after its tab."""
    layout = simulation_layout(explanation, tokens, SCALE_TOP)
    text = layout.text()
    at = len(layout.fixed_text()) + len(layout.query_intro)
    offsets = []
    for token in layout.query_tokens:
        at += len(token) + 1
        offsets.append(at)
        at += len(layout.unknown) + 1
    return text, offsets


def _echo_positions(logprobs: dict[str, Any]) -> tuple[list[int], list[dict[str, float] | None]]:
    """Token start offsets and per-position top logprobs of an ``echo`` reply."""
    tops = logprobs.get("top_logprobs")
    tokens = logprobs.get("tokens")
    if not isinstance(tops, list) or not tops:
        raise SimulationError(NO_LOGPROBS)
    offsets = logprobs.get("text_offset")
    if not isinstance(offsets, list) or len(offsets) != len(tops):
        if not isinstance(tokens, list) or len(tokens) != len(tops):
            raise SimulationError("the server's prompt logprobs carry neither text offsets "
                                  "nor tokens, so rows cannot be located")
        offsets = list(np.cumsum([0] + [len(t) for t in tokens[:-1]]))
    return [int(o) for o in offsets], tops


def _vllm_positions(entries: list[Any], text: str
                    ) -> tuple[list[int], list[dict[str, float] | None]]:
    """Offsets and top logprobs from vLLM's ``prompt_logprobs`` (one dict per prompt token,
    keyed by token id, holding the prompt's own token among others; the first is None).

    The prompt token at each position is found from the end of the text backwards: the
    longest candidate that ends where the next token starts. The first token is what is left.
    """
    offsets, tops, at = [0] * len(entries), [None] * len(entries), len(text)
    for i in range(len(entries) - 1, 0, -1):
        entry = entries[i]
        if not isinstance(entry, dict):
            raise SimulationError("cannot align the server's prompt_logprobs with the prompt")
        cands = {str(v.get("decoded_token", "")): float(v.get("logprob", -np.inf))
                 for v in entry.values() if isinstance(v, dict)}
        fits = [t for t in cands if t and text.endswith(t, 0, at)]
        if not fits:
            raise SimulationError("cannot align the server's prompt_logprobs with the prompt")
        at -= len(max(fits, key=len))
        offsets[i], tops[i] = at, cands
    return offsets, tops


def read_rows(choice: dict[str, Any], text: str, rows: Sequence[int]
              ) -> tuple[np.ndarray, int]:
    """Predictions (0-10) at the value offsets ``rows`` of a completion ``choice`` that echoed
    ``text``, and how many rows had no numeral among the returned top logprobs."""
    logprobs = choice.get("logprobs")
    if isinstance(logprobs, dict) and logprobs.get("top_logprobs"):
        offsets, tops = _echo_positions(logprobs)
    elif isinstance(choice.get("prompt_logprobs"), list):
        offsets, tops = _vllm_positions(choice["prompt_logprobs"], text)
    else:
        raise SimulationError(NO_LOGPROBS)
    where = {o: i for i, o in enumerate(offsets)}
    logits = np.full((len(rows), SCALE_TOP + 1), -np.inf)
    for r, offset in enumerate(rows):
        if offset not in where:
            raise SimulationError("the server's tokenizer merges the tab with the value that "
                                  "follows it, so the simulator cannot read a row")
        top = tops[where[offset]] or {}
        for digit in range(SCALE_TOP + 1):
            if str(digit) in top:
                logits[r, digit] = float(top[str(digit)])
    missing = int(np.sum(~np.isfinite(logits).any(axis=1)))
    return expected_values(logits, SCALE_TOP), missing


class PromptLogprobsSimulator:
    """All at once on a server: one completion request per record, in parallel."""

    method = "all-at-once (server prompt logprobs of numerals, scale 0-9)"

    def __init__(self, client: Any, top_logprobs: int = 20) -> None:
        if not hasattr(client, "prompt_logprobs"):
            raise SimulationError(f"client {getattr(client, 'name', client)!r} cannot return "
                                  "prompt logprobs")
        self.client, self.top_logprobs = client, int(top_logprobs)
        self.name = client.name
        self.missing = 0

    def _one(self, explanation: str, tokens: Sequence[str]) -> np.ndarray:
        text, rows = value_offsets(explanation, tokens)
        try:
            choice = self.client.prompt_logprobs(text, self.top_logprobs)
        except LLMError as err:
            raise SimulationError(str(err)) from None
        values, missing = read_rows(choice, text, rows)
        self.missing += missing
        return values

    def simulate(self, explanation: str, sequences: Sequence[Sequence[str]]
                 ) -> list[np.ndarray]:
        workers = max(1, min(int(getattr(self.client, "concurrency", 1)), len(sequences)))
        if workers == 1:
            return [self._one(explanation, s) for s in sequences]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda s: self._one(explanation, s), sequences))


def build(ctx: SimulatorContext) -> PromptLogprobsSimulator:
    return PromptLogprobsSimulator(ctx.client())


SIMULATOR = Kind("prompt-logprobs", "server: the all-at-once method from the prompt "
                 "logprobs of an OpenAI-compatible /v1/completions (echo + logprobs)", build)
