"""The scorer registry: built-ins, a scorer registered by a test, OpenAI's definitions by hand."""

from __future__ import annotations

import numpy as np
import pytest

from superpose.activations.formats import ActivationRecord, RecordSplit
from superpose.core.errors import SuperposeError
from superpose.explainer.scorers import Evidence, get_scorer, score_explanation, scorer_names
from superpose.explainer.scorers.abs_dev_vs_zero import absolute_deviation_explained_vs_zero
from superpose.explainer.scorers.r2_vs_zero import r_squared_vs_zero


class EchoSimulator:
    """Predicts the true activations exactly (they are the token texts, as numbers)."""

    name = "echo"
    method = "test"

    def simulate(self, explanation, sequences):
        return [np.array([float(t) for t in s]) for s in sequences]


def _record(values, kind):
    return ActivationRecord([str(v) for v in values], np.array(values, dtype=float), kind=kind)


SPLIT = RecordSplit(explain=[], calibration=[_record([0, 1, 4], "top"), _record([0, 0, 1], "random")],
                    holdout=[_record([0, 2, 5], "top"), _record([1, 0, 0], "random")])


def test_built_in_scorers_by_side():
    assert {"correlation", "r2", "abs_dev_explained", "r2_vs_zero", "abs_dev_explained_vs_zero",
            "embedding_auc"} <= set(scorer_names("input"))
    assert scorer_names("output") == ["steering_auc"]
    with pytest.raises(SuperposeError, match="unknown scorer 'nope'"):
        get_scorer("nope")


def test_openai_definitions_by_hand():
    true, pred = [np.array([0.0, 2.0, 4.0])], [np.array([0.0, 2.0, 2.0])]
    # 1 - mean((0, 0, 4)) / mean((0, 4, 16)) and 1 - mean((0, 0, 2)) / mean((0, 2, 4))
    assert r_squared_vs_zero(true, pred).value == pytest.approx(1 - (4 / 3) / (20 / 3))
    assert absolute_deviation_explained_vs_zero(true, pred).value == pytest.approx(1 - (2 / 3) / 2)
    assert not r_squared_vs_zero([np.zeros(3)], pred).defined
    # against zero, predicting the mean already scores above 0; against the mean it scores 0
    mean = [np.full(3, 2.0)]
    assert r_squared_vs_zero(true, mean).value == pytest.approx(1 - (8 / 3) / (20 / 3))


def test_every_input_score_of_an_exact_simulation():
    scores = score_explanation("numbers", SPLIT, EchoSimulator())
    out = scores.to_json()
    for name in ("correlation", "r2", "abs_dev_explained", "r2_vs_zero", "abs_dev_explained_vs_zero"):
        assert out[name] == pytest.approx(1.0), name


TOY_SCORER = """
from superpose.explainer.scorers import Evidence
from superpose.explainer.scoring import Score


class Length:
    \"\"\"Scores the explanation by its length and counts the records it was given.\"\"\"

    name = "toy_length"
    side = "input"

    def score(self, evidence: Evidence) -> Score:
        sim = evidence.simulation()  # shares the one simulation
        return Score(len(evidence.explanation) + 0.01 * len(sim.test_true))


SCORER = Length
"""


def _plugin(tmp_path, monkeypatch, name: str, text: str) -> None:
    """Drop one scorer file into the package's search path, as a user adding a scorer would."""
    from superpose.explainer import scorers

    (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.setattr(scorers, "__path__", [*scorers.__path__, str(tmp_path)])


def test_a_new_scorer_file_is_used_through_the_api(tmp_path, monkeypatch):
    _plugin(tmp_path, monkeypatch, "toy_length", TOY_SCORER)
    assert "toy_length" in scorer_names("input")
    scores = score_explanation("four", SPLIT, EchoSimulator(), scorers=["toy_length"])
    assert scores.to_json()["toy_length"] == pytest.approx(4.02)
    assert scores.scores["correlation"].value == pytest.approx(1.0)


def test_a_malformed_or_clashing_scorer_file_is_refused(tmp_path, monkeypatch):
    cases = {"no_side": ("class NoSide:\n    name = 'x'\n\n\nSCORER = NoSide\n", "side"),
             "clash": ("from superpose.explainer.scorers.correlation import SCORER\n", "two .* named 'correlation'"),
             "none": ("X = 1\n", "defines no SCORER")}
    for name, (text, error) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        with monkeypatch.context() as patch:
            _plugin(folder, patch, f"toy_{name}", text)
            with pytest.raises(SuperposeError, match=error):
                scorer_names()
    assert "x" not in scorer_names()


def test_input_scorers_need_records_and_a_simulator():
    with pytest.raises(ValueError, match="needs activation records and a simulator"):
        get_scorer("correlation").score(Evidence("x"))
