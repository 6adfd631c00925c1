"""End-to-end mining on a tiny model: files, resume, refusal of changed parameters, baseline."""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from superpose.cli import main
from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.mining import store as export_module
from superpose.mining.pool import PoolResult, Topic, mine_pool
from superpose.mining.store import read_bulk, read_unit, write_unit
from superpose.pipeline import mine
from tests.mining_helpers import PARAMS, make_corpus, make_model


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mine")
    return make_model(folder), make_corpus(folder)


def _mine(inputs, out, *, tau=40, workers=1, **kwargs):
    model, corpus = inputs
    options = dict(layers="0-2", projection=ProjectionConfig(tau=tau), mining=MiningConfig(**PARAMS),
                   execution=ExecutionConfig(workers=workers), progress=False)
    options.update(kwargs)
    return mine(str(model), str(corpus), str(out), **options)


def _outputs(folder: Path) -> dict[str, bytes]:
    """Every per-unit file and bulk table (not run.json or projections: they hold timestamps)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.name.endswith(("_pool.txt", "_isets.csv", "_topics.csv", ".csv.gz"))}


def test_mine_writes_the_paper_layout_and_bulk_tables(inputs, tmp_path):
    folder = _mine(inputs, tmp_path / "out")
    assert folder == tmp_path / "out" / "tiny-llama" / "hi-c"
    pools = read_bulk(folder / "pools.csv.gz")
    assert len(pools) == 3 * 48 * 2  # layers x MLP neurons x polarities
    topics = read_bulk(folder / "topics.csv.gz")
    assert topics, "clustered corpus and random pools must give topics"
    assert sum(int(p["topics"]) for p in pools) == len(topics)
    first = topics[0]
    unit = read_unit(folder, int(first["layer"]), int(first["neuron"]), first["polarity"])
    assert unit["topics"][0]["words"] == first["words"].split()
    assert all(len(t["words"].split()) == PARAMS["k"] and t["status"] == "optimal" for t in topics)
    # a topic of k words from one cluster scores high; its words share windows
    assert max(float(t["score"]) for t in topics) > 0.3
    assert (folder / "run.json").is_file() and (folder / "layer_00.npz").is_file()


def test_empty_pools_give_empty_files(inputs, tmp_path):
    folder = _mine(inputs, tmp_path / "out", tau=2, layers="0", neurons="0-3")
    for neuron in range(4):
        for polarity in ("pos", "neg"):
            for suffix in ("isets.csv", "topics.csv"):
                assert (folder / f"0_{neuron}_{polarity}_{suffix}").read_text() == ""
    assert [int(p["pool_size"]) <= 2 for p in read_bulk(folder / "pools.csv.gz")] == [True] * 8


def test_killed_run_resumes_to_identical_files(inputs, tmp_path, monkeypatch):
    reference = _outputs(_mine(inputs, tmp_path / "clean", layers="1"))
    calls = {"n": 0}
    real_write = export_module.write_unit

    def dying_write(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 30:
            raise KeyboardInterrupt
        return real_write(*args, **kwargs)

    monkeypatch.setattr(export_module, "write_unit", dying_write)
    with pytest.raises(KeyboardInterrupt):
        _mine(inputs, tmp_path / "killed", layers="1")
    monkeypatch.setattr(export_module, "write_unit", real_write)
    folder = tmp_path / "killed" / "tiny-llama" / "hi-c"
    assert len(list(folder.glob("*_topics.csv"))) == 29
    _mine(inputs, tmp_path / "killed", layers="1")
    assert _outputs(folder) == reference


def test_parallel_workers_give_the_same_files(inputs, tmp_path):
    serial = _outputs(_mine(inputs, tmp_path / "serial", layers="2", neurons="0-11"))
    parallel = _outputs(_mine(inputs, tmp_path / "parallel", layers="2", neurons="0-11", workers=2))
    assert parallel == serial


def test_projection_beside_the_mining_runs_on_the_threads_the_workers_leave(inputs, tmp_path, monkeypatch):
    import threading

    import torch

    import superpose.projection.run as projection_run
    from superpose.pipeline import projection_threads

    seen, real = [], projection_run.project_layer

    def recording(*args, **kwargs):
        seen.append((threading.current_thread().name, torch.get_num_threads()))
        return real(*args, **kwargs)

    before = torch.get_num_threads()
    monkeypatch.setattr(projection_run, "project_layer", recording)
    torch.set_num_threads(3)
    try:
        assert projection_threads(ExecutionConfig(workers=2)) == (1, True)
        assert projection_threads(ExecutionConfig(executor="serial")) == (2, True)
        _mine(inputs, tmp_path / "out", layers="0-1", neurons="0-3", workers=2)
        # the share the 2 workers leave of 3 threads, for every layer, even while the mining waits
        assert seen == [("superpose-projection", 1)] * 2
        assert torch.get_num_threads() == 3  # put back
    finally:
        torch.set_num_threads(before)


def test_projection_runs_first_on_all_threads_when_the_workers_take_them_all():
    import torch

    from superpose.pipeline import projection_threads

    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        # plain stand-ins rather than validated ExecutionConfigs: this machine may have fewer cores
        assert projection_threads(SimpleNamespace(executor="local", workers=3, address=None)) == (3, False)
        assert projection_threads(SimpleNamespace(executor="local", workers=1, address=None)) == (2, True)
        assert projection_threads(SimpleNamespace(executor="ray", workers=3, address=("h", 1))) == (3, True)
        torch.set_num_threads(2)
        # --workers auto on 2 cores: projection then mining (a 1-thread projection beside the
        # workers was the critical path); on a GPU the projection needs no core of its own
        assert projection_threads(SimpleNamespace(executor="local", workers=2, address=None)) == (2, False)
        assert projection_threads(SimpleNamespace(executor="local", workers=2, address=None), gpu=True) == (1, True)
    finally:
        torch.set_num_threads(before)


def test_projection_error_stops_the_run(inputs, tmp_path, monkeypatch):
    import threading

    import superpose.projection.run as projection_run

    real = projection_run.project_layer

    def failing(lm, mode, layer, *args, **kwargs):
        if layer == 0:  # projected last: layers 2 and 1 are mined meanwhile
            raise SuperposeError("projection failed here")
        return real(lm, mode, layer, *args, **kwargs)

    monkeypatch.setattr(projection_run, "project_layer", failing)
    with pytest.raises(SuperposeError, match="projection failed here"):
        _mine(inputs, tmp_path / "out", neurons="0-3", layout="shards")
    assert not [t for t in threading.enumerate() if t.name == "superpose-projection"]
    shards = tmp_path / "out" / "tiny-llama" / "hi-c" / "shards"
    # layers finished before the error keep their shards (how many depends on timing); never layer 0's
    assert {p.name for p in shards.glob("*_pools.parquet")} <= {"layer_01_pools.parquet", "layer_02_pools.parquet"}


def test_changed_parameters_are_refused_unless_overwrite(inputs, tmp_path):
    _mine(inputs, tmp_path / "out", layers="0", neurons="0-1")
    with pytest.raises(SuperposeError, match="different parameters.*tau"):
        _mine(inputs, tmp_path / "out", layers="0", neurons="0-1", tau=30)
    folder = _mine(inputs, tmp_path / "out", layers="0", neurons="0-1", tau=30, overwrite=True)
    assert len(read_bulk(folder / "pools.csv.gz")) == 4


def test_csv_round_trip(tmp_path):
    vocab = ["alpha", "beta", "gamma", "delta", 'quo"te', "com,ma"]
    result = PoolResult(isets=[[0, 1, 2, 4], [3, 5]],
                        topics=[Topic((2, 0, 4), 0.25, "optimal", 0.0, 1),
                                Topic((3, 5, 1), -0.125, "time_limit", math.nan, 3)])
    write_unit(tmp_path, 4, 7, "neg", ["gamma", "alpha"], result, vocab)
    unit = read_unit(tmp_path, 4, 7, "neg")
    assert unit["pool"] == ["gamma", "alpha"]
    assert unit["isets"] == [["alpha", "beta", "gamma", 'quo"te'], ["delta", "com,ma"]]
    assert unit["topics"][0] == {"rank": 0, "score": 0.25, "status": "optimal", "gap": 0.0,
                                 "never_cooccur": 1, "words": ["alpha", "gamma", 'quo"te']}
    assert unit["topics"][1]["status"] == "time_limit" and math.isnan(unit["topics"][1]["gap"])


def test_mine_pool_is_pure_and_scores_are_mean_npmi(inputs):
    from superpose.corpus import coherence, load_corpus

    counts = load_corpus(inputs[1])
    pool = np.array([counts.index[w] for w in "apple banana cherry grape boat coral crab fish comet".split()])
    params = MiningConfig(**PARAMS)
    first, second = mine_pool(pool, counts, params), mine_pool(pool, counts, params)
    assert first == second and first.topics
    for topic in first.topics:
        words = [counts.vocab[w] for w in topic.words]
        assert topic.score == pytest.approx(coherence(counts, words).npmi, abs=1e-12)


def test_cli_mine_baseline_summary(inputs, tmp_path, capsys):
    model, corpus = inputs
    args = ["--corpus", str(corpus), "--out", str(tmp_path / "o"), "--model", str(model), "--layers", "0",
            "--neurons", "0-7", "--tau", "40", "--kappa-l", "3", "--kappa-u", "6", "--k", "3", "--workers", "1",
            "--no-progress"]
    assert main(["mine", *args]) == 0
    run = tmp_path / "o" / "tiny-llama" / "hi-c"
    assert main(["baseline", "--run", str(run), "--workers", "1", "--no-progress"]) == 0
    random_pools = read_bulk(run / "random" / "pools.csv.gz")
    mined_pools = read_bulk(run / "pools.csv.gz")
    assert [p["pool_size"] for p in random_pools] == [p["pool_size"] for p in mined_pools]
    assert main(["summary", "--run", str(run)]) == 0
    out = capsys.readouterr().out
    assert "| mined | all | both |" in out and "| random | all | both |" in out
    with gzip.open(run / "topics.csv.gz", "rt") as fh:
        assert fh.readline().startswith("model,mode,layer,neuron,polarity,rank,words,score,status")
    assert main(["mine", *args, "--tau", "30"]) == 2
    assert "different parameters" in capsys.readouterr().err


def test_baseline_on_every_nth_neuron(inputs, tmp_path):
    from superpose.mining.baseline import baseline

    folder = _mine(inputs, tmp_path / "out", layers="0", neurons="0-11")
    out = baseline(str(folder), neurons="0-11/4", execution=ExecutionConfig(workers=1), progress=False)
    assert sorted({int(r["neuron"]) for r in read_bulk(out / "pools.csv.gz")}) == [0, 4, 8]
