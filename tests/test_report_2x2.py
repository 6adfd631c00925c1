"""The report's 2x2 section: shown for a compare table of the 2x2 format, absent for an old one."""

from __future__ import annotations

import csv

import pytest

from superpose.compare import COLUMNS
from superpose.report import build_report
from tests.report_helpers import MODEL, SOURCES, make_inputs


def _write_2x2(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report-2x2")
    inputs = make_inputs(folder)
    base = {"model": MODEL, "corpus": " ".join(SOURCES), "layer": 0}
    rows = [dict(base, neuron=n, topics_input=0.1 * n, llm_input=0.2, topics_output=0.9, llm_output=0.6,
                 topics_input_shuffled=0.0, llm_input_shuffled=0.05, topics_output_shuffled=0.5,
                 llm_output_shuffled=0.4, topics_text="words such as apple, pear", llm_explanation="fruit",
                 promoted="apple pear") for n in (0, 1, 2)]
    table = _write_2x2(folder / "compare.csv", rows)
    out = build_report(inputs["results"], folder / "out", explanations=inputs["explanations"],
                       records=inputs["records"], compare=table)
    return out


def test_index_shows_the_2x2_with_intervals(built):
    index = (built / "index.html").read_text(encoding="utf-8")
    assert "input and output side" in index and "compare_2x2.svg" in index
    assert (built / "assets" / "compare_2x2.svg").is_file()
    # topics on the output side: 0.9 everywhere, shuffled 0.5, so real minus shuffled is 0.4
    assert "0.900" in index and "0.400" in index


def test_neuron_page_shows_its_own_2x2(built):
    from tests.test_report import data_file

    section = data_file(built, "layer_00.js")["units"]["1"]["s"]["twobytwo"]
    assert section["cells"][0] == ["topics", [pytest.approx(0.1), 0.0], [0.9, 0.5]]
    assert ["tokens steering promotes", "apple pear"] in section["texts"]
    assert '"Input and output side"' in (built / "assets" / "sections.js").read_text(encoding="utf-8")


def test_an_old_compare_table_shows_no_2x2(tmp_path):
    inputs = make_inputs(tmp_path)
    out = build_report(inputs["results"], tmp_path / "out", compare=inputs["compare"])
    assert "input and output side" not in (out / "index.html").read_text(encoding="utf-8")
    assert not (out / "assets" / "compare_2x2.svg").exists()
