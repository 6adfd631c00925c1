"""Top activating words from hand-made records: word segmentation across tokens, max/mean/min and
counts over the distinct sequences of a neuron's records, ranking, files and the CLI."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from superpose.activations.top_words import read_top_words, top_words, write_top_words
from superpose.cli import main
from superpose.core.errors import SuperposeError
from tests.records_helpers import write_records

TOKENS = {0: " the", 1: " straw", 2: "berry", 3: " is", 4: " red", 5: ".", 6: " Straw", 7: "berry!"}
# sequence 0: " the strawberry is red."   sequence 1: " Strawberry! the red"
SEQUENCES = np.array([[0, 1, 2, 3, 4, 5], [6, 7, 0, 4, 5, 5]])


@pytest.fixture
def records(tmp_path):
    top = {0: [(0, [0.1, 2.0, 5.0, 0.0, 1.0, 0.0]), (1, [3.0, -1.0, 0.5, 4.0, 0.0, 0.0])],
           1: [(1, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0])]}
    random_acts = np.zeros((1, 6, 2), np.float32)
    random_acts[0, :, 0] = [0.1, 2.0, 5.0, 0.0, 1.0, 0.0]  # sequence 0 again: counted once
    random_acts[0, :, 1] = [1.0, 0.0, 0.0, 0.0, 0.0, -2.0]
    return write_records(tmp_path / "rec", TOKENS, SEQUENCES, top, n_neurons=2, random=[0],
                         random_acts=random_acts)


def test_words_span_tokens_and_aggregate_per_neuron(records):
    words = {w.word: w for w in top_words(records, 0, 0)}
    # "strawberry" twice: max(2, 5) = 5 in sequence 0, max(3, -1) = 3 in sequence 1
    assert words["strawberry"].max_act == 5.0 and words["strawberry"].count == 2
    assert words["strawberry"].mean_act == pytest.approx(4.0) and words["strawberry"].min_act == 3.0
    assert words["red"].max_act == 4.0 and words["red"].mean_act == pytest.approx(2.5)
    assert words["the"].count == 2 and words["the"].max_act == pytest.approx(0.5)
    assert [w.word for w in top_words(records, 0, 0)] == ["strawberry", "red", "the", "is"]
    assert [w.word for w in top_words(records, 0, 0, top=2)] == ["strawberry", "red"]
    assert [w.word for w in top_words(records, 0, 0, min_count=2)] == ["strawberry", "red", "the"]


def test_neuron_with_only_random_records(records):
    words = {w.word: w for w in top_words(records, 0, 1)}
    # neuron 1: top record sequence 1 (all zero), random sequence 0
    assert words["the"].max_act == 1.0 and words["the"].count == 2
    assert words["red"].count == 2 and words["red"].min_act == 0.0


def test_files_round_trip_and_cli(records, capsys):
    paths = write_top_words(records, top=3)
    assert paths == [records / "top_words_00.csv.gz"]
    with gzip.open(paths[0], "rt") as fh:
        assert fh.readline().strip() == "layer,neuron,rank,word,max_act,mean_act,min_act,count"
    back = read_top_words(records, 0)
    assert [w.word for w in back[0]] == ["strawberry", "red", "the"]
    assert back[0] == top_words(records, 0, 0, top=3)
    assert main(["top-words", "--records", str(records), "--layers", "0", "--top", "2", "--show", "0"]) == 0
    out = capsys.readouterr().out
    assert "strawberry" in out and "5" in out
    assert (records / "top_words.json").is_file()


def test_bad_input(records, capsys):
    with pytest.raises(SuperposeError, match="neuron 2 is out of range"):
        top_words(records, 0, 2)
    with pytest.raises(SuperposeError, match="no records for layer 3"):
        top_words(records, 3, 0)
    with pytest.raises(SuperposeError, match="at least 1"):
        write_top_words(records, top=0)
    assert main(["top-words", "--records", str(records), "--layers", "4"]) == 2
    assert "no records for layer(s) [4]" in capsys.readouterr().err
    assert not (records / "top_words_04.csv.gz").exists()
