"""Extension points: a new solver back-end or executor is one new file, usable from the CLI at once."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from superpose import execution
from superpose.cli import main
from superpose.mining import clique
from superpose.mining.clique.solve import solve_mekc
from superpose.mining.store import read_bulk
from tests.mining_helpers import make_corpus, make_model

TOY_SOLVER = '''
"""A toy back-end for the registry test: the first k words, proven by nothing (status "toy")."""
import math

import numpy as np

from superpose.mining.clique.base import Solution

CALLS = []


class FirstK:
    name = "toy-first-k"

    def solve(self, weights, k, *, formulation, time_limit, warm_start, seed):
        CALLS.append(k)
        return Solution(np.arange(k), "toy", math.nan, self.name)


SOLVER = FirstK()
'''

TOY_EXECUTOR = '''
"""A toy executor for the registry test: serial, but counts its tasks."""
TASKS = []


class Counting:
    name = "toy-counting"

    def map_unordered(self, job, setup, tasks):
        state = setup()
        for task in tasks:
            TASKS.append(task)
            yield job(state, task)


def make(config):
    return Counting()
'''


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """Drop one file into each package's search path, as a user adding a back-end would."""
    (tmp_path / "solvers").mkdir()
    (tmp_path / "solvers" / "toy_first_k.py").write_text(textwrap.dedent(TOY_SOLVER))
    (tmp_path / "executors").mkdir()
    (tmp_path / "executors" / "toy_counting.py").write_text(textwrap.dedent(TOY_EXECUTOR))
    monkeypatch.setattr(clique, "__path__", [*clique.__path__, str(tmp_path / "solvers")])
    monkeypatch.setattr(execution, "__path__", [*execution.__path__, str(tmp_path / "executors")])
    clique.get_solver.cache_clear()
    yield tmp_path
    clique.get_solver.cache_clear()


def test_a_new_solver_file_is_a_back_end(plugins):
    assert "toy-first-k" in clique.solver_names()
    w = np.ones((6, 6))
    result = solve_mekc(w, 3, backend="toy-first-k")
    assert result.indices == (0, 1, 2) and result.status == "toy" and result.backend == "toy-first-k"


def test_new_files_are_usable_from_the_cli(plugins, tmp_path):
    model, corpus = make_model(tmp_path), make_corpus(tmp_path)
    code = main(["mine", "--corpus", str(corpus), "--out", str(tmp_path / "out"), "--model", str(model),
                 "--layers", "0", "--neurons", "0-1", "--tau", "40", "--kappa-l", "3", "--kappa-u", "6", "--k", "3",
                 "--solver", "toy-first-k", "--executor", "toy-counting", "--no-progress"])
    assert code == 0
    from superpose.execution import toy_counting
    from superpose.mining.clique import toy_first_k

    assert len(toy_counting.TASKS) == 4 and toy_first_k.CALLS
    topics = read_bulk(next((tmp_path / "out").rglob("topics.csv.gz")))
    assert topics and {t["status"] for t in topics} == {"toy"}


TOY_FAMILY = '''
"""A toy family for the registry test: LLaMA's layout under a model type of its own."""
import dataclasses

from superpose.models.adapters.llama import ADAPTER as LLAMA

ADAPTER = dataclasses.replace(LLAMA, family="toy-family", model_types=("toyllama",))
'''


def test_a_new_family_file_is_a_model_family(tmp_path, monkeypatch):
    import superpose
    from superpose.models import adapters
    from tests.model_helpers import build

    (tmp_path / "toy_family.py").write_text(textwrap.dedent(TOY_FAMILY))
    monkeypatch.setattr(adapters, "__path__", [*adapters.__path__, str(tmp_path)])
    adapters.registry.cache_clear()
    try:
        model = build("llama")
        reference = superpose.neuron_logits(superpose.load_model(model), "hi-i", 0, [0, 1])
        model.config.model_type = "toyllama"
        lm = superpose.load_model(model)
        assert lm.adapter.family == "toy-family"
        assert np.array_equal(superpose.neuron_logits(lm, "hi-i", 0, [0, 1]), reference)
    finally:
        adapters.registry.cache_clear()


# One toy extension of every other kind, each one file dropped into its package's search path,
# and the check that the library finds and uses it (solvers, executors and families: above).
TOY_FILES = {
    "superpose.units.formats": ("toy_format", '''
from superpose.units.formats.base import SaeFormat

FORMAT = SaeFormat("toy-format", detect=lambda path: path.suffix == ".toy", load=lambda path, hook: "toy sae")
'''),
    "superpose.explainer.clients": ("toy_client", '''
from superpose.core.registry import Kind
from superpose.explainer.clients.base import ChatClient


class Echo(ChatClient):
    name = "toy-client"

    def _complete(self, request):
        return "echo: " + request["messages"][-1]["content"]


CLIENT = Kind("toy-client", "echoes the prompt", lambda backend, cache: Echo(cache))
'''),
    "superpose.explainer.simulators": ("toy_simulator", '''
import numpy as np

from superpose.core.registry import Kind


class Ones:
    name, method = "toy-simulator", "ones"

    def simulate(self, explanation, token_lists):
        return [np.ones(len(tokens)) for tokens in token_lists]


SIMULATOR = Kind("toy-simulator", "predicts 1 everywhere", lambda ctx: Ones())
'''),
    "superpose.explainer.scorers": ("toy_scorer", '''
from superpose.explainer.scoring import Score


class Words:
    name, side = "toy_words", "input"

    def score(self, evidence):
        return Score(float(len(evidence.explanation.split())))


SCORER = Words
'''),
    "superpose.report.sections": ("toy_section", '''
from superpose.report.sections import Section

SECTION = Section("toy-section", "Toy", "return '';")
'''),
    "superpose.corpus.builtin": ("toy_text", '''
from superpose.corpus.sources import Source

SOURCE = lambda: Source("toy-text", "builtin", "", None, None, lambda path: iter(["one doc", "two doc"]))
'''),
    "superpose.cli": ("toy_hello", '''
from dataclasses import dataclass

from superpose.cli.args import Command


@dataclass
class HelloArgs:
    """Say hello (a toy command for the registry test)."""


COMMANDS = [Command(("toy-hello",), HelloArgs, lambda args: print("hello from a toy command"))]
'''),
}


def _uses_toy(package: str, capsys) -> None:
    """Ask the library for the toy extension of ``package`` the way its users do."""
    from pathlib import Path

    from superpose.corpus.sources import iter_documents
    from superpose.explainer.clients import Backend, make_client
    from superpose.explainer.scorers import Evidence, get_scorer
    from superpose.explainer.simulators import SimulatorContext, make_simulator
    from superpose.report.sections import sections
    from superpose.units import formats

    if package == "superpose.units.formats":
        formats.registry.cache_clear()
        try:
            assert formats.detect(Path("x.toy")).load(Path("x.toy"), None) == "toy sae"
        finally:
            formats.registry.cache_clear()
    elif package == "superpose.explainer.clients":
        client = make_client(Backend(kind="toy-client"))
        assert client.complete([{"role": "user", "content": "hi"}]) == "echo: hi"
    elif package == "superpose.explainer.simulators":
        simulator = make_simulator("toy-simulator", SimulatorContext(Backend()))
        assert simulator.simulate("x", [["a", "b"]])[0].tolist() == [1.0, 1.0]
    elif package == "superpose.explainer.scorers":
        assert get_scorer("toy_words").score(Evidence("three word explanation")).value == 3.0
    elif package == "superpose.report.sections":
        assert sections()[-1].id == "toy-section"
    elif package == "superpose.corpus.builtin":
        assert list(iter_documents("toy-text")) == ["one doc", "two doc"]
    else:
        assert main(["toy-hello"]) == 0
        assert capsys.readouterr().out == "hello from a toy command\n"


@pytest.mark.parametrize("package", sorted(TOY_FILES))
def test_a_new_file_is_an_extension_of_every_kind(package, tmp_path, monkeypatch, capsys):
    import importlib

    module, text = TOY_FILES[package]
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(text))
    found = importlib.import_module(package)
    monkeypatch.setattr(found, "__path__", [*found.__path__, str(tmp_path)])
    _uses_toy(package, capsys)
