"""Prompt building and activation scaling on fixed records."""

import numpy as np
import pytest

from superpose.activations.formats import ActivationRecord, NeuronRecords
from superpose.explainer.prompts import (
    DeadNeuronError,
    ExplanationParseError,
    explanation_messages,
    parse_explanation,
    parse_number_list,
    records_max,
    scale_activations,
)


def test_scaling_rounds_by_the_maximum_and_clips_negatives():
    got = scale_activations(np.array([-1.0, 0.0, 0.24, 0.25, 1.0, 2.0]), 2.0)
    assert got.tolist() == [0, 0, 1, 1, 5, 10]
    with pytest.raises(DeadNeuronError):
        scale_activations(np.zeros(3), 0.0)


def test_explanation_prompt_shows_firing_tokens_scaled_over_all_records():
    records = [
        ActivationRecord(["On", " Monday", " we", " rest"], np.array([0, 4.0, 0, 0.1])),
        ActivationRecord(["Every", " Friday", "\n"], np.array([0, 2.0, 0])),
    ]
    assert records_max(records) == 4.0
    messages = explanation_messages(records)
    system, user = messages[0], messages[-1]
    assert system["role"] == "system" and user["role"] == "user"
    assert [m["role"] for m in messages] == ["system", "user"]
    # the variant: one worked exchange before the neuron's records shows the answer's form
    variant = explanation_messages(records, example=True)
    assert [m["role"] for m in variant] == ["system", "user", "assistant", "user"]
    assert len(variant[2]["content"].split()) >= 3 and "3 to 8 words" in variant[-1]["content"]
    assert "Firing tokens: Monday (10)" in variant[-1]["content"]
    text = user["content"]
    assert 'Text 1: "On Monday we rest"' in text
    assert "Firing tokens: Monday (10)" in text
    assert "Friday (5)" in text
    assert " rest (" not in text  # 0.1 / 4 rounds to 0: not shown
    assert "one short phrase" in text
    assert text.startswith("Tokens on which the neuron fired, strongest first: Monday, Friday")


def test_the_tokens_style_asks_for_the_firing_tokens_and_unknown_styles_are_refused():
    records = [ActivationRecord(["On", " Monday"], np.array([0, 4.0]))]
    messages = explanation_messages(records, style="tokens")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "token, token, token: what is common" in messages[-1]["content"]
    assert "Firing tokens: Monday (10)" in messages[-1]["content"]
    assert explanation_messages(records, style="example") == explanation_messages(records, example=True)
    with pytest.raises(ValueError, match="unknown explainer prompt style 'fancy'"):
        explanation_messages(records, style="fancy")


def test_explanation_prompt_windows_long_records_around_the_peak():
    tokens = [f" w{i}" for i in range(100)]
    acts = np.zeros(100)
    acts[70] = 1.0
    text = explanation_messages([ActivationRecord(tokens, acts)], window=10)[-1]["content"]
    assert "w70 (10)" in text and " w50" not in text and " w74" in text


def test_parse_explanation_takes_first_line_without_preamble():
    assert parse_explanation('Explanation: "days of the week".\nmore') == "days of the week"
    assert parse_explanation("\n  The neuron fires on numbers.") == "numbers"
    assert parse_explanation("Neuron responds to: weekdays") == "weekdays"
    assert parse_explanation("The token or text that the neuron responds to is a noun") == "a noun"
    for bad in ("", "   \n\n", None):
        with pytest.raises(ExplanationParseError):
            parse_explanation(bad)


def test_number_list_parsing_requires_every_token():
    assert parse_number_list("1\t3\n2\t12\n3: 0", 3).tolist() == [3, 10, 0]
    with pytest.raises(ValueError):
        parse_number_list("1\t3", 2)


def test_split_is_disjoint_and_mixes_top_and_random():
    def rec(seq, kind):
        return ActivationRecord(["a"], np.array([1.0]), seq, kind)

    top = [rec(i, "top") for i in range(8)]
    rand = [rec(i, "random") for i in (3, 100, 101, 102, 103)]  # 3 is also a top record
    split = NeuronRecords("m", 0, 0, top, rand).split()
    seqs = [[r.sequence for r in part] for part in (split.explain, split.calibration,
                                                     split.holdout)]
    assert seqs[0] == [0, 2, 4, 6]
    assert sorted(set(sum(seqs, []))) == sorted(sum(seqs, []))  # disjoint
    assert {r.kind for r in split.calibration} == {"top", "random"}
    assert {r.kind for r in split.holdout} == {"top", "random"}
    for part in (split.calibration, split.holdout):  # the OpenAI method's 1:1 mix
        kinds = [r.kind for r in part]
        assert kinds.count("top") == kinds.count("random") == 2
