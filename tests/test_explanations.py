"""Published explanations in (OpenAI, Neuronpedia, delphi), through compare and report; topics out;
OpenAI's weight-based tokens against our projection of a GPT-2 fixture."""

from __future__ import annotations

import csv
import gzip
import json

import numpy as np
import pytest
import torch

from superpose.activations.formats import RecordStore
from superpose.activations.steering import Steerer, SteeringParams, WordTokens
from superpose.cli import main
from superpose.compare import CompareParams, compare, polarity_text
from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.explainer.scorers import score_explanation
from superpose.explanations import ImportOptions, export_explanations, formats, import_explanations
from superpose.explanations.delphi import classifier_metrics
from superpose.explanations.openai import openai_order
from superpose.explanations.tokens import check_tokens
from superpose.mining.store import read_unit
from superpose.models import load_model
from superpose.pipeline import mine
from tests.explanations_helpers import (
    neuron_record,
    neuronpedia_row,
    write_delphi,
    write_neuronpedia,
    write_openai,
    write_weight_tokens,
)
from tests.mining_helpers import PARAMS, make_corpus, tokens
from tests.model_helpers import byte_level_tokenizer, save_tiny
from tests.test_compare import FakeSimulator
from tests.test_steering import WordTokenizer

NEURONS = list(range(6))


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    """A random-weight GPT-2 with the cluster words as tokens, mined on layer 0."""
    folder = tmp_path_factory.mktemp("explanations")
    model = save_tiny("gpt2", folder / "gpt2-tiny", byte_level_tokenizer(tokens()))
    corpus = make_corpus(folder)
    run = mine(str(model), str(corpus), str(folder / "mined"), layers="0", neurons="0-7",
               projection=ProjectionConfig(tau=40), mining=MiningConfig(**PARAMS),
               execution=ExecutionConfig(workers=1), progress=False)
    steerer = Steerer(load_model(str(model)), ("apple banana", "moon"), SteeringParams(new_tokens=2))
    steerer.word_tokens = WordTokens(WordTokenizer())
    return folder, model, run, steerer


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _compare(run, file, records, out, steerer):
    compare(run, file, records, out, simulator=FakeSimulator(), steerer=steerer,
            params=CompareParams(bootstrap=200), progress=False)
    with open(out / "compare.csv") as fh:
        return {(int(r["layer"]), int(r["neuron"])): r for r in csv.DictReader(fh)}


def test_registry_finds_each_format():
    assert {"openai", "neuronpedia", "delphi"} <= set(formats())
    assert formats()["delphi"].write is not None and formats()["neuronpedia"].write is not None


def test_openai_order_gives_openai_sets():
    top, random = list(range(8)), [f"r{i}" for i in range(6)]
    ours_top, ours_random = openai_order(top, random)
    # our split: explain r%4 in {0,2}, calibration r%4 == 1, held out r%4 == 3 (docs/formats/llm.md)
    assert [ours_top[i] for i in range(8) if i % 4 == 3] == [2, 6]     # OpenAI's valid: index % 4 == 2
    assert [ours_top[i] for i in range(8) if i % 4 == 1] == [1, 5]     # calibration
    assert sorted(ours_top[i] for i in range(8) if i % 4 in (0, 2)) == [0, 3, 4, 7]  # train + test
    assert ours_random[0::2][:2] == ["r0", "r3"] and ours_random[1::2][:2] == ["r1", "r4"]  # cal, valid


def test_openai_end_to_end(gpt2, tmp_path):
    folder, model, run, steerer = gpt2
    source = write_openai(tmp_path / "release", 0, NEURONS)
    out = tmp_path / "imported" / "explanations.jsonl"
    assert main(["explanations", "import", str(source), "--format", "openai", "--out", str(out),
                 "--model", str(model)]) == 0
    rows = _rows(out)
    assert [(r["layer"], r["neuron"]) for r in rows] == [(0, n) for n in NEURONS]
    first = rows[0]
    assert first["status"] == "ok" and first["explanation"] == "fruit words 0" and first["records_model"] == "gpt2-tiny"
    assert first["published_scores"]["ev_correlation_score"] == 0.05 and "scores" not in first
    assert first["published_scores"]["absolute_dev_explained_score"] == {"undefined": "not given by the source"}
    assert first["published_score"] == {"name": "ev_correlation_score", "value": 0.05}
    assert first["alternatives"][0]["explanation"] == "a worse explanation 0"
    assert first["imported"]["format"] == "openai" and first["imported"]["from"].endswith("0/0.jsonl:1")
    assert first["imported"]["openai_model"] == "gpt2"
    # the records: our held-out set is OpenAI's valid split, calibration theirs
    store = RecordStore(out.parent)
    assert store.model == "gpt2-tiny" and store.meta["imported"] and store.meta["n_layers"] == 3
    published = neuron_record(0, 2, 0)
    split = store.neuron(0, 2).split()
    valid = [published["most_positive_activation_records"][i] for i in (2, 6)]
    holdout_top = [r for r in split.holdout if r.kind == "top"]
    assert [r.tokens for r in holdout_top] == [v["tokens"] for v in valid]
    assert np.allclose(holdout_top[0].activations, valid[0]["activations"], atol=1e-6)
    assert [r.tokens for r in split.holdout if r.kind == "random"] == \
        [published["random_sample"][i]["tokens"] for i in (1, 4)]
    assert store.neuron(0, 7).top == []  # not in the release: no records
    # compare: our input-side score on the imported records, the published one beside it
    table = _compare(run, out, out.parent, tmp_path / "cmp", steerer)
    row = table[(0, 2)]
    assert row["llm_explanation"] == "fruit words 2" and row["llm_source"] == "openai"
    assert float(row["llm_published_score"]) == pytest.approx(0.25)
    assert row["llm_published_score_name"] == "ev_correlation_score"
    direct = score_explanation("fruit words 2", store.neuron(0, 2), FakeSimulator())
    assert float(row["llm_input"]) == pytest.approx(direct.correlation.value, rel=1e-5)
    assert "## Published scores" in (tmp_path / "cmp" / "summary.md").read_text()
    # report: the published scores on the neuron page's data, apart from ours
    from superpose.report import build_report

    report = build_report(run, tmp_path / "report", explanations=out, records=out.parent, progress=False)
    data = (report / "data" / "layer_00.js").read_text()
    assert "ev_correlation_score" in data and "imported from openai" in data


def test_neuronpedia_end_to_end(gpt2, tmp_path):
    folder, model, run, steerer = gpt2
    rows = [neuronpedia_row(0, 1, "music words", scoreV1=0.0),
            neuronpedia_row(0, 1, "sea words", scores=[{"value": 0.7, "explanationScoreTypeName": "eleuther_fuzz",
                                                        "explanationScoreModelName": "gpt-4o-mini"}]),
            neuronpedia_row(0, 3, "space words", scoreV2=0.4)]
    source = write_neuronpedia(tmp_path / "np", rows)
    out = tmp_path / "np.jsonl"
    import_explanations("neuronpedia", source.parents[3], out, ImportOptions(model="gpt2-tiny"))
    got = {r["neuron"]: r for r in _rows(out)}
    assert got[1]["explanation"] == "sea words"  # the scored one first; the other kept as an alternative
    assert got[1]["published_scores"] == {"eleuther_fuzz/gpt-4o-mini": 0.7}
    assert got[1]["alternatives"][0]["explanation"] == "music words"
    assert got[1]["explainer"]["model"] == "gpt-4o-mini" and got[1]["imported"]["typeName"] == "oai_token-act-pair"
    assert got[1]["imported"]["unit"] == {"kind": "neuronpedia-source", "source": "0-res-test", "index": 1}
    assert got[3]["published_score"] == {"name": "scoreV2", "value": 0.4}
    records = _imported_records(tmp_path)
    table = _compare(run, out, records, tmp_path / "cmp", steerer)
    assert float(table[(0, 1)]["llm_published_score"]) == pytest.approx(0.7)
    assert table[(0, 1)]["llm_source"] == "neuronpedia gpt-4o-mini"


def _imported_records(tmp_path):
    out = tmp_path / "openai" / "explanations.jsonl"
    import_explanations("openai", write_openai(tmp_path / "release", 0, NEURONS), out,
                        ImportOptions(model="gpt2-tiny"))
    return out.parent


def test_delphi_end_to_end(gpt2, tmp_path):
    folder, model, run, steerer = gpt2
    source = write_delphi(tmp_path / "delphi", "layers.0.mlp", {2: "weather words", 4: "city words"})
    out = tmp_path / "delphi.jsonl"
    assert main(["explanations", "import", str(source), "--format", "delphi", "--out", str(out),
                 "--model", "gpt2-tiny"]) == 0
    got = {r["neuron"]: r for r in _rows(out)}
    assert got[2]["explanation"] == "weather words" and got[2]["layer"] == 0
    scores = got[2]["published_scores"]
    assert scores["simulation/ev_correlation_score"] == 0.25 and scores["simulation/ev_correlation_score_q1"] == 0.3
    assert scores["detection/examples"] == 10 and 0 <= scores["detection/balanced_accuracy"] <= 1
    assert got[2]["published_score"]["name"] == "detection/balanced_accuracy"
    table = _compare(run, out, _imported_records(tmp_path), tmp_path / "cmp", steerer)
    assert table[(0, 4)]["llm_explanation"] == "city words" and table[(0, 4)]["llm_published_score"] != ""


def test_classifier_metrics_as_delphi_computes_them():
    examples = [{"activating": a, "prediction": p, "probability": q} for a, p, q in
                [(True, True, 0.9), (True, False, 0.4), (False, False, 0.1), (False, True, 0.6), (True, None, None)]]
    m = classifier_metrics(examples, "x")
    assert m["judged"] == 4 and m["examples"] == 5
    assert m["precision"] == 0.5 and m["recall"] == 0.5 and m["f1"] == 0.5 and m["balanced_accuracy"] == 0.5
    assert m["auc"] == 0.75  # 0.9 and 0.4 against 0.1 and 0.6: three of four pairs ordered


def test_export_round_trips(gpt2, tmp_path):
    folder, model, run, steerer = gpt2
    expected = {n: polarity_text(read_unit(run, 0, n, "pos")["topics"], 1)
                for n in range(8) if read_unit(run, 0, n, "pos")["topics"]}
    assert expected
    assert main(["explanations", "export", "--format", "delphi", "--results", str(run),
                 "--out", str(tmp_path / "d")]) == 0
    names = sorted(p.name for p in (tmp_path / "d" / "explanations").iterdir())
    assert names == sorted(f"layers.0.mlp_latent{n}.txt" for n in expected)
    import_explanations("delphi", tmp_path / "d", tmp_path / "d.jsonl")
    assert {r["neuron"]: r["explanation"] for r in _rows(tmp_path / "d.jsonl")} == expected
    with pytest.raises(SuperposeError, match="not empty"):
        export_explanations("delphi", run, tmp_path / "d", settings={"module": "layers.{layer}.mlp"})
    assert main(["explanations", "export", "--format", "neuronpedia", "--results", str(run),
                 "--out", str(tmp_path / "n"), "--model-id", "gpt2-small", "--source", "{layer}-superpose"]) == 0
    batch = tmp_path / "n" / "v1" / "gpt2-small" / "0-superpose" / "explanations" / "batch-0.jsonl.gz"
    row = json.loads(gzip.open(batch, "rt").readline())
    assert row["modelId"] == "gpt2-small" and row["layer"] == "0-superpose" and isinstance(row["index"], str)
    assert row["typeName"] == "superpose-topics"
    import_explanations("neuronpedia", tmp_path / "n", tmp_path / "n.jsonl")
    assert {r["neuron"]: r["explanation"] for r in _rows(tmp_path / "n.jsonl")} == expected


@pytest.mark.parametrize("case", ["bad-json", "missing", "wrong-type", "not-gzip", "openai-field"])
def test_malformed_input_is_one_line_naming_file_and_line(tmp_path, capsys, case):
    fmt = "neuronpedia"
    rows = [neuronpedia_row(0, 1, "ok")]
    if case == "bad-json":
        path = write_neuronpedia(tmp_path, rows)
        with gzip.open(path, "wt") as fh:
            fh.write(json.dumps(rows[0]) + "\n{not json\n")
        where = f"{path}:2"
    elif case == "missing":
        bad = dict(rows[0])
        del bad["description"]
        path = write_neuronpedia(tmp_path, rows + [bad])
        where = f"{path}:2"
    elif case == "wrong-type":
        path = write_neuronpedia(tmp_path, rows + [neuronpedia_row(0, 2, "x") | {"index": [2]}])
        where = f"{path}:2"
    elif case == "not-gzip":
        path = write_neuronpedia(tmp_path, rows)
        path.write_text(json.dumps(rows[0]) + "\n")
        where = str(path)
    else:
        fmt = "openai"
        base = write_openai(tmp_path, 0, [0])
        path = base / "explanations" / "0" / "0.jsonl"
        path.write_text(json.dumps({"dataclass_name": "NeuronSimulationResults",
                                    "neuron_id": {"layer_index": 0, "neuron_index": 0},
                                    "scored_explanations": [{"explanation": 3}]}) + "\n")
        where = f"{path}:1"
    out = tmp_path / "out.jsonl"
    assert main(["explanations", "import", str(path), "--format", fmt, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and where in err, err
    assert not out.exists()


def test_import_refuses_bad_requests(tmp_path):
    with pytest.raises(SuperposeError, match="does not exist"):
        import_explanations("delphi", tmp_path / "nothing", tmp_path / "o.jsonl")
    with pytest.raises(SuperposeError, match="unknown format"):
        import_explanations("sae-vis", tmp_path, tmp_path / "o.jsonl")
    with pytest.raises(SuperposeError, match=r"\.jsonl file"):
        import_explanations("delphi", tmp_path, tmp_path / "o.csv")
    source = write_neuronpedia(tmp_path, [neuronpedia_row(0, 1, "a")])
    write_neuronpedia(tmp_path, [neuronpedia_row(0, 1, "b") | {"layer": "0-other"}], source="0-other")
    with pytest.raises(SuperposeError, match="shares layer 0"):
        import_explanations("neuronpedia", source.parents[3], tmp_path / "o.jsonl")


def test_check_tokens_against_our_projection(gpt2, tmp_path):
    """The weight-based tokens computed by OpenAI's definition on the fixture, and our own top
    tokens as a perfect control, compared with our Hi-I and Hi-C projections."""
    folder, model, run, steerer = gpt2
    lm = load_model(str(model))
    gpt = lm.model.transformer
    layer, vocab = 0, lm.vocab_size
    with torch.no_grad():  # OpenAI: c_proj.w[n] @ diag(ln_f.g) @ wte[t]
        out_weights = (gpt.h[layer].mlp.c_proj.weight * gpt.ln_f.weight) @ gpt.wte.weight.T
    decode = lm.tokenizer.decode
    for neuron in range(8):
        order = torch.argsort(out_weights[neuron], descending=True).tolist()
        side = {name: ([decode([i]) for i in ids[:10]], [float(out_weights[neuron, i]) for i in ids[:10]])
                for name, ids in (("output_positive", order), ("output_negative", order[::-1]),
                                  ("input_positive", order), ("input_negative", order))}
        write_weight_tokens(tmp_path / "openai", layer, neuron, side)
    result = check_tokens(tmp_path / "openai", lm, tmp_path / "check", bootstrap=200)
    hi_i = result["summary"]["hi-i/pos"]
    assert hi_i["overlap"]["mean"] > 3 * hi_i["chance_overlap"]["mean"], hi_i  # the same reading, nearly
    assert hi_i["mapped_share"] == 1.0
    rows = list(csv.DictReader(open(tmp_path / "check" / "tokens.csv")))
    assert len(rows) == 8 * 2 * 2 and {r["mode"] for r in rows} == {"hi-i", "hi-c"}
    # control: our own Hi-I top tokens as the published ones agree perfectly
    from superpose.projection.project import neuron_logits

    ours = neuron_logits(lm, "hi-i", layer, [0])[0]
    top = np.argsort(-ours)[:10].tolist()
    write_weight_tokens(tmp_path / "self", layer, 0, {s: ([decode([i]) for i in top], [1.0] * 10) for s in
                                                      ("output_positive", "output_negative", "input_positive",
                                                       "input_negative")})
    control = check_tokens(tmp_path / "self", lm, tmp_path / "check2", modes=("hi-i",), bootstrap=200)
    assert control["summary"]["hi-i/pos"]["overlap"]["mean"] == 1.0
    assert control["summary"]["hi-i/pos"]["median_rank_pct"]["mean"] < 10 / vocab
    assert vocab == len(tokens())


TOY_FORMAT = '''
"""A toy format for the registry test: one explanation per line, "layer neuron text"."""
from superpose.explanations.base import ExplanationFormat, Imported


def read(source, options):
    lines = source.read_text().splitlines()
    return [Imported(int(a), int(b), text, f"{source}:{i}") for i, (a, b, text) in
            enumerate((line.split(" ", 2) for line in lines), 1)]


FORMAT = ExplanationFormat("toy-lines", "a test format", read)
'''


def test_a_new_format_is_one_new_file(tmp_path, monkeypatch):
    import superpose.explanations as package

    (tmp_path / "toy_lines.py").write_text(TOY_FORMAT)
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    monkeypatch.syspath_prepend(str(tmp_path))
    formats.cache_clear()
    try:
        (tmp_path / "src.txt").write_text("0 5 planets\n")
        assert main(["explanations", "import", str(tmp_path / "src.txt"), "--format", "toy-lines",
                     "--out", str(tmp_path / "o.jsonl")]) == 0
        assert _rows(tmp_path / "o.jsonl")[0]["explanation"] == "planets"
    finally:
        formats.cache_clear()
