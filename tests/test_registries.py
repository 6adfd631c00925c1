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
