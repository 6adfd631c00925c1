"""Importing the paper's own reference: topic-metrics count trees and published NPMI matrices.

The files are written in the reference's layouts by tests/reference_helpers.py (brute force, from
the same text) and checked against our own lim-lauw count of that text.
"""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest

import superpose
from superpose.cli import main
from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.corpus.build import CorpusParams, build_corpus
from superpose.corpus.matrix import NpmiMatrix
from superpose.corpus.npmi import coherence, npmi_matrix
from superpose.corpus.reference_import import import_npmi_matrix, import_topic_metrics
from superpose.corpus.store import CorpusCounts, load_corpus
from superpose.mining.store import read_unit
from tests.mining_helpers import CLUSTERS, PARAMS, WORDS, make_model
from tests.reference_helpers import (
    n_windows,
    reference_counts,
    reference_npmi,
    write_npmi_matrix,
    write_topic_metrics,
)

WINDOW = 10


def _text(folder):
    """Cluster documents with the lines the reference counts although they hold no word."""
    rng = np.random.default_rng(1)
    groups = [g.split() for g in CLUSTERS.values()]
    lines = []
    for i in range(300):
        group = groups[rng.integers(len(groups))]
        words = list(rng.choice(group, size=8, replace=False)) + list(rng.choice(WORDS, size=int(rng.integers(0, 9))))
        lines.append(" ".join(rng.permutation(words)))
        if i % 37 == 0:
            lines.append(["", "2024 17 3", "-- ...", "   "][i % 4])
    path = folder / "clusters.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def _ours(text, folder, min_windows):
    params = CorpusParams(window=WINDOW, min_count=5, stopwords="keep", min_length=1, convention="lim-lauw",
                          min_windows=min_windows)
    return build_corpus([str(text)], folder, params)


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    return _text(tmp_path_factory.mktemp("text"))


@pytest.mark.parametrize("min_windows", [0, 40])
def test_topic_metrics_counts_import_as_our_count_of_the_same_text(tmp_path, text, min_windows):
    ours = _ours(text, tmp_path / "ours", min_windows)
    vocab2id = write_topic_metrics(text, ours.vocab, WINDOW, tmp_path / "tm")
    got = import_topic_metrics(tmp_path / "tm", vocab2id, WINDOW, tmp_path / "imported", min_windows=min_windows)
    assert isinstance(got, CorpusCounts) and got.vocab == sorted(ours.vocab)
    assert got.n_windows == ours.n_windows and got.convention == "lim-lauw" and got.min_windows == min_windows
    assert got.meta["lines"] == ours.meta["lines"] and got.meta["imported"]["format"] == "topic-metrics"
    order = [ours.index[w] for w in got.vocab]
    np.testing.assert_array_equal(got.word_windows, np.asarray(ours.word_windows)[order])
    assert (got.pair_windows != ours.pair_windows[order][:, order]).nnz == 0
    ids = np.arange(len(got.vocab))
    np.testing.assert_array_equal(npmi_matrix(got, ids), npmi_matrix(ours, order))
    histogram, single, joint = reference_counts(text, got.vocab, WINDOW)
    want = reference_npmi(single, joint, n_windows(histogram, WINDOW), min_windows)
    np.fill_diagonal(want, 0.0)
    np.testing.assert_allclose(npmi_matrix(got, ids), want, rtol=1e-12, atol=1e-12)
    if min_windows:  # the threshold matters on this text
        assert ((joint > 0) & (joint < min_windows)).any()


def test_npmi_matrix_is_read_directly(tmp_path, text, capsys):
    vocab = _ours(text, tmp_path / "ours", 0).vocab
    npy, vocab2id = write_npmi_matrix(text, vocab, WINDOW, 0, tmp_path / "published")
    out = tmp_path / "wiki"
    assert main(["corpus", "import", "--format", "npmi-matrix", "--npmi", str(npy), "--vocab", str(vocab2id),
                 "--out", str(out)]) == 0
    assert "memory-mapped, not copied" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["meta.json", "vocab.txt"]  # the matrix is not copied
    source = load_corpus(out)
    assert isinstance(source, NpmiMatrix) and isinstance(source.matrix, np.memmap)
    published = np.load(npy)
    words = ["apple", "banana", "comet", "nosuchword", "cherry"]
    result = coherence(source, words)
    ids = [source.index[w] for w in result.words]
    assert result.unknown == ["nosuchword"] and result.never_cooccur is None
    expected = published[np.ix_(ids, ids)].astype(np.float64)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_array_equal(result.matrix, expected)
    assert main(["coherence", "--corpus", str(out), "--json", *words]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["never_cooccur"] is None and shown["npmi"] == pytest.approx(result.npmi)
    assert main(["coherence", "--corpus", str(out), "--convention", "lim-lauw", *words]) == 0
    assert "not known (an NPMI matrix" in capsys.readouterr().out


def test_mine_baseline_and_api_on_a_matrix_equal_the_counts(tmp_path, text):
    """The same text's reference as counts (lim-lauw) and as a float64 matrix mine the same topics."""
    counts_dir = tmp_path / "ours"
    vocab = _ours(text, counts_dir, 3).vocab
    npy, vocab2id = write_npmi_matrix(text, vocab, WINDOW, 3, tmp_path / "published", dtype="float64")
    matrix_dir = import_npmi_matrix(npy, vocab2id, tmp_path / "matrix")
    model = make_model(tmp_path)
    runs = [superpose.mine(str(model), str(corpus), str(tmp_path / name), layers="1", neurons="0-5",
                           projection=ProjectionConfig(tau=40), mining=MiningConfig(**PARAMS),
                           execution=ExecutionConfig(executor="serial"), progress=False)
            for corpus, name in ((counts_dir, "runs-counts"), (matrix_dir, "runs-matrix"))]
    found = 0
    for unit in range(6):
        for polarity in ("pos", "neg"):
            a, b = (read_unit(run, 1, unit, polarity) for run in runs)
            assert a["pool"] == b["pool"]
            assert [t["words"] for t in a["topics"]] == [t["words"] for t in b["topics"]]
            assert [t["score"] for t in a["topics"]] == pytest.approx([t["score"] for t in b["topics"]], abs=1e-9)
            assert all(t["never_cooccur"] == -1 for t in b["topics"])
            found += len(b["topics"])
    assert found > 0
    unit = superpose.mine_unit(str(model), str(matrix_dir), 1, 0, tau=40, **PARAMS)
    assert [t.words for t in unit.topics] == [t["words"] for t in read_unit(runs[1], 1, 0, "pos")["topics"]]
    random_dir = superpose.baseline(str(runs[1]), execution=ExecutionConfig(executor="serial"), progress=False)
    assert any(read_unit(random_dir, 1, u, "pos")["pool"] for u in range(6))


# --- bad input: one line, nothing written ------------------------------------------------------

def _cli_fails(tmp_path, capsys, *args, match):
    out = tmp_path / "bad-out"
    assert main(["corpus", "import", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not out.exists()


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_pickles_that_are_not_plain_data_are_refused(tmp_path, text, capsys):
    vocab = _ours(text, tmp_path / "ours", 0).vocab
    npy, vocab2id = write_npmi_matrix(text, vocab, WINDOW, 0, tmp_path / "published")
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"apple": _Evil(marker)}))
    _cli_fails(tmp_path, capsys, "--format", "npmi-matrix", "--npmi", str(npy), "--vocab", str(evil),
               match="is refused: it asks for posix.system")
    assert not marker.exists()
    from collections import OrderedDict

    evil.write_bytes(pickle.dumps(OrderedDict(apple=0)))
    _cli_fails(tmp_path, capsys, "--format", "npmi-matrix", "--npmi", str(npy), "--vocab", str(evil),
               match="it asks for collections.OrderedDict")
    evil.write_bytes(pickle.dumps({"apple": np.array([1, 2])}))
    _cli_fails(tmp_path, capsys, "--format", "npmi-matrix", "--npmi", str(npy), "--vocab", str(evil), match="refused")
    evil.write_bytes(pickle.dumps({"apple": 0, "pear": 0}))
    _cli_fails(tmp_path, capsys, "--format", "npmi-matrix", "--npmi", str(npy), "--vocab", str(evil),
               match="each once")
    evil.write_bytes(b"not a pickle")
    _cli_fails(tmp_path, capsys, "--format", "npmi-matrix", "--npmi", str(npy), "--vocab", str(evil),
               match="not a readable pickle")


def test_bad_matrices_are_refused(tmp_path, text, capsys):
    vocab = _ours(text, tmp_path / "ours", 0).vocab
    npy, vocab2id = write_npmi_matrix(text, vocab, WINDOW, 0, tmp_path / "published")
    good = np.load(npy)
    bad = tmp_path / "bad.npy"
    cases = [(good[:-1, :-1], "rows but the vocabulary has"), (good[:, :-1], "not a square matrix"),
             (good.astype(np.int32), "not floats")]
    nan = good.copy()
    nan[3, 5] = np.nan
    asym = good.copy()
    asym[np.triu_indices(len(good), 1)] = 0.5
    cases += [(nan, "entry (3, 5) is nan"), (asym, "not symmetric")]
    for array, match in cases:
        np.save(bad, array)
        _cli_fails(tmp_path, capsys, "--format", "npmi-matrix", "--npmi", str(bad), "--vocab", str(vocab2id),
                   match=match)
    bad.write_bytes(npy.read_bytes()[:-10])
    _cli_fails(tmp_path, capsys, "--format", "npmi-matrix", "--npmi", str(bad), "--vocab", str(vocab2id),
               match="the file is incomplete")
    _cli_fails(tmp_path, capsys, "--format", "npmi-matrix", "--npmi", str(npy), "--vocab", str(vocab2id),
               "--window", "10", match="takes no --window")
    # a matrix moved away after its import: one line from every stage that loads it
    out = import_npmi_matrix(npy, vocab2id, tmp_path / "moved")
    npy.rename(tmp_path / "elsewhere.npy")
    with pytest.raises(SuperposeError, match="is missing: put it back or import it again"):
        load_corpus(out)


def test_bad_count_trees_are_refused(tmp_path, text, capsys):
    vocab = _ours(text, tmp_path / "ours", 0).vocab
    tm = tmp_path / "tm"
    vocab2id = write_topic_metrics(text, vocab, WINDOW, tm)
    args = ["--format", "topic-metrics", "--counts", str(tm), "--vocab", str(vocab2id)]
    _cli_fails(tmp_path, capsys, *args, "--window", "5", match="has no 5/single.pkl")
    _cli_fails(tmp_path, capsys, *args, match="takes --counts DIR, --window W")
    joint = tm / str(WINDOW) / "joint"
    row = pickle.loads((joint / "3.pkl").read_bytes())
    other = next(k for k in row if k != 3)
    (joint / "3.pkl").write_bytes(pickle.dumps({**row, other: row[other] + 1}))
    _cli_fails(tmp_path, capsys, *args, "--window", str(WINDOW), match="are not symmetric")
    (joint / "3.pkl").write_bytes(pickle.dumps({**row, 3: row[3] + 1}))
    _cli_fails(tmp_path, capsys, *args, "--window", str(WINDOW), match="differs from single.pkl")
    (joint / "3.pkl").write_bytes(pickle.dumps({1.5: 2}))
    _cli_fails(tmp_path, capsys, *args, "--window", str(WINDOW), match="is not id -> count")
    (joint / "3.pkl").unlink()
    _cli_fails(tmp_path, capsys, *args, "--window", str(WINDOW), match="3.pkl is missing")
    (joint / "3.pkl").write_bytes(pickle.dumps(row))
    histogram = (tm / "histogram.csv").read_text()
    (tm / "histogram.csv").write_text(histogram + "\nten,3")
    _cli_fails(tmp_path, capsys, *args, "--window", str(WINDOW), match="histogram.csv, line")
    (tm / "histogram.csv").write_text(histogram)
    assert main(["corpus", "import", *args, "--window", str(WINDOW), "--out", str(tmp_path / "fine")]) == 0
    assert "imported, topic-metrics" in capsys.readouterr().out
