"""The explainer: top activation records in, one-line explanation out."""

from __future__ import annotations

from collections.abc import Sequence

from superpose.activations.formats import ActivationRecord
from superpose.explainer.clients import ChatClient
from superpose.explainer.prompts import explanation_messages, parse_explanation


def explain_records(records: Sequence[ActivationRecord], client: ChatClient,
                    max_records: int = 10, window: int = 24, max_tokens: int = 48) -> str:
    """Ask ``client`` what the neuron behind ``records`` responds to.

    Raises :class:`~superpose.explainer.prompts.DeadNeuronError` when the records never exceed zero,
    :class:`~superpose.explainer.prompts.ExplanationParseError` for an empty reply and
    :class:`~superpose.explainer.clients.LLMError` when the request fails. A client that writes
    explanations from records itself (``explain_records``, e.g. the top-tokens back-end) reads
    all of ``records``, no prompt.
    """
    direct = getattr(client, "explain_records", None)
    if callable(direct):
        return direct(records)
    messages = explanation_messages(records, max_records=max_records, window=window)
    return parse_explanation(client.complete(messages, max_tokens=max_tokens))
