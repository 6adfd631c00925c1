"""Word search over every topic of a run: the per-run index, all/any, ranking, the CLI, bad input."""

from __future__ import annotations

import json
import os

import pytest

from superpose import cli
from superpose.core.errors import SuperposeError
from superpose.mining.search import WordIndex, check_corpus
from tests.report_helpers import FRUIT, make_run


@pytest.fixture()
def run(tmp_path):
    return make_run(tmp_path)


def test_search_all_and_any_ranked_by_npmi(run):
    index = WordIndex(run)
    assert index.built_now and (run / "search" / "index.json").is_file()
    found = index.search(["Crab", "fish"])
    assert [(h.layer, h.neuron, h.polarity, h.rank, h.words) for h in found.hits] == [
        (1, 0, "pos", 0, ["boat", "crab", "fish"]), (0, 1, "pos", 1, ["boat", "crab", "fish"])]
    assert [h.score for h in found.hits] == pytest.approx([0.31, 0.18]) and found.absent == []
    assert index.search(["banana", "crab"]).hits == []  # no topic holds both
    anyof = index.search(["banana", "moon"], "any")
    assert [h.words for h in anyof.hits] == [list(FRUIT), ["comet", "moon", "star"]]
    assert index.search(["crab"], limit=1).total == 2 and len(index.search(["crab"], limit=1).hits) == 1
    missing = index.search(["banana", "zebra"])
    assert missing.hits == [] and missing.absent == ["zebra"]
    again = WordIndex(run)
    assert not again.built_now  # reused


def test_index_is_rebuilt_when_the_run_changes(run):
    WordIndex(run)
    for path in run.glob("*_topics.csv"):
        if path.name.startswith("0_1_pos"):
            path.write_text("rank,score,status,gap,never_cooccur,words\n0,0.9,optimal,0.0,0,kiwi lime\n")
    (run / "topics.csv.gz").unlink()
    (run / "pools.csv.gz").unlink()
    (run / "topics.parquet").unlink()
    index = WordIndex(run)
    assert index.built_now and [h.words for h in index.search(["kiwi"]).hits] == [["kiwi", "lime"]]


def test_cli_table_json_and_empty_result(run, capsys):
    assert cli.main(["search", "--run", str(run), "crab", "fish"]) == 0
    out = capsys.readouterr().out
    assert "2 topic(s) hold all of: crab fish" in out and "    1      0 pos    0  0.310  boat crab fish" in out
    assert cli.main(["search", "--run", str(run), "crab", "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["total"] == 2 and found["hits"][0]["words"] == ["boat", "crab", "fish"]
    assert cli.main(["search", "--run", str(run), "zebra"]) == 0
    out = capsys.readouterr().out
    assert "'zebra' is in no topic of this run" in out and "no topic holds all of: zebra" in out


def test_corpus_of_another_run_is_refused(run, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    (corpus / "vocab.txt").write_text("apple\nzebra\n")
    (corpus / "meta.json").write_text(json.dumps({"created": "then", "n_windows": 10}))
    run_json = json.loads((run / "run.json").read_text())
    run_json["request"]["corpus"].update({"created": "then", "n_windows": 10, "vocab_size": 2})
    (run / "run.json").write_text(json.dumps(run_json))
    assert check_corpus(run_json, corpus) == ["apple", "zebra"]
    assert cli.main(["search", "--run", str(run), "zebra", "--corpus", str(corpus)]) == 0
    assert "(a word of the corpus)" in capsys.readouterr().out
    (corpus / "meta.json").write_text(json.dumps({"created": "rebuilt later", "n_windows": 10}))
    assert cli.main(["search", "--run", str(run), "zebra", "--corpus", str(corpus)]) == 2
    err = capsys.readouterr().err
    assert "mined with another corpus" in err and "created" in err and len(err.strip().splitlines()) == 1


def test_bad_input_is_one_line(run, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["search", "--run", str(empty), "crab"]) == 2
    assert "holds no mining results" in capsys.readouterr().err
    assert not any(empty.iterdir())
    assert cli.main(["search", "--run", str(run), "crab", "--limit", "-1"]) == 2
    assert "--limit" in capsys.readouterr().err
    with pytest.raises(SuperposeError, match="no word"):
        WordIndex(run).search(["  "])
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(SuperposeError, match="is not a word index"):
        WordIndex(run, tmp_path / "taken")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_read_only_run_needs_another_index_folder(run, tmp_path):
    os.chmod(run, 0o555)
    try:
        with pytest.raises(SuperposeError, match="read-only"):
            WordIndex(run)
        assert WordIndex(run, tmp_path / "index").search(["crab"]).total == 2
    finally:
        os.chmod(run, 0o755)


def test_public_api_reads_runs_and_searches(run):
    import superpose

    reader = superpose.open_run(run)
    assert isinstance(reader, superpose.RunReader) and reader.topics().num_rows == 5
    assert superpose.WordIndex(run).search(["moon"]).hits[0].neuron == 1
