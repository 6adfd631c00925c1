"""The 2x2 comparison: table contents, shuffled controls, missing inputs, mismatches, topic tables."""

from __future__ import annotations

import csv
import gzip
import json
import lzma
import math

import numpy as np
import pytest

from superpose.activations.formats import RecordStore
from superpose.activations.steering import Steerer, SteeringParams, WordTokens
from superpose.compare import COLUMNS, CompareParams, compare, polarity_text, summarize, topic_text
from superpose.compare.stats import bootstrap_mean, layer_aggregates
from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.explainer.scorers import score_explanation
from superpose.mining.store import read_unit
from superpose.models import load_model
from superpose.pipeline import mine
from tests.mining_helpers import PARAMS, make_corpus, make_model
from tests.test_steering import WordTokenizer


class FakeSimulator:
    """Deterministic predictions that depend on the explanation text and the token position."""

    name = "fake"
    method = "test"

    def simulate(self, explanation, sequences):
        seed = sum(map(ord, explanation))
        return [np.array([(seed * (i + 3)) % 11 for i in range(len(s))], dtype=float) for s in sequences]


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    from superpose.cli import main

    folder = tmp_path_factory.mktemp("compare")
    model, corpus = make_model(folder), make_corpus(folder)
    run = mine(str(model), str(corpus), str(folder / "mined"), layers="0", neurons="0-7",
               projection=ProjectionConfig(tau=40), mining=MiningConfig(**PARAMS),
               execution=ExecutionConfig(workers=1), progress=False)
    assert main(["activations", "--model", str(model), "--corpus-source", str(folder / "clusters.txt"),
                 "--layers", "0", "--out", str(folder / "records"), "--seq-len", "16", "--max-tokens", "3000",
                 "--top-k", "8", "--random", "8", "--per-quantile", "0", "--no-progress"]) == 0
    steerer = Steerer(load_model(str(model)), ("apple banana", "moon"), SteeringParams(new_tokens=2))
    steerer.word_tokens = WordTokens(WordTokenizer())  # the tiny BPE has no merges to spell words with
    return folder, run, folder / "records" / "tiny-llama", steerer


def _explanations(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _read(path):
    with open(path) as fh:
        return {(int(r["layer"]), int(r["neuron"])): r for r in csv.DictReader(fh)}


def test_topic_texts():
    assert topic_text(["apple", "pear"]) == "words such as apple, pear"
    topics = [{"words": ["a", "b"]}, {"words": ["c", "d"]}, {"words": ["e", "f"]}]
    assert polarity_text(topics, 2) == "words such as a, b; or words such as c, d"


def test_compare_table(setting, tmp_path):
    folder, run, records, steerer = setting
    store = RecordStore(records)
    alive = [n for n in range(8) if store.neuron(0, n).stats["max"] > 0]
    with_topics = [n for n in alive if read_unit(run, 0, n, "pos")["topics"]]
    dead = [n for n in range(8) if n not in alive]
    assert len(with_topics) >= 3 and dead, "the tiny model should have neurons of both kinds on this text"
    chosen = with_topics[:3]
    others = [n for n in alive if n not in chosen]
    assert others, "one more live neuron is needed for the empty explanation"
    empty = others[0]
    rows = [{"layer": 0, "neuron": n, "status": "ok", "explanation": f"fruit words {n}", "records_model": "tiny-llama"}
            for n in (*chosen, dead[0])]
    rows += [{"layer": 0, "neuron": 9, "status": "ok", "explanation": "not mined", "records_model": "tiny-llama"},
             {"layer": 2, "neuron": 0, "status": "ok", "explanation": "weather", "records_model": "tiny-llama"},
             {"layer": 0, "neuron": empty, "status": "ok", "explanation": "  ", "records_model": "tiny-llama"}]
    params = CompareParams(max_topics=2, bootstrap=200)
    out = compare(run, _explanations(tmp_path / "e.jsonl", rows), records, tmp_path / "out",
                  simulator=FakeSimulator(), steerer=steerer, params=params, progress=False)
    table = _read(out / "compare.csv")
    assert list(next(iter(table.values()))) == COLUMNS
    assert table[(0, 9)]["missing"].startswith("not in the mining results")
    assert "no activation records" in table[(2, 0)]["missing"]
    assert "never activates on the records" in table[(0, dead[0])]["missing"]
    assert table[(0, dead[0])]["llm_input"] == "" and table[(0, dead[0])]["llm_output"] == ""
    assert "LLM explanation empty" in table[(0, empty)]["missing"] and table[(0, empty)]["llm_input"] == ""
    a, b = chosen[0], chosen[1]
    row = table[(0, a)]
    assert row["shuffle_partner"] == f"0/{b}"
    # input side: the same scorer as `score`, given this neuron's text and the partner's text
    direct = score_explanation(f"fruit words {a}", store.neuron(0, a), FakeSimulator())
    assert float(row["llm_input"]) == pytest.approx(direct.correlation.value, rel=1e-5)
    shuffled = score_explanation(f"fruit words {b}", store.neuron(0, a), FakeSimulator())
    assert float(row["llm_input_shuffled"]) == pytest.approx(shuffled.correlation.value, rel=1e-5)
    topics = polarity_text(read_unit(run, 0, a, "pos")["topics"], 2)
    assert row["topics_text"] == topics
    expected = score_explanation(topics, store.neuron(0, a), FakeSimulator())
    assert float(row["topics_input"]) == pytest.approx(expected.correlation.value, rel=1e-5)
    # the third source: the LLM explanation and the topics joined, scored like the others
    assert row["ensemble_text"] == f"fruit words {a}; {topics}"
    joined = score_explanation(row["ensemble_text"], store.neuron(0, a), FakeSimulator())
    assert float(row["ensemble_input"]) == pytest.approx(joined.correlation.value, rel=1e-5)
    partner_text = table[(0, b)]["ensemble_text"]
    assert partner_text and partner_text != row["ensemble_text"]
    joined_shuffled = score_explanation(partner_text, store.neuron(0, a), FakeSimulator())
    assert float(row["ensemble_input_shuffled"]) == pytest.approx(joined_shuffled.correlation.value, rel=1e-5)
    assert 0 <= float(row["ensemble_output"]) <= 1 and 0 <= float(row["ensemble_output_shuffled"]) <= 1
    assert table[(0, empty)]["ensemble_text"] == "" and table[(0, empty)]["ensemble_input"] == ""
    # output side: AUCs in [0, 1] against the other neurons' texts
    for cell in ("topics_output", "topics_output_shuffled"):
        assert 0 <= float(row[cell]) <= 1
    assert float(row["clamp_value"]) > 0 and row["promoted"]
    assert (out / "steering.jsonl").read_text().count("\n") >= 3
    layers = {r["layer"]: r for r in csv.DictReader(open(out / "layers.csv"))}
    assert layers["all"]["neurons"] == str(len(rows)) and "0" in layers
    summary = (out / "summary.md").read_text()
    assert "## The 2x2" in summary and "lack an input" in summary and "shuffled control" in summary
    assert "| ensemble minus LLM |" in summary and "Ensemble texts, input side" in summary
    assert "ensemble_input_minus_shuffled" in layers["all"]
    meta = json.loads((out / "compare.json").read_text())
    assert meta["max_topics"] == 2 and meta["steering"]["new_tokens"] == 2 and "torch" in meta["versions"]
    with gzip.open(out / "compare.csv.gz", "rt", encoding="utf-8") as fh:
        assert fh.read() == (out / "compare.csv").read_text()
    # the summary rebuilt from compare.csv alone says the same (numbers read back at 6 digits)
    layers_before = (out / "layers.csv").read_text()
    summarize(out, params)
    assert (out / "layers.csv").read_text().splitlines()[0] == layers_before.splitlines()[0]
    assert "## The 2x2" in (out / "summary.md").read_text()
    with pytest.raises(SuperposeError, match="run `superpose compare` first"):
        summarize(tmp_path / "nothing")
    # rerun: input-side scores are reused, the table is identical (steering is deterministic)
    before, text = (out / "scores.jsonl").read_text(), (out / "compare.csv").read_text()
    compare(run, tmp_path / "e.jsonl", records, out, simulator=FakeSimulator(), steerer=steerer, params=params,
            progress=False)
    assert (out / "scores.jsonl").read_text() == before and (out / "compare.csv").read_text() == text
    # the same topics read from an exported topics table give the same table
    header = "model,mode,layer,neuron,polarity,rank,words,score\n"
    lines = [f"tiny-llama,hi-c,0,{n},{p},{t['rank']},{' '.join(t['words'])},{t['score']}\n"
             for n in range(8) for p in ("pos", "neg") for t in read_unit(run, 0, n, p)["topics"]]
    mode = json.loads((run / "run.json").read_text())["request"]["mode"]
    lines = [line.replace(",hi-c,", f",{mode},") for line in lines]
    xz = tmp_path / "topics.csv.xz"
    with lzma.open(xz, "wt") as fh:
        fh.write(header + "".join(lines))
    rows2 = [r for r in rows if r["neuron"] != 9]
    out2 = compare(xz, _explanations(tmp_path / "e2.jsonl", rows2), records, tmp_path / "out2",
                   simulator=FakeSimulator(), steerer=steerer, params=params, progress=False)
    assert _read(out2 / "compare.csv")[(0, a)]["topics_output"] == row["topics_output"]


def test_mismatched_models_are_refused(setting, tmp_path):
    _folder, run, records, steerer = setting
    rows = [{"layer": 0, "neuron": 0, "status": "ok", "explanation": "x", "records_model": "gpt2"}]
    with pytest.raises(SuperposeError, match="explains neurons of 'gpt2'"):
        compare(run, _explanations(tmp_path / "e.jsonl", rows), records, tmp_path / "out",
                simulator=FakeSimulator(), steerer=steerer, progress=False)
    meta = json.loads((records / "meta.json").read_text())
    other = tmp_path / "other"
    other.mkdir()
    for name in ("sequences.npy", "tokens.json", "layer_00.npz"):
        (other / name).write_bytes((records / name).read_bytes())
    (other / "meta.json").write_text(json.dumps(dict(meta, model="other-model")))
    good = _explanations(tmp_path / "g.jsonl", [dict(rows[0], records_model="tiny-llama")])
    with pytest.raises(SuperposeError, match="records are of 'other-model'"):
        compare(run, good, other, tmp_path / "out2", simulator=FakeSimulator(), steerer=steerer, progress=False)

    class OtherSteerer:
        model_name = "gpt2"

    with pytest.raises(SuperposeError, match="steering runs 'gpt2'"):
        compare(run, good, records, tmp_path / "out3", simulator=FakeSimulator(), steerer=OtherSteerer(),
                progress=False)
    assert not (tmp_path / "out3").exists()
    with pytest.raises(SuperposeError, match="neither a mining run folder nor a topics table"):
        compare(tmp_path / "nothing.txt", good, records, tmp_path / "out4", simulator=FakeSimulator(),
                steerer=steerer, progress=False)
    with pytest.raises(SuperposeError, match="--max-topics"):
        CompareParams(max_topics=0)


def test_bootstrap_and_aggregates_by_hand():
    mean, lo, hi = bootstrap_mean([1.0, 2.0, 3.0, math.nan], 500, 0)
    assert mean == 2.0 and 1.0 <= lo <= 2.0 <= hi <= 3.0
    assert math.isnan(bootstrap_mean([], 500, 0)[0])
    nan = math.nan
    rows = [dict(layer=0, topics_input=0.5, llm_input=0.1, topics_output=0.9, llm_output=0.5,
                 topics_input_shuffled=0.1, llm_input_shuffled=0.2, topics_output_shuffled=0.4,
                 llm_output_shuffled=0.6),
            dict(layer=1, topics_input=0.3, llm_input=nan, topics_output=0.8, llm_output=0.4,
                 topics_input_shuffled=0.0, llm_input_shuffled=0.1, topics_output_shuffled=0.5,
                 llm_output_shuffled=0.5)]
    total = layer_aggregates(rows, 200, 0)[-1]
    assert total["layer"] == "all" and total["neurons"] == 2
    assert total["topics_input_minus_shuffled"] == pytest.approx(0.35)
    assert total["llm_input_minus_shuffled"] == pytest.approx(-0.1)  # the NaN row is left out
    assert total["topics_input_beats_shuffled"] == 1.0 and total["llm_output_beats_shuffled"] == 0.0
    assert total["neither_beats_shuffled_output"] == 0.0 and total["topics_beat_llm_output"] == 1.0


@pytest.mark.parametrize("flag, value, message", [
    ("--steer-gain", "0", "--steer-gain must be positive"),
    ("--steer-quantile", "2", "--steer-quantile must be in"),
    ("--max-topics", "0", "--max-topics must be at least 1"),
    ("--score-records", "-1", "--score-records must be 0"),
])
def test_cli_refuses_bad_settings_before_loading_anything(tmp_path, capsys, flag, value, message):
    from superpose.cli import main

    code = main(["compare", "--results", str(tmp_path / "run"), "--explanations", str(tmp_path / "e.jsonl"),
                 "--out", str(tmp_path / "out"), flag, value, "--no-progress"])
    assert code != 0 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_compare_takes_detection_and_fuzzing_columns(setting, tmp_path):
    from superpose.compare import scorer_columns
    from superpose.explainer.scorers.classifier import ClassifierParams, Judging
    from tests.test_llm_judges import KeywordJudge

    folder, run, records, steerer = setting
    store = RecordStore(records)
    alive = [n for n in range(8) if store.neuron(0, n).stats["max"] > 0][:3]
    rows = [{"layer": 0, "neuron": n, "status": "ok", "explanation": f"words {n}", "records_model": "tiny-llama"}
            for n in alive]
    params = CompareParams(bootstrap=200, scorers=("detection", "fuzzing"))
    judging = Judging(KeywordJudge(), ClassifierParams(n_activating=4, n_non_activating=4, window=0))
    out = compare(run, _explanations(tmp_path / "e.jsonl", rows), records, tmp_path / "out",
                  simulator=FakeSimulator(), steerer=steerer, params=params, progress=False, judge=judging)
    table = _read(out / "compare.csv")
    first = next(iter(table.values()))
    assert list(first) == COLUMNS + scorer_columns(("detection", "fuzzing"))
    scores = {(int(r["layer"]), int(r["neuron"]), r["explanation"]): r
              for r in map(json.loads, (out / "scores.jsonl").read_text().splitlines())}
    def same(cell, value):  # an undefined score is an empty cell
        assert cell == "" if isinstance(value, dict) else float(cell) == pytest.approx(value)

    for n in alive:
        row, want = table[(0, n)], scores[(0, n, f"words {n}")]["scores"]
        partner = row["shuffle_partner"].split("/")[1]
        for name in ("detection", "detection_auc", "fuzzing", "fuzzing_auc"):
            same(row[f"llm_{name}"], want[name])
            same(row[f"llm_{name}_shuffled"], scores[(0, n, f"words {partner}")]["scores"][name])
    # this tiny model's neurons peak alike on every record: no non-activating record, so
    # detection is undefined (an empty cell) though the judge was asked and its cost recorded
    assert judging.judge.calls > 0 and "no answered examples" in str(want["detection"])
    assert want["detection_cost"]["prompts"] >= 1
    layers = {r["layer"]: r for r in csv.DictReader(open(out / "layers.csv"))}
    assert "llm_detection_minus_shuffled" in layers["all"]
    assert "| llm_fuzzing |" in (out / "summary.md").read_text()
    assert json.loads((out / "compare.json").read_text())["judge"]["model"] == "keyword-judge"
