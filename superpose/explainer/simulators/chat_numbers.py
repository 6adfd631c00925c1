"""The labelled fallback for servers without prompt logprobs: the model writes the numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from superpose.core.registry import Kind
from superpose.explainer.clients import ChatClient, LLMError
from superpose.explainer.prompts import number_list_messages, parse_number_list
from superpose.explainer.simulators import SimulatorContext
from superpose.explainer.simulators.base import SimulationError


class ChatNumbersSimulator:
    """Fallback without logprobs: the chat model writes an integer 0-10 for each token."""

    method = "chat-numbers (FALLBACK: no logprobs; the model writes one integer per token)"

    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self.name = client.name

    def simulate(self, explanation: str, sequences: Sequence[Sequence[str]]
                 ) -> list[np.ndarray]:
        conversations = [number_list_messages(explanation, s) for s in sequences]
        budget = max(8 * max((len(s) for s in sequences), default=1), 32)
        replies = self.client.complete_many(conversations, max_tokens=budget)
        out = []
        for reply, tokens in zip(replies, sequences, strict=True):
            if isinstance(reply, Exception):
                if isinstance(reply, LLMError):
                    raise SimulationError(str(reply)) from None
                raise reply
            try:
                out.append(parse_number_list(reply, len(tokens)))
            except ValueError as err:
                raise SimulationError(f"unparseable simulation reply: {err}") from None
        return out


def build(ctx: SimulatorContext) -> ChatNumbersSimulator:
    return ChatNumbersSimulator(ctx.client())


SIMULATOR = Kind("chat-numbers", "FALLBACK for servers without prompt logprobs: the chat "
                 "model writes one integer per token (cruder, one generation per record)", build)
