"""The static report without a browser: what it collects, packs into data files, escapes, refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from superpose import cli
from superpose.core.errors import SuperposeError
from superpose.report import build_report
from superpose.report.data import MISSING, collect, missing_labels
from superpose.report.sections import PAGE_ORDER, sections
from superpose.report.sections.compare import label
from tests.report_helpers import (
    FRUIT,
    MODEL,
    PWNED,
    make_inputs,
    make_run,
    write_compare,
    write_explanations,
    write_records,
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    return make_inputs(tmp_path_factory.mktemp("report-inputs"))


@pytest.fixture(scope="module")
def report(inputs, tmp_path_factory) -> Path:
    return build_report(inputs["results"], tmp_path_factory.mktemp("report") / "out",
                        explanations=inputs["explanations"], records=inputs["records"], compare=inputs["compare"])


def data_file(report: Path, name: str) -> dict:
    """The JSON argument of a data file ``SP.xxx({...});`` or ``SP.xxx(JSON.parse("..."));``."""
    text = (report / "data" / name).read_text(encoding="utf-8")
    inner = text[text.index("(") + 1: text.rindex(")")]
    if inner.startswith("JSON.parse("):
        return json.loads(json.loads(inner[len("JSON.parse("):-1]))
    return json.loads(inner)


def _missing(data, layer: int, neuron: int) -> list[str]:
    row = data.units.index(layer, neuron)
    return missing_labels(int(data.units.missing[row]), bool(data.units.requested[row]))


def test_collect_keeps_every_unit_and_names_what_it_misses(inputs):
    data = collect(inputs["results"], explanations=inputs["explanations"], records=inputs["records"],
                   compare=inputs["compare"])
    # the run's six requested units plus the explained neuron the run does not hold
    assert list(zip(data.units.layer.tolist(), data.units.neuron.tolist(), strict=True)) == [
        (0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (5, 7)]
    assert "not in the mining results" in _missing(data, 5, 7)
    assert data.explanations[(5, 7)].text == "elsewhere"
    assert "not mined yet (unfinished run)" in _missing(data, 1, 2)
    assert {"not explained", "not in the compare table"} <= set(_missing(data, 1, 1))
    assert "no activation records" in _missing(data, 1, 0)  # records hold layer 0 only
    assert _missing(data, 0, 1) == []
    row = data.units.index(0, 1)
    assert data.units.topics[row].tolist() == [2, 1]
    first = int(data.units.first_topic[row, 0])
    assert data.topics["words"][first].as_py() == " ".join(FRUIT)
    assert data.topics["score"][first].as_py() == pytest.approx(0.42)


def test_explanations_merge_with_their_scores(inputs):
    data = collect(inputs["results"], explanations=inputs["explanations"])
    scored = data.explanations[(0, 1)]
    assert (scored.text, scored.status, scored.score) == ("fruit names", "ok", pytest.approx(0.5))
    assert scored.scores["r2"].value is None and scored.scores["r2"].reason == "constant activations"
    assert data.explanations[(1, 0)].status == "dead"


def test_report_is_a_few_files_and_its_data_files_hold_every_unit(report):
    names = sorted(str(p.relative_to(report)) for p in report.rglob("*") if p.is_file())
    assert [n for n in names if n.endswith(".html")] == ["index.html", "neuron.html"]
    assert [n for n in names if n.startswith("data/")] == [
        "data/best.js", "data/layer_00.js", "data/layer_01.js", "data/layer_05.js", "data/meta.js", "data/topics.js",
        "data/units.js", "data/words.js"]
    units = data_file(report, "units.js")
    assert units["layer"] == [0, 0, 0, 1, 1, 1, 5] and units["neuron"] == [0, 1, 2, 0, 1, 2, 7]
    assert units["tp"] == [0, 2, 1, 1, 0, -1, -1]  # -1: not mined
    assert data_file(report, "best.js")[1] == " ".join(FRUIT) and units["bp"][1] == 0.42
    assert units["expl"]["1"] == "fruit names" and units["llm"]["1"] == 0.5 and units["cmp"]["1"] == 0.35
    words = data_file(report, "words.js")
    layer = data_file(report, "layer_00.js")
    pos = layer["units"]["1"]["pos"]
    assert [" ".join(words[i] for i in t[5]) for t in pos["t"]] == [" ".join(FRUIT), "boat crab fish"]
    assert pos["t"][0][1] == 0.42 and pos["isets"] is not None and len(pos["pool"]) == 17
    assert layer["units"]["1"]["s"]["explanation"]["text"] == "fruit names"
    assert layer["random"] == sorted(layer["random"]) and max(layer["random"]) < 0
    topics = data_file(report, "topics.js")
    assert len(topics["unit"]) == len(topics["score"]) == len(topics["len"]) == 5
    assert sum(topics["len"]) == len(topics["words"])
    summary = json.loads((report / "report.json").read_text())
    assert summary["units"] == 7 and summary["missing"]["L5_N7"][0] == "not in the mining results"


def test_missing_inputs_are_said_once_above_the_table(report):
    index = (report / "index.html").read_text()
    assert index.count("Missing inputs.") == 1
    assert "5 of 7 units: not in the compare table (the 2 that are marked" in index
    meta = data_file(report, "meta.js")
    kinds = {k["label"]: k for k in meta["missing"]}
    assert kinds["not in the compare table"]["majority"] and not kinds["not explained"]["majority"]
    assert [k["label"] for k in meta["missing"]] == list(MISSING)


def test_pages_escape_every_value_and_load_only_their_own_scripts(report):
    for name in ("index.html", "neuron.html"):
        text = (report / name).read_text()
        assert PWNED not in text and "x<b>y" not in text
        scripts = re.findall(r"<script[^>]*>", text)
        assert all(re.fullmatch(r'<script src="(assets|data)/[a-z_0-9]+\.js" defer>', s) for s in scripts), scripts
    # values in data files are JSON strings, drawn with SP.esc; the script never builds markup from them unescaped
    assert PWNED in (report / "data" / "layer_00.js").read_text()
    neuron = (report / "assets" / "neuron.js").read_text()
    assert "innerHTML" in neuron and "SP.esc" in neuron


def test_compare_columns_get_readable_names():
    assert label("best_npmi_pos") == "best topic NPMI, positive"
    assert label("topics_beat_llm") == "topics score higher than the LLM"
    assert label("some_new_column") == "some new column"


def test_sections_are_modules_in_page_order():
    found = sections()
    assert [s.id for s in found] == list(PAGE_ORDER)
    assert all(s.title and "return" in s.js for s in found)


def test_figures_are_written_and_identical_between_builds(inputs, report, tmp_path):
    again = build_report(inputs["results"], tmp_path / "again", explanations=inputs["explanations"],
                         records=inputs["records"], compare=inputs["compare"])
    names = {p.name for p in (report / "assets").glob("*.svg")}
    assert names == {"npmi_by_layer.svg", "topics_per_neuron.svg", "topic_vs_llm.svg", "layer_0_npmi.svg",
                     "layer_1_npmi.svg", "layer_5_npmi.svg"}
    for name in names:
        first = (report / "assets" / name).read_bytes()
        assert first.startswith(b"<?xml") and b"<svg" in first
        assert first == (again / "assets" / name).read_bytes(), name
    for name in ("units.js", "best.js", "topics.js", "layer_00.js", "words.js"):
        assert (report / "data" / name).read_bytes() == (again / "data" / name).read_bytes(), name


def test_overviews_of_layers_and_recurring_topics(report):
    index = (report / "index.html").read_text()
    assert "<h2>Layers</h2>" in index and "<h2>Recurring topics</h2>" in index
    # "boat crab fish" is found by (0, 1) pos and (1, 0) pos
    assert re.search(r'<td class="num">2</td><td class="num">0\.310</td><td>boat crab fish</td>', index)


def test_inputs_of_another_model_or_corpus_are_refused_and_nothing_is_written(tmp_path, inputs):
    out = tmp_path / "out"
    cases = [
        ({"explanations": write_explanations(tmp_path / "e.jsonl", model="other-model")},
         r"model mismatch: .*'tiny-model'.*explanations .*'other-model'"),
        ({"records": write_records(tmp_path / "rec", sources=["wordnet"])},
         r"corpus mismatch: .*ovos-wiki.*records .* wordnet"),
        ({"compare": write_compare(tmp_path / "c.csv", model="other-model")}, r"model mismatch: .*compare table"),
    ]
    for given, message in cases:
        with pytest.raises(SuperposeError, match=message):
            build_report(inputs["results"], out, **given)
        assert not out.exists()
    build_report(inputs["results"], out)
    before = (out / "index.html").read_text()
    with pytest.raises(SuperposeError):
        build_report(inputs["results"], out, compare=tmp_path / "c.csv")
    assert (out / "index.html").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_bad_run_folders_are_refused(tmp_path, inputs):
    empty = tmp_path / "empty"
    empty.mkdir()
    run = {"format": "superpose-mine", "format_version": 1, "request": {"model": MODEL, "mode": "hi-c"}}
    (empty / "run.json").write_text(json.dumps(run))
    with pytest.raises(SuperposeError, match="holds no mining results"):
        build_report(empty, tmp_path / "out")
    for changed, error in (({"format": "other"}, r"is not a superpose mining run \(format 'other'"),
                           ({"format_version": 99}, "format version 99, this superpose reads version 1")):
        (empty / "run.json").write_text(json.dumps({**run, **changed}))
        with pytest.raises(SuperposeError, match=error) as info:
            build_report(empty, tmp_path / "out")
        assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_a_report_is_never_replaced(tmp_path, inputs):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "table.csv").write_text("keep me")
    with pytest.raises(SuperposeError, match="is not a report"):
        build_report(inputs["results"], tmp_path / "results")
    assert (tmp_path / "results" / "table.csv").read_text() == "keep me"


def test_default_corpus_name_matches_its_sources(tmp_path):
    run = make_run(tmp_path / "run", sources=["ovos-wiki", "gensim-wiki", "wordnet"])
    records = write_records(tmp_path / "rec", sources=["default"])
    data = collect(run, records=records)
    assert data.run.corpus == ("gensim-wiki", "ovos-wiki", "wordnet")


def test_max_neurons_and_tables_only_run(tmp_path, inputs):
    run = make_run(tmp_path / "run")
    for path in run.glob("*_*_*_*"):  # per-unit files gone: the bulk tables alone
        path.unlink()
    out = build_report(run, tmp_path / "out", max_neurons=2)
    assert "Showing the first 2 of 6 units" in (out / "index.html").read_text()
    units = data_file(out, "units.js")
    assert units["neuron"] == [0, 1] and units["tp"] == [0, 2]  # from the tables: mined, not "not mined"
    side = data_file(out, "layer_00.js")["units"]["1"]["pos"]
    assert side["pool"] is None and side["isets"] is None and len(side["t"]) == 2
    assert json.loads((out / "report.json").read_text())["units"] == 2


def test_cli_writes_a_report_and_reports_a_refusal(tmp_path, inputs, capsys):
    out = tmp_path / "out"
    assert cli.main(["report", "--results", str(inputs["results"]), "--out", str(out),
                     "--explanations", str(inputs["explanations"]), "--max-neurons", "3"]) == 0
    assert data_file(out, "units.js")["neuron"] == [0, 1, 2]
    bad = write_explanations(tmp_path / "bad.jsonl", model="other-model")
    assert cli.main(["report", "--results", str(inputs["results"]), "--out", str(tmp_path / "bad"),
                     "--explanations", str(bad)]) == 2
    assert "model mismatch" in capsys.readouterr().err
    assert MODEL in (out / "index.html").read_text()


def test_a_new_section_is_one_file(tmp_path, inputs, monkeypatch):
    from superpose.report import sections as registry

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "example_words.py").write_text((Path(__file__).parent / "report_section_example.py").read_text())
    monkeypatch.setattr(registry, "__path__", [*registry.__path__, str(plugins)])
    words = tmp_path / "words.txt"
    words.write_text("apple <b>pear</b>")
    assert cli.main(["report", "--results", str(inputs["results"]), "--out", str(tmp_path / "out"),
                     "--input", f"top-words={words}"]) == 0
    layer = data_file(tmp_path / "out", "layer_00.js")
    assert layer["units"]["1"]["s"]["top-words"] == {"words": ["apple", "<b>pear</b>"]}
    assert "top-words" not in layer["units"]["0"]["s"]
    assert '"Top activating words"' in (tmp_path / "out" / "assets" / "sections.js").read_text()
    assert cli.main(["report", "--results", str(inputs["results"]), "--out", str(tmp_path / "bad"),
                     "--input", "no-equals-sign"]) == 2
