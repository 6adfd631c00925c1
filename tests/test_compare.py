"""Topics and LLM explanations scored alike: table contents, missing inputs, mismatches."""

from __future__ import annotations

import csv
import gzip
import json

import numpy as np
import pytest

from superpose.cli import main
from superpose.compare import compare, polarity_text, topic_text
from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.llm.evaluate import score_explanation
from superpose.llm.formats import RecordStore
from superpose.mining.store import read_unit
from superpose.pipeline import mine
from tests.mining_helpers import PARAMS, make_corpus, make_model


class FakeSimulator:
    """Deterministic predictions that depend on the explanation text and the token position."""

    name = "fake"
    method = "test"

    def simulate(self, explanation, sequences):
        seed = sum(map(ord, explanation))
        return [np.array([(seed * (i + 3)) % 11 for i in range(len(s))], dtype=float) for s in sequences]


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    model, corpus = make_model(folder), make_corpus(folder)
    run = mine(str(model), str(corpus), str(folder / "mined"), layers="0", neurons="0-5",
               projection=ProjectionConfig(tau=40), mining=MiningConfig(**PARAMS),
               execution=ExecutionConfig(workers=1), progress=False)
    assert main(["activations", "--model", str(model), "--corpus-source", str(folder / "clusters.txt"),
                 "--layers", "0", "--out", str(folder / "records"), "--seq-len", "16", "--max-tokens", "3000",
                 "--top-k", "8", "--random", "8", "--per-quantile", "0", "--no-progress"]) == 0
    return folder, run, folder / "records" / "tiny-llama"


def _explanations(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_topic_texts():
    assert topic_text(["apple", "pear"]) == "words such as apple, pear"
    topics = [{"words": ["a", "b"]}, {"words": ["c", "d"]}, {"words": ["e", "f"]}]
    assert polarity_text(topics, 2) == "words such as a, b; or words such as c, d"


def test_compare_table(setting, tmp_path):
    folder, run, records = setting
    store = RecordStore(records)
    alive = [n for n in range(6) if store.neuron(0, n).stats["max"] > 0]
    dead = [n for n in range(6) if n not in alive]
    assert alive and dead, "the tiny model should have neurons of both kinds on this text"
    a, d = alive[0], dead[0]
    rows = [{"layer": 0, "neuron": n, "status": "ok", "explanation": f"fruit words {n}", "records_model": "tiny-llama"}
            for n in (a, d, 7)]
    rows.append({"layer": 2, "neuron": 0, "status": "ok", "explanation": "weather", "records_model": "tiny-llama"})
    out = compare(run, _explanations(tmp_path / "e.jsonl", rows), records, tmp_path / "out",
                  simulator=FakeSimulator(), max_topics=2, embedding=False, progress=False)
    with open(out / "compare.csv") as fh:
        table = {(int(r["layer"]), int(r["neuron"])): r for r in csv.DictReader(fh)}
    assert set(table) == {(0, a), (0, d), (0, 7), (2, 0)}
    assert table[(0, 7)]["missing"].startswith("not in the mining results")
    assert table[(2, 0)]["missing"] == "no activation records"
    assert table[(0, d)]["missing"] == "never activates on the records" and table[(0, d)]["llm_score"] == ""
    direct = score_explanation(f"fruit words {a}", store.neuron(0, a), FakeSimulator())
    row = table[(0, a)]
    assert float(row["llm_score"]) == pytest.approx(direct.correlation.value, rel=1e-5)
    for polarity in ("pos", "neg"):
        topics = read_unit(run, 0, a, polarity)["topics"]
        assert int(row[f"topics_{polarity}"]) == len(topics)
        if topics:
            expected = score_explanation(polarity_text(topics, 2), store.neuron(0, a), FakeSimulator())
            assert float(row[f"topic_score_{polarity}"]) == pytest.approx(expected.correlation.value, rel=1e-5)
    scores = [float(row[f"topic_score_{p}"]) for p in ("pos", "neg") if row[f"topic_score_{p}"]]
    if scores:
        assert float(row["topic_score"]) == pytest.approx(max(scores))
        assert row["topics_beat_llm"] == str(max(scores) > float(row["llm_score"]))
    with open(out / "layers.csv") as fh:
        layers = {r["layer"]: r for r in csv.DictReader(fh)}
    assert layers["all"]["neurons"] == "4" and "0" in layers
    assert "lack an input" in (out / "summary.md").read_text()
    meta = json.loads((out / "compare.json").read_text())
    assert meta["max_topics"] == 2 and meta["score_records"] == 0 and meta["neurons"] == 4
    assert meta["simulator"] == FakeSimulator().name and "torch" in meta["versions"]
    with gzip.open(out / "compare.csv.gz", "rt", encoding="utf-8") as fh:
        assert fh.read() == (out / "compare.csv").read_text()
    # rerun: every score is reused from scores.jsonl
    before = (out / "scores.jsonl").read_text()
    compare(run, tmp_path / "e.jsonl", records, out, simulator=FakeSimulator(), max_topics=2, embedding=False,
            progress=False)
    assert (out / "scores.jsonl").read_text() == before


def test_mismatched_models_are_refused(setting, tmp_path):
    _folder, run, records = setting
    rows = [{"layer": 0, "neuron": 0, "status": "ok", "explanation": "x", "records_model": "gpt2"}]
    with pytest.raises(SuperposeError, match="explains neurons of 'gpt2'"):
        compare(run, _explanations(tmp_path / "e.jsonl", rows), records, tmp_path / "out",
                simulator=FakeSimulator(), embedding=False, progress=False)
    meta = json.loads((records / "meta.json").read_text())
    other = tmp_path / "other"
    other.mkdir()
    for name in ("sequences.npy", "tokens.json", "layer_00.npz"):
        (other / name).write_bytes((records / name).read_bytes())
    (other / "meta.json").write_text(json.dumps(dict(meta, model="other-model")))
    with pytest.raises(SuperposeError, match="records are of 'other-model'"):
        compare(run, tmp_path / "e.jsonl", other, tmp_path / "out2", simulator=FakeSimulator(), embedding=False,
                progress=False)
