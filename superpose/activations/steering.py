"""Output side of a unit: what clamping it does to the next-token distribution.

The method follows output-centric feature description (Gur-Arieh et al., ACL 2025: a unit is
described by the tokens it pushes up when steered) but is judge-free and deterministic: while
the model reads a fixed set of neutral prompts, the unit's activation is clamped at every
position to a high value taken from its own activation records (``gain`` times the ``quantile``
of its top records' peak activations); a short greedy continuation is generated under the clamp.
At each generated position the steered log-probabilities are compared with the unsteered ones on
the same prefix; the mean difference over prompts and positions is the unit's *effect*, one
number per vocabulary token.

A concept (a direction ``c`` in the neuron space, :mod:`superpose.units.concepts`) is clamped the
same way: at the input of the down projection, each position's activations ``a`` move along ``c``
by ``value - code(a)``, so the concept's part of the reconstruction ``center + codes @ C`` becomes
``value * c`` and the rest is kept (an SAE clamp with its error term). For a neuron (``c`` a basis
vector, code ``a[n]``) that is the neuron clamp; for PCA and ICA, whose encoder is the rows' dual,
the concept's code afterwards is exactly ``value``. The MLP output moves by ``(value - code) * W_down
@ c``, the concept's output direction, before the block's post-MLP norm where there is one.

An explanation predicts the effect through its own words: the mean, over its content words, of
the effect on the word's first token (the best of `` word``, `` Word`` and ``word``). That is the
log-likelihood gain of the explanation's words under steering; it needs no judge model, reads the
change in the model's own vocabulary with its magnitudes, and costs a table lookup. Scores
against distractors (explanations of other units) are in :mod:`superpose.explainer.scorers.steering_auc`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from superpose.config import SteeringParams
from superpose.core.errors import SuperposeError

NEUTRAL_PROMPTS: tuple[str, ...] = (
    "The", "I think that", "In the morning, we", "Here is a list of", "She said that the",
    "One of the most", "It was a", "My favourite", "We talked about", "This is a story about",
    "They bought some", "There are many", "He likes", "The next day,", "Today I learned about",
    "The best way to",
)
# Function words and the words of the topic template ("words such as ...") carry no claim.
STOPWORDS = frozenset("""a an the and or of in on at to for from by with as such words word tokens
token is are be that this it its which who what when where about like into than then these those
their they them some any all other others e g i.e eg etc not no""".split())


@dataclass
class SteeringEffect:
    """Mean change of log-probabilities (steered - unsteered) per vocabulary token."""

    layer: int
    neuron: int
    value: float
    delta: np.ndarray
    promoted: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    continuations: list[str] = field(default_factory=list)

    def centered(self, reference: np.ndarray) -> SteeringEffect:
        """The effect relative to ``reference`` (e.g. the mean effect of all compared units), so
        changes every steered unit causes (punctuation, newlines) predict nothing."""
        return SteeringEffect(self.layer, self.neuron, self.value, self.delta - reference,
                              self.promoted, self.suppressed, self.continuations)

    def summary(self) -> dict[str, Any]:
        return {"layer": self.layer, "neuron": self.neuron, "clamp_value": self.value,
                "promoted": self.promoted, "suppressed": self.suppressed,
                "continuations": self.continuations}


def content_words(text: str) -> list[str]:
    """Lower-case words of an explanation that carry its claim (no function words), in order."""
    words = re.findall(r"[a-z][a-z'-]*", text.lower())
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and len(w) > 1))


class WordTokens:
    """First token ids of a word's spellings, cached per tokenizer (instance state, not global)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._ids: dict[str, list[int]] = {}

    def __call__(self, word: str) -> list[int]:
        if word not in self._ids:
            ids = set()
            unknown = getattr(self.tokenizer, "unk_token_id", None)
            for form in (" " + word, " " + word.capitalize(), word):
                enc = self.tokenizer.encode(form, add_special_tokens=False)
                if enc and enc[0] != unknown:
                    ids.add(int(enc[0]))
            self._ids[word] = sorted(ids)
        return self._ids[word]


def explanation_gain(explanation: str, delta: np.ndarray, word_tokens: WordTokens) -> float | None:
    """Mean over the explanation's content words of the best effect on one of its spellings
    (spellings the tokenizer does not know are skipped); ``None`` without a content word."""
    gains = [max(delta[i] for i in ids) for ids in map(word_tokens, content_words(explanation)) if ids]
    return float(np.mean(gains)) if gains else None


def clamp_value(peaks: Sequence[float], params: SteeringParams) -> float:
    """``gain`` x the ``quantile`` of the unit's top-record peak activations."""
    if len(peaks) == 0 or max(peaks) <= 0:
        raise SuperposeError("the unit never activates above zero on its records: nothing to steer")
    return float(params.gain * np.quantile(np.asarray(peaks, dtype=np.float64), params.quantile))


class Steerer:
    """Clamps one MLP unit of a loaded model while it reads the neutral prompts: a neuron, or with
    ``units`` (a :class:`~superpose.units.concepts.ConceptSet`) a concept of that file."""

    def __init__(self, lm: Any, prompts: Sequence[str] = NEUTRAL_PROMPTS,
                 params: SteeringParams | None = None, units: Any = None) -> None:
        import torch

        from superpose.units.concepts import ConceptSet

        if not prompts or any(not p.strip() for p in prompts):
            raise SuperposeError("steering needs at least one non-empty prompt")
        if units is not None:
            if not isinstance(units, ConceptSet):
                raise SuperposeError(f"steering {units.unit_name}s is not supported: an SAE latent writes at its "
                                     "own hook, not at the MLP neurons; steer neurons or concepts")
            units.check_model(lm)
        self.lm, self.params, self.units = lm, params or SteeringParams(), units
        self.prompts = tuple(prompts)
        self.word_tokens = WordTokens(lm.tokenizer)
        encoded = [lm.tokenizer.encode(p, add_special_tokens=False) for p in self.prompts]
        width = max(len(e) for e in encoded)
        # Left padding, so every prompt's last token sits in the last column.
        self.ids = torch.tensor([[0] * (width - len(e)) + e for e in encoded], dtype=torch.long)
        self.mask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in encoded],
                                 dtype=torch.long)
        # Only the last positions' logits are needed; most families can skip the others.
        self._keep = "logits_to_keep" in inspect.signature(lm.model.forward).parameters

    @property
    def model_name(self) -> str:
        return str(self.lm.name)

    @property
    def units_identity(self) -> dict[str, Any] | None:
        """The identity of the concept file steered (``None``: MLP neurons), to check records against."""
        return None if self.units is None else self.units.identity()

    def describe(self) -> dict[str, Any]:
        """Everything that defines the effects, for the outputs' metadata."""
        from dataclasses import asdict

        clamp = ("MLP unit activation set to the clamp value at every position" if self.units is None else
                 "neuron activations moved along the concept's row by (clamp value - its code) at every position")
        return {"model": self.model_name, "prompts": list(self.prompts), **asdict(self.params),
                "units": self.units_identity, "clamp": clamp,
                "effect": "mean over prompts and generated positions of steered minus unsteered "
                          "log-probabilities", "explanation_score": "likelihood gain of content words"}

    def _logits(self, ids: Any, mask: Any, last: int) -> Any:
        """Logits of the ``last`` positions."""
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        extra = {"logits_to_keep": last} if self._keep else {}
        logits = self.lm.model(input_ids=ids, attention_mask=mask, position_ids=positions, **extra).logits
        return logits[:, -last:]

    def _concept_clamp(self, layer: int, index: int, value: float) -> Any:
        """The down projection's pre-hook that clamps concept ``index`` of ``self.units`` to ``value``."""
        units = self.units
        if layer != units.layer:
            raise SuperposeError(f"the concepts of {units.path} are at layer {units.layer}, not {layer}")
        if not 0 <= index < units.d_sae:
            raise SuperposeError(f"concept {index} out of range: {units.path} holds {units.d_sae} concepts")
        row = units.concepts[index]

        def clamp(_module: Any, args: tuple) -> tuple:
            x = args[0]
            shift = value - units.encode(x)[..., index:index + 1]
            return ((x.float() + shift * row.to(x.device)).to(x.dtype), *args[1:])

        return clamp

    def effect(self, layer: int, neuron: int, value: float) -> SteeringEffect:
        """Greedy continuation under the clamp; mean log-probability change at each new position."""
        import torch

        if not 0 <= layer < self.lm.n_layers:
            raise SuperposeError(f"layer {layer} out of range: the model has {self.lm.n_layers} layers")
        module = self.lm.adapter.mlp_out_proj(self.lm.adapter.blocks(self.lm.model)[layer])
        if self.units is None:
            if not 0 <= neuron < self.lm.n_neurons:
                raise SuperposeError(f"neuron {neuron} out of range: a layer has {self.lm.n_neurons} neurons")

            def clamp(_module: Any, args: tuple) -> tuple:
                x = args[0].clone()
                x[..., neuron] = value
                return (x, *args[1:])
        else:
            clamp = self._concept_clamp(layer, neuron, value)
        ids, mask, steps = self.ids, self.mask, self.params.new_tokens
        with torch.inference_mode():
            handle = module.register_forward_pre_hook(clamp)
            try:
                for step in range(steps):
                    logits = self._logits(ids, mask, steps if step == steps - 1 else 1)
                    ids = torch.cat([ids, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
                    mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            finally:
                handle.remove()
            steered = torch.log_softmax(logits.double(), dim=-1)
            base = torch.log_softmax(self._logits(ids[:, :-1], mask[:, :-1], steps).double(), dim=-1)
        delta = (steered - base).mean(dim=(0, 1)).numpy()
        k = self.params.top_tokens
        order = np.argsort(delta, kind="stable")
        decode = self.lm.tokenizer.decode
        return SteeringEffect(
            layer, neuron, float(value), delta,
            promoted=[decode([int(i)]) for i in order[::-1][:k]],
            suppressed=[decode([int(i)]) for i in order[:k]],
            continuations=[decode(row[self.ids.shape[1]:].tolist()) for row in ids])
