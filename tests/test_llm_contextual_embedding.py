"""The contextual-embedding simulator: registered, reads a token within its record (the same
token scores differently in different contexts), keeps whitespace tokens' alone vectors, reads
each record once, and combines its two signals by the ensemble's rule."""

import numpy as np
import pytest

from superpose.explainer.clients import Backend
from superpose.explainer.simulators import SimulationError, SimulatorContext, make_simulator, simulator_kinds
from superpose.explainer.simulators.ensemble import standardized_mean


@pytest.fixture(scope="module")
def sim():
    return make_simulator("contextual-embedding", SimulatorContext(Backend()))


def test_registered():
    assert "contextual-embedding" in simulator_kinds()


def test_the_same_token_reads_differently_in_different_contexts(sim):
    river = [" the", " river", " bank", " was", " muddy"]
    money = [" the", " bank", " loan", " and", " interest", " rate"]
    parts = sim.components("money, loans and finance", [river, money])
    assert parts["alone"][0][2] == pytest.approx(parts["alone"][1][1])  # alone: context-blind
    assert parts["in context"][1][1] > parts["in context"][0][2] + 0.5  # in context: not


def test_whitespace_tokens_keep_their_alone_value_and_records_are_read_once(sim, monkeypatch):
    tokens = [" red", "\n", " door", " "]
    parts = sim.components("colour names", [tokens])
    assert parts["in context"][0][1] == pytest.approx(parts["alone"][0][1])
    assert parts["in context"][0][3] == pytest.approx(parts["alone"][0][3])
    calls = []
    model = sim.encoder.model
    monkeypatch.setattr(sim.encoder, "model", lambda **kw: calls.append(1) or model(**kw))
    sim.components("colour names", [tokens, tokens])
    assert calls == []  # already read above
    sim.components("colour names", [[" door", " red"]])  # known tokens, a new record
    assert calls == [1]


def test_simulate_is_the_standardised_mean_of_both_signals(sim):
    seqs = [[" The", " red", " car"], [" a", " green", " door", "."]]
    parts = sim.components("colour names", seqs)
    want = standardized_mean([parts["alone"], parts["in context"]])
    got = sim.simulate("colour names", seqs)
    assert all(np.allclose(g, w) for g, w in zip(got, want, strict=True))
    assert got[0][1] > got[0][2] and got[1][1] > got[1][2]


def test_an_empty_explanation_is_refused(sim):
    with pytest.raises(SimulationError, match="explanation is empty"):
        sim.simulate(" ", [[" red"]])
