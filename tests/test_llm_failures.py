"""Neurons that end in error give a non-zero exit and a one-line summary; finished ones stay."""

import json
import socket

import pytest

from superpose.activations.formats import read_jsonl
from superpose.cli import main
from superpose.explainer import clients
from superpose.explainer.clients import ChatClient
from tests.llm_helpers import make_records
from tests.registry_helpers import add_extension


def _closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    return err


@pytest.fixture
def unreachable(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    return ["--backend", "openai", "--model", "m", "--retries", "0", "--timeout", "2",
            "--base-url", f"http://127.0.0.1:{_closed_port()}/v1", "--no-progress"]


def test_explain_and_score_against_an_unreachable_port_fail_loudly(tmp_path, unreachable,
                                                                   capsys):
    records = make_records(tmp_path / "rec")
    expl = tmp_path / "e.jsonl"
    assert main(["explain", "--records", str(records), "--layer", "0", "--neurons", "0-2",
                 "--out", str(expl), *unreachable]) == 2
    err = _one_line(capsys)
    assert "2 of 3 neuron(s) ended in error" in err and "APIConnectionError" in err
    assert {r["neuron"]: r["status"] for r in read_jsonl(expl)} == {0: "error", 1: "error",
                                                                     2: "dead"}
    scores = tmp_path / "s.jsonl"
    for simulator in ("auto", "chat-numbers"):
        assert main(["score", "--records", str(records), "--explanation", "alpha", "--layer",
                     "0", "--neurons", "0-1", "--simulator", simulator, "--out", str(scores),
                     "--no-embedding", *unreachable]) == 2
        assert "2 of 2 score(s) ended in error" in _one_line(capsys)


class FlakyClient(ChatClient):
    """Fails every request whose prompt shows " beta" the first time it is asked, replies
    with an empty text when it shows " gamma", else names the record's first firing token."""

    name = "flaky"

    def __init__(self, cache=None):
        super().__init__(cache)
        self.failed = set()

    def _complete(self, request):
        user = request["messages"][-1]["content"]
        if "strongest first: beta" in user and "beta" not in self.failed:
            self.failed.add("beta")
            raise clients.LLMError("the server hiccupped")
        return "alpha tokens" if "strongest first: alpha" in user else "   "


def test_finished_neurons_are_kept_and_only_failed_ones_retried(tmp_path, monkeypatch, capsys):
    flaky = FlakyClient()
    add_extension(monkeypatch, clients.CLIENTS, "flaky", clients.ClientKind(
        "flaky", "test", lambda backend, cache: flaky))
    records = make_records(tmp_path / "rec")
    expl = tmp_path / "e.jsonl"
    args = ["explain", "--records", str(records), "--layer", "0", "--neurons", "0-2",
            "--backend", "flaky", "--out", str(expl), "--no-progress"]
    assert main(args) == 2
    assert "1 of 3 neuron(s) ended in error" in _one_line(capsys)
    first = read_jsonl(expl)
    assert {r["neuron"]: r["status"] for r in first} == {0: "ok", 1: "error", 2: "dead"}
    # second run: only neuron 1 is asked again; its reply is empty, a recorded status
    assert main(args) == 2
    err = _one_line(capsys)
    assert "1 of 1 neuron(s)" in err and "no explanation text" in err
    rows = read_jsonl(expl)
    assert rows[:3] == first and len(rows) == 4 and rows[3]["neuron"] == 1


def test_empty_explanation_to_score_is_a_one_line_error(tmp_path, capsys):
    records = make_records(tmp_path / "rec")
    assert main(["score", "--records", str(records), "--explanation", "  ", "--layer", "0",
                 "--neurons", "0", "--no-progress"]) == 2
    assert "--explanation is empty" in _one_line(capsys)
    stored = tmp_path / "e.jsonl"
    stored.write_text(json.dumps({"layer": 0, "neuron": 0, "status": "ok", "explanation": "",
                                  "records_model": "toy"}) + "\n")
    from superpose.explainer.jobs import run_score
    from tests.llm_helpers import KeywordSimulator

    out = tmp_path / "s.jsonl"
    summary = run_score(records, out, simulator=KeywordSimulator(), explanations_file=stored,
                        embedding=False, progress=False)
    assert summary.failed == 1 and "empty" in summary.first_error
    assert read_jsonl(out)[0]["status"] == "error"


def test_compare_exits_non_zero_when_a_score_failed(tmp_path, monkeypatch, capsys):
    """The comparison itself is stubbed: what is tested is the CLI's verdict on its scores."""
    from pathlib import Path

    import superpose.compare
    import superpose.explainer.local_models as local_models

    def fake_compare(results, file, records, out, **kw):
        out = Path(out)
        out.mkdir(parents=True)
        (out / "summary.md").write_text("summary\n")
        rows = [{"layer": 0, "neuron": 1, "explanation_id": "a", "status": "error",
                 "error": "old failure, retried below"},
                {"layer": 0, "neuron": 1, "explanation_id": "a", "status": "ok"},
                {"layer": 0, "neuron": 2, "explanation_id": "b", "status": "error",
                 "error": "simulator broke"}]
        (out / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return out

    monkeypatch.setattr(superpose.compare, "compare", fake_compare)
    monkeypatch.setattr(local_models, "load_local_model", lambda *a, **k: type(
        "LM", (), {"model": None, "tokenizer": None, "name": "x"})())
    monkeypatch.setattr("superpose.explainer.simulators.make_simulator", lambda *a, **k: None)
    monkeypatch.setattr("superpose.activations.steering.Steerer", lambda *a, **k: None)
    monkeypatch.setattr("superpose.activations.formats.RecordStore", lambda *a, **k: type(
        "Store", (), {"meta": {}, "model": "x"})())
    expl = tmp_path / "e.jsonl"
    expl.write_text("{}\n")
    assert main(["compare", "--results", str(tmp_path), "--explanations", str(expl),
                 "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = _one_line(capsys)
    assert "1 of 2 score(s) ended in error" in err and "simulator broke" in err
