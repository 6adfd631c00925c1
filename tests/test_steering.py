"""Output side: clamping a unit, its effect on next-token log-probabilities, the steering AUC."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from superpose.activations.steering import (
    Steerer,
    SteeringEffect,
    SteeringParams,
    WordTokens,
    clamp_value,
    content_words,
    explanation_gain,
)
from superpose.core.errors import SuperposeError
from superpose.explainer.scorers import Evidence, get_scorer
from superpose.explainer.scorers.steering_auc import rank_among
from superpose.models import load_model
from tests.mining_helpers import make_model, tokens

PROMPTS = ("apple banana", "boat coral crab", "moon")


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    return load_model(str(make_model(tmp_path_factory.mktemp("steer"))))


def test_effect_is_deterministic_and_changes_the_distribution(lm):
    steerer = Steerer(lm, PROMPTS, SteeringParams(new_tokens=3, top_tokens=5))
    a, b = steerer.effect(1, 4, 6.0), steerer.effect(1, 4, 6.0)
    assert a.delta.shape == (lm.vocab_size,) and np.isfinite(a.delta).all()
    assert np.array_equal(a.delta, b.delta) and a.continuations == b.continuations
    assert np.abs(a.delta).max() > 0.01
    assert len(a.promoted) == 5 and len(a.continuations) == len(PROMPTS)
    assert steerer.describe()["new_tokens"] == 3 and steerer.describe()["prompts"] == list(PROMPTS)


def test_a_huge_clamp_in_the_last_layer_promotes_the_direct_path_token(lm):
    """With the unit clamped far above everything else, the last hidden state points along its
    output direction, so the final norm and unembedding pick the token that direction reads as."""
    layer, neuron = lm.n_layers - 1, 7
    block = lm.adapter.blocks(lm.model)[layer]
    direction = lm.adapter.mlp_out_proj(block).weight[:, neuron]
    norm_weight = lm.adapter.final_norm(lm.model).weight
    expected = int(torch.argmax(lm.adapter.unembedding(lm.model).weight @ (norm_weight * direction)))
    effect = Steerer(lm, PROMPTS, SteeringParams(new_tokens=1)).effect(layer, neuron, 1e4)
    assert effect.continuations == [lm.tokenizer.decode([expected])] * len(PROMPTS)
    assert effect.delta[expected] > 0


def test_clamp_value_and_bad_settings():
    assert clamp_value([1.0, 2.0, 3.0], SteeringParams(quantile=0.5, gain=4.0)) == pytest.approx(8.0)
    assert clamp_value([1.0, 3.0], SteeringParams(quantile=1.0, gain=1.0)) == pytest.approx(3.0)
    with pytest.raises(SuperposeError, match="never activates"):
        clamp_value([0.0, -1.0], SteeringParams())
    with pytest.raises(SuperposeError, match="never activates"):
        clamp_value([], SteeringParams())
    for bad in (dict(quantile=1.5), dict(gain=0.0), dict(new_tokens=0), dict(top_tokens=-1)):
        with pytest.raises(SuperposeError):
            SteeringParams(**bad)


def test_bad_units_and_prompts(lm):
    steerer = Steerer(lm, PROMPTS)
    with pytest.raises(SuperposeError, match="layer 9 out of range"):
        steerer.effect(9, 0, 1.0)
    with pytest.raises(SuperposeError, match="neuron 999 out of range"):
        steerer.effect(0, 999, 1.0)
    with pytest.raises(SuperposeError, match="non-empty prompt"):
        Steerer(lm, ("apple", " "))


def test_content_words_drop_function_words_and_the_topic_template():
    assert content_words("words such as Apple, pear; or words such as apple") == ["apple", "pear"]
    assert content_words("the and of") == []


class WordTokenizer:
    """Encodes a text that is one vocabulary word (with or without a leading space), else unknown."""

    unk_token_id = 0

    def encode(self, text, add_special_tokens=False):
        vocab = tokens()
        name = "Ġ" + text[1:] if text.startswith(" ") else text
        return [vocab.index(name) if name in vocab else 0]


def _delta(lm, gains: dict[str, float]) -> np.ndarray:
    vocab = tokens()
    delta = np.zeros(lm.vocab_size)
    for word, value in gains.items():
        delta[vocab.index("Ġ" + word)] = value
    return delta


def test_explanation_gain_by_hand(lm):
    words = WordTokens(WordTokenizer())
    delta = _delta(lm, {"apple": 1.0, "pear": 0.5, "boat": -1.0})
    assert explanation_gain("words such as apple, pear", delta, words) == pytest.approx(0.75)
    assert explanation_gain("apple and boat", delta, words) == pytest.approx(0.0)
    assert explanation_gain("the of", delta, words) is None


def test_steering_auc_and_rank_against_distractors(lm):
    effect = SteeringEffect(0, 0, 1.0, _delta(lm, {"apple": 2.0, "pear": 1.0, "boat": -1.0, "storm": 0.5}))
    words = WordTokens(WordTokenizer())
    distractors = ["boat crab", "storm", "pear", "the of"]  # "the of" has no content word: skipped
    scorer = get_scorer("steering_auc")
    best = Evidence("apple", effect=effect, effect_words=words, distractors=distractors)
    assert scorer.score(best).value == pytest.approx(1.0) and rank_among(best) == 1
    mid = Evidence("storm moon", effect=effect, effect_words=words, distractors=distractors)
    # gain 0.25: beats "boat crab" (-0.5), loses to "storm" (0.5) and "pear" (1.0)
    assert scorer.score(mid).value == pytest.approx(1 / 3) and rank_among(mid) == 3
    down = Evidence("boat", effect=effect, effect_words=words, distractors=distractors, claim="suppresses")
    assert scorer.score(down).value == pytest.approx(1.0)
    assert not scorer.score(Evidence("the", effect=effect, effect_words=words, distractors=distractors)).defined
    with pytest.raises(ValueError, match="needs a steering effect"):
        scorer.score(Evidence("apple"))


def test_centering_removes_what_every_unit_does(lm):
    effect = SteeringEffect(0, 0, 1.0, _delta(lm, {"apple": 2.0, "pear": 3.0}))
    centered = effect.centered(_delta(lm, {"pear": 3.0}))
    assert centered.delta[tokens().index("Ġpear")] == 0 and centered.delta[tokens().index("Ġapple")] == 2.0
