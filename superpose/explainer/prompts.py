"""Prompt text of the explainer and the simulator (our own wording) and activation scaling."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from superpose.activations.formats import ActivationRecord

Message = dict[str, str]

EXPLAIN_SYSTEM = (
    "You study one neuron inside a language model. You are shown short texts and, for each "
    "text, the tokens on which the neuron fired, with a strength from 1 (weak) to 10 (its "
    "strongest). Work out what the firing tokens have in common. Answer with one short phrase "
    "(a few words) naming what the neuron responds to, with no other text."
)
EXPLAIN_QUESTION = ("What kind of token or text does the neuron respond to? Reply with one "
                    "short phrase naming the category, with no other text.")
# The variant with a worked exchange asks for a longer answer with examples.
EXPLAIN_SYSTEM_EXAMPLE = (
    "You study one neuron inside a language model. You are shown short texts and, for each "
    "text, the tokens on which the neuron fired, with a strength from 1 (weak) to 10 (its "
    "strongest). Work out what the firing tokens have in common. Answer with one phrase of 3 "
    "to 8 words: the kind of token or text the neuron responds to, followed by two or three "
    "of the strongest firing tokens as examples, with no other text."
)
EXPLAIN_QUESTION_EXAMPLE = ("What does the neuron respond to? One phrase of 3 to 8 words, "
                            "with two or three firing tokens as examples.")
# The "tokens" style asks for the firing tokens themselves first: small models otherwise name
# the topic of the texts rather than what the firing tokens share.
EXPLAIN_SYSTEM_TOKENS = (
    "You study one neuron inside a language model. You are shown short texts and, for each "
    "text, the tokens on which the neuron fired, with a strength from 1 (weak) to 10 (its "
    "strongest). Answer with the three to five tokens that fire most strongly, then a few "
    "words naming what is common to those tokens, in the form asked for, with no other text."
)
EXPLAIN_QUESTION_TOKENS = ("Which tokens make the neuron fire most, and what is common to those "
                           "tokens? Reply as: token, token, token: what is common.")
STYLES = ("plain", "example", "tokens")


class DeadNeuronError(ValueError):
    """The records never exceed zero, so there is nothing to explain or to scale."""


def scale_activations(activations: np.ndarray, max_activation: float) -> np.ndarray:
    """Integers 0-10: ``round(10 * a / max)``, negatives as 0, so prompts stay short and uniform."""
    if not max_activation > 0:
        raise DeadNeuronError("the neuron never activates above zero on these records")
    scaled = np.rint(10.0 * np.clip(np.asarray(activations, dtype=np.float64), 0, None)
                     / max_activation)
    return np.clip(scaled, 0, 10).astype(int)


def records_max(records: Sequence[ActivationRecord]) -> float:
    return max((float(np.max(r.activations)) for r in records if len(r.activations)),
               default=0.0)


def show_token(token: str) -> str:
    """A token made printable on one line; whitespace-only tokens are named."""
    text = token.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return text if text.strip() else repr(token)


def _window(record: ActivationRecord, scaled: np.ndarray, width: int) -> tuple[int, int]:
    """Token range of at most ``width`` tokens centred on the strongest activation."""
    n = len(record.tokens)
    if n <= width:
        return 0, n
    peak = int(np.argmax(scaled))
    start = min(max(peak - width // 2, 0), n - width)
    return start, start + width


def records_block(records: Sequence[ActivationRecord], max_records: int = 10,
                  window: int = 24) -> str:
    """The records as the explainer sees them: the strongest distinct firing tokens, then each
    record's text around its peak with its firing tokens scaled 0-10 by the shown maximum."""
    shown = list(records)[:max_records]
    top = records_max(shown)
    parts = []
    strongest: dict[str, int] = {}
    for i, record in enumerate(shown, 1):
        scaled = scale_activations(record.activations, top)
        start, stop = _window(record, scaled, window)
        text = "".join(record.tokens[start:stop]).replace("\n", " ").strip()
        firing = [f"{show_token(record.tokens[j]).strip()} ({scaled[j]})"
                  for j in range(start, stop) if scaled[j] > 0]
        for j in range(len(record.tokens)):
            word = show_token(record.tokens[j]).strip()
            strongest[word] = max(strongest.get(word, 0), int(scaled[j]))
        parts.append(f"Text {i}: \"{text}\"\nFiring tokens: "
                     + (", ".join(firing) if firing else "none"))
    # A summary of the strongest distinct tokens helps small models see past the texts' topics.
    ranked = [w for w, v in sorted(strongest.items(), key=lambda kv: -kv[1]) if v > 0][:12]
    return ("Tokens on which the neuron fired, strongest first: " + ", ".join(ranked)
            + "\n\nThe texts these come from:\n\n" + "\n\n".join(parts))


def _example(text: list[str], firing: dict[str, float]) -> ActivationRecord:
    return ActivationRecord(text, np.array([firing.get(t, 0.0) for t in text]))


# One worked exchange shows a small model the expected length and form of the answer (a
# category plus examples), which it otherwise collapses to one word or a repeated phrase.
# Its topic and wording share nothing with the puzzle benchmark (a test checks).
EXPLAIN_EXAMPLE = (
    [_example(["She", " stirred", " the", " soup", " while", " the", " bread", " baked"],
              {" stirred": 0.7, " baked": 1.0}),
     _example(["Fry", " the", " onions", " until", " soft", " then", " simmer"],
              {"Fry": 0.9, " simmer": 0.8}),
     _example(["We", " grilled", " peppers", " on", " the", " terrace"], {" grilled": 0.9})],
    "cooking actions such as baked, fry, simmer",
)


def explanation_messages(records: Sequence[ActivationRecord], max_records: int = 10,
                         window: int = 24, example: bool = False,
                         style: str = "plain") -> list[Message]:
    """Chat messages asking for a one-line explanation of the neuron behind ``records``.

    ``style`` "plain" asks for a short phrase; "tokens" asks for the strongest firing tokens
    and what they share; "example" (or ``example=True``) adds one worked exchange
    (:data:`EXPLAIN_EXAMPLE`) and asks for 3-8 words with examples. Plain is the default
    because no other style has been shown to score better (``benchmarks/bench_explainer.py``).
    """
    if style not in STYLES:
        raise ValueError(f"unknown explainer prompt style {style!r}; choose one of: {', '.join(STYLES)}")
    if style == "tokens":
        return [{"role": "system", "content": EXPLAIN_SYSTEM_TOKENS},
                {"role": "user", "content": records_block(records, max_records, window)
                 + "\n\n" + EXPLAIN_QUESTION_TOKENS}]
    if not example and style == "plain":
        return [{"role": "system", "content": EXPLAIN_SYSTEM},
                {"role": "user", "content": records_block(records, max_records, window)
                 + "\n\n" + EXPLAIN_QUESTION}]
    shown, answer = EXPLAIN_EXAMPLE
    return [{"role": "system", "content": EXPLAIN_SYSTEM_EXAMPLE},
            {"role": "user", "content": records_block(shown) + "\n\n"
             + EXPLAIN_QUESTION_EXAMPLE},
            {"role": "assistant", "content": answer},
            {"role": "user", "content": records_block(records, max_records, window)
             + "\n\n" + EXPLAIN_QUESTION_EXAMPLE}]


_PREAMBLES = re.compile(
    r"^(?:explanation|answer|category|(?:the |this )?neuron (?:fires|responds|activates|reacts)"
    r"(?: on| to)?|it (?:fires|responds)(?: on| to)?|"
    r"the (?:tokens?|text)(?: or text)? (?:that )?the neuron responds to (?:is|are))"
    r"\s*[:\-]?\s*", re.IGNORECASE)


class ExplanationParseError(ValueError):
    """The explainer's reply held no usable explanation."""


def parse_explanation(reply: str | None, max_chars: int = 300) -> str:
    """The first non-empty line of a reply, without preambles, quotes or a final period."""
    for line in (reply or "").splitlines():
        text = line.strip().strip("*#>-").strip()
        text = _PREAMBLES.sub("", text).strip(" \"'`").rstrip(" .\"'`")
        if text:
            return text[:max_chars]
    raise ExplanationParseError("the explainer returned no explanation text")


# ---- simulator ---------------------------------------------------------------------------

SIMULATE_HEADER = (
    "A neuron in a language model fires on some tokens and stays silent on others. Given a "
    "short explanation of the neuron, predict its activation on every token of a text, from 0 "
    "(silent) to {top} (strongest). Tokens that do not match the explanation get 0. Each line "
    "holds one token, a tab, and the activation; unknown stands for an activation not yet "
    "filled in.\n\n"
)


@dataclass(frozen=True)
class WorkedExample:
    """A worked example: the first ``reveal`` rows say ``unknown``, then the numbers follow.

    As in the method's examples, rows switch from ``unknown`` to numbers, which shows the model
    that a number belongs where the query says ``unknown``. Values are fractions of the top.
    Topics and wording share nothing with the puzzle benchmark's explanations (a test checks).
    """

    explanation: str
    rows: tuple[tuple[str, float], ...]
    reveal: int


EXAMPLES: tuple[WorkedExample, ...] = (
    WorkedExample("vehicles and other means of transport",
                  (("Our", 0), (" old", 0), (" bus", 1.0), (" broke", 0), (" down", 0),
                   (" so", 0), (" we", 0), (" hired", 0), (" a", 0), (" taxi", 0.9)), reveal=2),
    WorkedExample("adjectives of size such as tiny or huge",
                  (("A", 0), (" tiny", 1.0), (" cottage", 0), (" stood", 0), (" beside", 0),
                   (" a", 0), (" huge", 0.9), (" tower", 0)), reveal=1),
    WorkedExample("question words such as where or why",
                  (("Where", 1.0), (" did", 0), (" you", 0), (" hide", 0), (" it", 0),
                   ("?", 0), (" Why", 0.8), (" ask", 0)), reveal=0),
)
UNKNOWN = "unknown"


@dataclass(frozen=True)
class SimulationLayout:
    """The pieces of an all-at-once simulation prompt; the simulator tokenises them in order.

    ``rows`` are (token shown, value text); the value of each query row is ``unknown`` and the
    model's distribution over numerals right after that row's tab is what the simulator reads.
    """

    header: str
    examples: list[tuple[str, list[tuple[str, str]]]]  # (intro line, rows) per example
    query_intro: str
    query_tokens: list[str]
    unknown: str = UNKNOWN

    def fixed_text(self) -> str:
        """Header and worked examples: the part shared by every prompt."""
        return self.header + "\n".join(
            intro + "".join(f"{t}\t{v}\n" for t, v in rows) for intro, rows in self.examples)

    def text(self) -> str:
        """The whole prompt as one string (for servers that take text)."""
        return self.fixed_text() + self.query_intro + "".join(
            f"{t}\t{self.unknown}\n" for t in self.query_tokens)


def simulation_layout(explanation: str, tokens: Sequence[str], top: int = 10) -> SimulationLayout:
    examples = [(f"Explanation: {ex.explanation}\n",
                 [(show_token(t), UNKNOWN if i < ex.reveal else str(int(round(v * top))))
                  for i, (t, v) in enumerate(ex.rows)])
                for ex in EXAMPLES]
    return SimulationLayout(
        header=SIMULATE_HEADER.format(top=top),
        examples=examples,
        query_intro=f"\nExplanation: {explanation.strip()}\n",
        query_tokens=[show_token(t) for t in tokens])


def number_list_messages(explanation: str, tokens: Sequence[str]) -> list[Message]:
    """Chat prompt of the logprob-free fallback: ask for one number per numbered token."""
    listing = "\n".join(f"{i}\t{show_token(t)}" for i, t in enumerate(tokens, 1))
    user = (f"A neuron in a language model is explained as: {explanation.strip()}\n"
            f"Predict its activation, from 0 (silent) to 10 (strongest), on each of these "
            f"{len(tokens)} numbered tokens.\n{listing}\n\nReply with exactly {len(tokens)} "
            "lines, line i reading 'i<TAB>activation', with no other text.")
    return [{"role": "user", "content": user}]


def parse_number_list(reply: str | None, n_tokens: int) -> np.ndarray:
    """Values 0-10 from a numbered reply; missing lines are an error, not zeros."""
    values: dict[int, float] = {}
    for line in (reply or "").splitlines():
        numbers = re.findall(r"-?\d+(?:\.\d+)?", line)
        if len(numbers) >= 2:
            index = int(float(numbers[0]))
            if 1 <= index <= n_tokens and index not in values:
                values[index] = float(np.clip(float(numbers[-1]), 0, 10))
    if len(values) < n_tokens:
        raise ValueError(f"the reply gave activations for {len(values)} of {n_tokens} tokens")
    return np.array([values[i] for i in range(1, n_tokens + 1)])
