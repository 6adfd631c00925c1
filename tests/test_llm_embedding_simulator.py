"""The embedding simulator: registered, order-independent, refuses an empty explanation, and on
the packaged MiniLM follows what an explanation names."""

import numpy as np
import pytest

from superpose.activations.formats import read_jsonl
from superpose.cli import main
from superpose.explainer.clients import Backend
from superpose.explainer.simulators import SimulationError, SimulatorContext, make_simulator, simulator_kinds
from superpose.explainer.simulators.embedding import EmbeddingSimulator, token_text
from tests.llm_helpers import make_records


class CountingEncoder:
    """Unit vectors from a fixed table (unknown text: a vector of its own); counts calls."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        out = []
        for text in texts:
            v = np.zeros(4)
            v[{"red colours": 0, "red": 0, "blue": 0, "the": 1}.get(text, 2 + len(text) % 2)] = 1.0
            if text == "blue":
                v[1] = 1.0
            out.append(v / np.linalg.norm(v))
        return np.array(out)


def test_values_are_ten_times_the_cosine_and_independent_of_order():
    sim = EmbeddingSimulator(CountingEncoder())
    got = sim.simulate("red colours", [[" red", " the", " blue"], []])
    assert np.allclose(got[0], [10.0, 0.0, 10 / np.sqrt(2)]) and got[1].size == 0
    other = EmbeddingSimulator(CountingEncoder())
    other.simulate("red colours", [[" blue", "x"]])  # a different history of cached tokens
    assert np.array_equal(other.simulate("red colours", [[" red", " the", " blue"]])[0], got[0])


def test_each_distinct_text_is_embedded_once_and_alone():
    encoder = CountingEncoder()
    sim = EmbeddingSimulator(encoder)
    sim.simulate("red colours", [[" red", " red", "red"]])
    sim.simulate("red colours", [[" red"]])
    assert encoder.calls == [["red colours"], ["red"]]
    assert token_text(" red ") == "red" and token_text("\n") == "\n"


def test_an_empty_explanation_is_refused():
    with pytest.raises(SimulationError, match="explanation is empty"):
        EmbeddingSimulator(CountingEncoder()).simulate("  ", [[" red"]])


def test_registered_and_reachable_from_score_and_compare_help(capsys):
    assert "embedding" in simulator_kinds()
    with pytest.raises(SystemExit) as done:
        main(["compare", "--help"])
    assert done.value.code == 0 and "embedding (all-MiniLM-L6-v2" in capsys.readouterr().out


def test_real_minilm_follows_the_named_kind_of_word(tmp_path):
    sim = make_simulator("embedding", SimulatorContext(Backend()))
    tokens = [" The", " red", " car", " and", " the", " green", " door"]
    values = sim.simulate("colour names such as blue or yellow", [tokens])[0]
    colours = values[[1, 5]]
    others = values[[0, 2, 3, 4, 6]]
    assert colours.min() > others.max()
    # through the CLI: every neuron of the test records gets a score row from this simulator
    records = make_records(tmp_path / "rec")
    scores = tmp_path / "s.jsonl"
    assert main(["score", "--records", str(records), "--explanation", "alpha", "--layer", "0",
                 "--neurons", "0-1", "--simulator", "embedding", "--out", str(scores),
                 "--no-embedding", "--no-progress"]) == 0
    rows = list(read_jsonl(scores))
    assert {r["neuron"] for r in rows} == {0, 1}
    assert all(r["scores"]["simulator"] == "embedding (all-MiniLM-L6-v2)" for r in rows)


def test_the_ensemble_averages_standardised_parts():
    from superpose.explainer.simulators.ensemble import EnsembleSimulator, standardized_mean

    a = [np.array([0.0, 2.0]), np.array([4.0])]  # mean 2, std sqrt(8/3)
    b = [np.array([1.0, 1.0]), np.array([1.0])]  # constant: contributes zeros
    got = standardized_mean([a, b])
    z = (np.array([0.0, 2.0, 4.0]) - 2.0) / np.sqrt(8 / 3)
    assert np.allclose(np.concatenate(got), z / 2) and [len(g) for g in got] == [2, 1]
    # scale does not matter: a part times 100 gives the same ensemble
    assert np.allclose(np.concatenate(standardized_mean([[100 * x for x in a], b])), z / 2)
    assert standardized_mean([[], []]) == []
    with pytest.raises(ValueError, match="different numbers of tokens"):
        standardized_mean([a, [np.array([1.0])]])

    class Fixed:
        def __init__(self, name, values):
            self.name, self.method, self.values = name, name, values

        def simulate(self, explanation, sequences):
            return self.values

    ens = EnsembleSimulator([Fixed("lm", a), Fixed("emb", [100 * x for x in a])])
    assert ens.name == "lm + emb" and "ensemble" in ens.method
    assert np.allclose(np.concatenate(ens.simulate("x", [["a", "b"], ["c"]])), z)
    assert "ensemble" in simulator_kinds()


def test_the_ensemble_runs_through_score_with_a_real_local_model(tmp_path):
    records = make_records(tmp_path / "rec")
    scores = tmp_path / "s.jsonl"
    assert main(["score", "--records", str(records), "--explanation", "the word alpha", "--layer", "0",
                 "--neurons", "0", "--simulator", "ensemble", "--model", "smollm2-135m", "--score-records", "2",
                 "--out", str(scores), "--no-embedding", "--no-progress"]) == 0
    (row,) = read_jsonl(scores)
    assert row["status"] == "ok" and row["scores"]["simulator"] == "smollm2-135m + embedding (all-MiniLM-L6-v2)"
    assert "ensemble" in row["scores"]["simulator_method"] and row["scores"]["correlation"] is not None
