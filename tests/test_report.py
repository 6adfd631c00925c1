"""The static report without a browser: what it collects, escapes, refuses, and the figures it writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from superpose import cli
from superpose.core.errors import SuperposeError
from superpose.report import build_report
from superpose.report.data import collect
from superpose.report.html import heatmap
from superpose.report.inputs import Record
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


def _pages(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in folder.rglob("*.html")}


def test_collect_keeps_every_neuron_and_names_what_it_misses(inputs):
    data = collect(inputs["results"], explanations=inputs["explanations"], records=inputs["records"],
                   compare=inputs["compare"])
    views = {v.key: v for v in data.neurons}
    # the run's six requested units plus the explained neuron the run does not hold
    assert sorted(views) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (5, 7)]
    assert "not in the mining results" in views[(5, 7)].missing
    assert views[(5, 7)].explanation.text == "elsewhere"
    assert "not mined yet (unfinished run)" in views[(1, 2)].missing
    assert "not explained" in views[(1, 1)].missing
    assert "not in the compare table" in views[(1, 1)].missing
    assert "no activation records" in views[(1, 0)].missing  # records hold layer 0 only
    assert views[(0, 1)].missing == []
    assert [t["words"] for t in views[(0, 1)].topics("pos")] == [list(FRUIT), ["boat", "crab", "fish"]]
    assert views[(0, 1)].best_npmi() == pytest.approx(0.42)
    assert views[(0, 1)].compare_best("topic_score") == pytest.approx(0.35)


def test_explanations_merge_with_their_scores(inputs):
    data = collect(inputs["results"], explanations=inputs["explanations"])
    views = {v.key: v for v in data.neurons}
    scored = views[(0, 1)].explanation
    assert (scored.text, scored.status, scored.score) == ("fruit names", "ok", pytest.approx(0.5))
    assert scored.scores["r2"].value is None and scored.scores["r2"].reason == "constant activations"
    assert views[(1, 0)].explanation.status == "dead"
    assert views[(0, 0)].explanation.score == pytest.approx(0.2)


def test_records_come_through_with_top_and_random(inputs):
    data = collect(inputs["results"], records=inputs["records"])
    records = {v.key: v.records for v in data.neurons}[(0, 2)]
    assert [r.kind for r in records] == ["top", "top", "random", "random"]
    assert records[0].tokens == [" apple", PWNED, " banana", "\n"]
    assert records[0].activations == pytest.approx([2.0, 0.5, 1.0, 0.0])


def test_pages_escape_tokens_topics_and_explanations(report):
    pages = _pages(report)
    assert "index.html" in pages and "neurons/L0_N0.html" in pages and "neurons/L5_N7.html" in pages
    for name, text in pages.items():
        assert "window.__pwned" not in text.replace("&lt;script&gt;window.__pwned", ""), name
        assert "x<b>y" not in text, name
        # the only scripts are the report's own
        assert re.findall(r"<script[^>]*>", text) == ['<script src="../assets/report.js" defer>'
                                                     if "/" in name else '<script src="assets/report.js" defer>']
    neuron = pages["neurons/L0_N0.html"]
    assert "fruit &lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; more" in neuron  # explanation
    assert 'title="0.5">&lt;script&gt;window.__pwned=1&lt;/script&gt;</span>' in neuron  # record token
    assert "x&lt;b&gt;y" in pages["neurons/L0_N2.html"]  # topic word


def test_neuron_page_shows_topics_scores_baseline_and_missing(report):
    pages = _pages(report)
    page = pages["neurons/L0_N1.html"]
    assert "apple banana cherry" in page and "0.420" in page and "comet moon star" in page
    assert "fruit names" in page and "0.500" in page and "constant activations" in page
    assert "Random baseline, layer 0" in page and "layer_0_npmi.svg" in page
    assert "100%" in page  # 0.42 beats every random topic of layer 0 (all negative)
    assert "not in the mining results" in pages["neurons/L5_N7.html"]
    assert "not mined yet" in pages["neurons/L1_N2.html"]
    assert "No activation records for this neuron" in pages["neurons/L1_N0.html"]
    index = pages["index.html"]
    assert index.count("<tr data-layer=") == 7
    assert 'href="neurons/L0_N1.html"' in index and "not explained" in index


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
    index = (report / "index.html").read_text()
    for name in names - {f"layer_{n}_npmi.svg" for n in (0, 1, 5)}:
        assert f"assets/{name}" in index


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
    # a failed report leaves the previous one in place
    build_report(inputs["results"], out)
    before = (out / "index.html").read_text()
    with pytest.raises(SuperposeError):
        build_report(inputs["results"], out, compare=tmp_path / "c.csv")
    assert (out / "index.html").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


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


def test_max_neurons_and_unfinished_run(tmp_path, inputs):
    run = make_run(tmp_path / "run")
    (run / "pools.csv.gz").unlink()
    (run / "topics.csv.gz").unlink()
    out = build_report(run, tmp_path / "out", max_neurons=2)
    index = (out / "index.html").read_text()
    assert index.count("<tr data-layer=") == 2
    assert "Showing the first 2 of 6 neurons" in index
    assert "unfinished" in index
    assert json.loads((out / "report.json").read_text())["neurons"] == 2


def test_heatmap_shades_by_activation_over_scale():
    html = heatmap(Record(["a", "<b>", "c"], [2.0, 1.0, -2.0], "top"), scale=2.0)
    assert 'rgba(217,72,15,1.00)" title="2">a<' in html
    assert 'rgba(217,72,15,0.50)" title="1">&lt;b&gt;<' in html
    assert 'rgba(28,126,214,1.00)" title="-2">c<' in html


def test_cli_writes_a_report_and_reports_a_refusal(tmp_path, inputs, monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "superpose.cli.report"]
                        if "superpose.cli.report" not in cli.COMMAND_MODULES else cli.COMMAND_MODULES)
    out = tmp_path / "out"
    assert cli.main(["report", "--results", str(inputs["results"]), "--out", str(out),
                     "--explanations", str(inputs["explanations"]), "--max-neurons", "3"]) == 0
    assert (out / "neurons" / "L0_N2.html").is_file() and not (out / "neurons" / "L1_N0.html").exists()
    bad = write_explanations(tmp_path / "bad.jsonl", model="other-model")
    assert cli.main(["report", "--results", str(inputs["results"]), "--out", str(tmp_path / "bad"),
                     "--explanations", str(bad)]) == 2
    assert "model mismatch" in capsys.readouterr().err
    assert MODEL in (out / "index.html").read_text()
