"""The public API: one call gives a unit's topics as words, equal to what `mine` writes for it."""

from __future__ import annotations

import pytest

import superpose
from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.mining.store import read_unit
from tests.mining_helpers import PARAMS, make_corpus, make_model


@pytest.fixture(scope="module")
def mined(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api")
    model, corpus = make_model(folder), make_corpus(folder)
    run = superpose.mine(str(model), str(corpus), str(folder / "out"), layers="1", neurons="0-5",
                         projection=ProjectionConfig(tau=40), mining=MiningConfig(**PARAMS),
                         execution=ExecutionConfig(executor="serial"), progress=False)
    return model, corpus, run


def test_mine_unit_equals_the_run_files(mined):
    model, corpus, run = mined
    lm = superpose.load_model(str(model))
    found = 0
    for unit in range(6):
        for polarity in ("pos", "neg"):
            got = superpose.mine_unit(lm, corpus, 1, unit, polarity=polarity, tau=40, **PARAMS)
            want = read_unit(run, 1, unit, polarity)
            assert got.pool == want["pool"] and got.isets == want["isets"]
            assert [t.words for t in got.topics] == [t["words"] for t in want["topics"]]
            assert [t.score for t in got.topics] == [t["score"] for t in want["topics"]]
            assert all(isinstance(w, str) for t in got.topics for w in t.words)
            found += len(got.topics)
    assert found > 0


def test_bad_arguments_fail_before_the_model_loads(mined):
    _, corpus, _ = mined
    with pytest.raises(SuperposeError, match="unknown mining parameter\\(s\\) kapa_l"):
        superpose.mine_unit("no-such-model", corpus, 0, 0, kapa_l=3)
    with pytest.raises(SuperposeError, match="--k \\(30\\) is above --kappa-u"):
        superpose.mine_unit("no-such-model", corpus, 0, 0, k=30)
    with pytest.raises(SuperposeError, match="unknown polarity"):
        superpose.mine_unit("no-such-model", corpus, 0, 0, polarity="up")
