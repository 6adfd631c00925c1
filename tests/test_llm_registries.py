"""A client and a simulator registered inside the test, used through the CLI and the API."""

import numpy as np

from superpose.activations.formats import read_jsonl
from superpose.cli import main
from superpose.explainer import clients, simulators
from superpose.explainer.clients import Backend, ChatClient, make_client
from superpose.explainer.simulators import SimulatorContext, make_simulator
from tests.llm_helpers import KeywordSimulator, make_records
from tests.registry_helpers import add_extension


class ToyClient(ChatClient):
    """Names the strongest token shown in the prompt as the explanation."""

    name = "toy-client"

    def _complete(self, request):
        user = request["messages"][-1]["content"]
        first = user.split("strongest first: ", 1)[1].split(",")[0].split("\n")[0]
        return f"the token {first.strip()}"


def test_toy_client_and_simulator_through_cli_and_api(tmp_path, monkeypatch):
    add_extension(monkeypatch, clients.CLIENTS, "toy", clients.ClientKind(
        "toy", "test client", lambda backend, cache: ToyClient(cache)))
    add_extension(monkeypatch, simulators.SIMULATORS, "keyword", simulators.SimulatorKind(
        "keyword", "test simulator", lambda ctx: KeywordSimulator()))
    assert "toy" in clients.client_kinds() and "openai" in clients.client_kinds()
    assert {"all-at-once", "prompt-logprobs", "chat-numbers", "keyword"} <= \
        set(simulators.simulator_kinds())
    records = make_records(tmp_path / "rec")
    expl = tmp_path / "e.jsonl"
    assert main(["explain", "--records", str(records), "--layer", "0", "--neurons", "0-2",
                 "--backend", "toy", "--out", str(expl), "--no-progress"]) == 0
    rows = {r["neuron"]: r for r in read_jsonl(expl)}
    assert rows[0]["explanation"] == "the token alpha" and rows[1]["explanation"] == \
        "the token beta"
    assert rows[2]["status"] == "dead" and rows[0]["explainer"]["model"] == "toy-client"
    scores = tmp_path / "s.jsonl"
    assert main(["score", "--records", str(records), "--explanations", str(expl),
                 "--backend", "toy", "--simulator", "keyword", "--out", str(scores),
                 "--no-embedding", "--no-progress"]) == 0
    got = {r["neuron"]: r for r in read_jsonl(scores)}
    assert got[0]["scores"]["correlation"] > 0.99 and got[0]["scores"]["simulator"] == "keyword"
    assert set(got) == {0, 1}  # the dead neuron has no explanation to score
    # the public API reaches the same objects
    assert isinstance(make_client(Backend(kind="toy")), ToyClient)
    sim = make_simulator("keyword", SimulatorContext(Backend(kind="toy")))
    assert np.array_equal(sim.simulate("alpha", [[" alpha", " beta"]])[0], [10.0, 0.0])


def test_unknown_kinds_are_one_line_errors(tmp_path, capsys):
    records = make_records(tmp_path / "rec")
    assert main(["explain", "--records", str(records), "--layer", "0", "--neurons", "0",
                 "--backend", "nope", "--no-progress"]) == 2
    assert "unknown back-end 'nope'" in capsys.readouterr().err
    assert not (records / "explanations.jsonl").exists()
    assert main(["score", "--records", str(records), "--explanation", "x", "--layer", "0",
                 "--neurons", "0", "--simulator", "nope", "--no-progress"]) == 2
    assert "unknown simulator 'nope'" in capsys.readouterr().err
