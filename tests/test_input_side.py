"""Input-side topics on hand-made records: a neuron that fires on fruit words gets a fruit topic
from the same miner as the output side; the overlap measure against its output topics and chance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from superpose.activations.top_words import WordActivation
from superpose.cli import main
from superpose.core.errors import SuperposeError
from superpose.input_side import input_pools, mine_input_side, side_overlap
from superpose.mining.store import read_bulk, read_unit
from tests.mining_helpers import CLUSTERS, make_corpus
from tests.records_helpers import write_records

MINING = ["--kappa-l", "3", "--kappa-u", "6", "--k", "3", "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Neuron 0 fires on fruit words, neuron 1 on sea words (negatively on fruit), neuron 2 never."""
    folder = tmp_path_factory.mktemp("input-side")
    words = [w for group in CLUSTERS.values() for w in group.split()]
    text = {i: f" {w}" for i, w in enumerate(words)}
    rng = np.random.default_rng(0)
    sequences = np.stack([rng.permutation(len(words))[:12] for _ in range(20)])
    fruit = {i for i, w in enumerate(words) if w in CLUSTERS["fruit"].split()}
    sea = {i for i, w in enumerate(words) if w in CLUSTERS["sea"].split()}

    def acts(seq, hot, cold=frozenset()):
        return [3.0 if t in hot else -2.0 if t in cold else 0.1 for t in sequences[seq]]

    top = {0: [(s, acts(s, fruit)) for s in range(20)], 1: [(s, acts(s, sea, fruit)) for s in range(20)],
           2: [(s, [0.0] * 12) for s in range(20)]}
    records = write_records(folder / "rec", text, sequences, top, n_neurons=3)
    return records, make_corpus(folder)


def test_fruit_neuron_gets_a_fruit_topic(inputs, tmp_path):
    records, corpus = inputs
    assert main(["input-topics", "--records", str(records), "--corpus", str(corpus), "--out", str(tmp_path),
                 "--pool-size", "12", *MINING]) == 0
    run = tmp_path / "hand-made" / "input"
    fruit, sea = set(CLUSTERS["fruit"].split()), set(CLUSTERS["sea"].split())
    assert set(read_unit(run, 0, 0, "pos")["pool"][:10]) == fruit
    assert len(read_unit(run, 0, 0, "pos")["pool"]) == 12
    assert set(read_unit(run, 0, 0, "pos")["topics"][0]["words"]) <= fruit
    assert set(read_unit(run, 0, 1, "pos")["topics"][0]["words"]) <= sea
    assert set(read_unit(run, 0, 1, "neg")["pool"]) == fruit  # its negative activations
    assert read_unit(run, 0, 1, "neg")["topics"]
    assert read_unit(run, 0, 0, "neg")["pool"] == []
    assert len(read_bulk(run / "pools.csv.gz")) == 6
    request = json.loads((run / "run.json").read_text())["request"]
    assert request["mode"] == "input" and request["pool_size"] == 12
    assert main(["summary", "--run", str(run)]) == 0
    assert main(["report", "--results", str(run), "--out", str(tmp_path / "report")]) == 0
    assert main(["input-topics", "--records", str(records), "--corpus", str(corpus), "--out", str(tmp_path),
                 "--pool-size", "5", *MINING]) == 2  # other parameters: refused


def test_pool_size_and_vocabulary():
    words = [WordActivation("apple", 5, 1, -1, 3), WordActivation("zzz", 4, 1, 0, 1),
             WordActivation("pear", 3, 1, 0.5, 2), WordActivation("plum", 1, 0, -3, 1)]
    pools = input_pools(words, {"apple": 0, "pear": 1, "plum": 2}, 2)
    assert pools["pos"].tolist() == [0, 1] and pools["neg"].tolist() == [2, 0]


def test_overlap_against_chance():
    a, b, c = (frozenset(CLUSTERS[k].split()[:3]) for k in ("fruit", "sea", "space"))
    inp = {(0, 0): [a], (0, 1): [b], (0, 2): [c], (0, 3): []}
    out = {(0, 0): [a], (0, 1): [b], (0, 2): [a], (0, 3): [c]}
    (row,) = side_overlap(inp, out, min_shared=3, shuffles=50)
    assert row["neurons_both"] == 3 and row["shared"] == pytest.approx(2 / 3)
    assert row["chance_hi"] <= 2 / 3 and row["chance_mean"] < row["shared"]


def test_bad_input(inputs, tmp_path):
    records, corpus = inputs
    with pytest.raises(SuperposeError, match="no records for layer"):
        mine_input_side(records, corpus, tmp_path, layers="3", progress=False)
    with pytest.raises(SuperposeError, match="at least 1"):
        mine_input_side(records, corpus, tmp_path, pool_size=0, progress=False)
    assert not (tmp_path / "hand-made").exists()


def test_neuron_page_sections_show_top_words_and_input_topics(inputs, tmp_path):
    from superpose.activations.top_words import write_top_words
    from superpose.config import MiningConfig

    records, corpus = inputs
    run = mine_input_side(records, corpus, tmp_path, pool_size=12, progress=False,
                          mining=MiningConfig(kappa_l=3, kappa_u=6, k=3))
    write_top_words(records, top=5)
    report = tmp_path / "report"
    assert main(["report", "--results", str(run), "--out", str(report), "--records", str(records),
                 "--input", f"input-topics={run}"]) == 0
    layer = (report / "data" / "layer_00.js").read_text()
    assert '"top_words"' in layer and '"input_topics"' in layer
    assert "banana" in layer and "Input-side topics" in (report / "assets" / "sections.js").read_text()
