"""Layer files: format, resuming, atomicity, pools, and the ``superpose project`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from superpose.cli import main
from superpose.core.errors import SuperposeError
from superpose.models import load_model
from superpose.projection.pools import TokenWords
from superpose.projection.project import neuron_logits
from superpose.projection.run import CorpusWords, project_to_files
from superpose.projection.store import FORMAT_VERSION, layer_path, load_layer
from tests.model_helpers import INTER, LAYERS, VOCAB, byte_level_tokenizer, save_tiny

torch.set_num_threads(1)

WORDS = ["alpha", "beta", "gamma", "delta", "omega", "zeta", "theta", "kappa", "sigma", "tau"]
TOKENS = ["<unk>"] + [f"Ġ{w}" for w in WORDS] + [w.upper() for w in WORDS] + \
    [f"Ġx{i}" for i in range(VOCAB - 1 - 2 * len(WORDS))]
CORPUS = ["kappa", "alpha", "gamma", "omega", "sigma", "beta"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return save_tiny("llama", tmp_path_factory.mktemp("m") / "tiny-llama",
                     tokenizer=byte_level_tokenizer(TOKENS))


@pytest.fixture(scope="module")
def lm(folder):
    return load_model(folder)


def test_files_round_trip_with_pools(lm, tmp_path):
    corpus = CorpusWords.from_vocab(CORPUS, "somewhere")
    paths = project_to_files(lm, "hi-c", [0, 2], tmp_path, neurons=[1, 4, 9], tau=30,
                             corpus=corpus, batch_size=2)
    assert paths == [layer_path(tmp_path, "tiny-llama", "hi-c", layer) for layer in (0, 2)]
    assert paths[0].name == "layer_00.npz" and paths[0].parent == tmp_path / "tiny-llama" / "hi-c"
    layer = load_layer(paths[1])
    meta = layer.meta
    assert (meta["mode"], meta["layer"], meta["tau"], meta["n_neurons"], meta["n_units"]) == \
        ("hi-c", 2, 30, 3, INTER)
    assert meta["format_version"] == FORMAT_VERSION and meta["versions"]["torch"]
    assert meta["corpus"]["vocab_size"] == len(CORPUS) and meta["corpus"]["mapped_words"] == 6
    assert json.loads(paths[1].with_suffix(".json").read_text()) == meta
    np.testing.assert_array_equal(layer.neurons, [1, 4, 9])
    full = neuron_logits(lm, "hi-c", 2, [1, 4, 9])
    ranked = np.sort(full, axis=1)
    np.testing.assert_allclose(layer.top_logits, ranked[:, ::-1][:, :30], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.bottom_logits, ranked[:, :30], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.take_along_axis(full, layer.top_ids, 1), layer.top_logits,
                               rtol=1e-5, atol=1e-6)
    mapping = TokenWords.build(lm.tokenizer, corpus.index, lm.vocab_size)
    for row in range(3):
        np.testing.assert_array_equal(layer.pool(row, "pos"), mapping.pool(layer.top_ids[row]))
        np.testing.assert_array_equal(layer.pool(row, "neg"), mapping.pool(layer.bottom_ids[row]))
    assert layer.row(9) == 2
    with pytest.raises(SuperposeError, match="polarity"):
        layer.pool(0, "up")


def test_resume_skips_complete_layers_and_redoes_changed_ones(lm, tmp_path):
    first = project_to_files(lm, "lo-i", [0, 1], tmp_path, tau=5)
    stamps = [p.stat().st_mtime_ns for p in first]
    seen = []
    project_to_files(lm, "lo-i", [0, 1], tmp_path, tau=5, on_units=seen.append)
    assert [p.stat().st_mtime_ns for p in first] == stamps and seen == [32, 32]
    project_to_files(lm, "lo-i", [1], tmp_path, tau=6)
    assert first[1].stat().st_mtime_ns != stamps[1] and load_layer(first[1]).meta["tau"] == 6
    project_to_files(lm, "lo-i", [0], tmp_path, tau=5, overwrite=True)
    assert first[0].stat().st_mtime_ns != stamps[0]


def test_on_layer_hears_of_each_layer_once_its_file_is_complete(lm, tmp_path):
    project_to_files(lm, "lo-i", [1], tmp_path, tau=5)
    heard = []

    def on_layer(path):
        heard.append((path.name, path.is_file(), path.with_suffix(".json").is_file()))

    paths = project_to_files(lm, "lo-i", [2, 1, 0], tmp_path, tau=5, on_layer=on_layer)
    assert [p.name for p in paths] == ["layer_02.npz", "layer_01.npz", "layer_00.npz"]  # the order given
    # layer 1 was complete already: heard at once, before layer 2's file (written beside layer 0's projection)
    assert sorted(heard) == [(p.name, True, True) for p in sorted(paths)]
    assert heard[0][0] == "layer_01.npz"


def test_interrupted_layer_leaves_no_file(lm, tmp_path):
    calls = []

    def stop_in_second_layer(n: int) -> None:
        calls.append(n)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        project_to_files(lm, "hi-i", [0, 1], tmp_path, tau=5, batch_size=INTER // 2,
                         on_units=stop_in_second_layer)
    folder = tmp_path / "tiny-llama" / "hi-i"
    assert sorted(p.name for p in folder.iterdir()) == ["layer_00.json", "layer_00.npz"]


def test_corpus_without_overlap(lm, tmp_path):
    with pytest.raises(SuperposeError, match="no token of this tokenizer"):
        project_to_files(lm, "hi-c", [0], tmp_path, tau=5,
                         corpus=CorpusWords.from_vocab(["nothing"]))


def test_cli_project(folder, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["project", "--model", str(folder), "--mode", "lo-c", "--layers", "1-2",
            "--neurons", "0,3-5", "--tau", "7", "--out", str(out), "--no-progress",
            "--batch-size", "3", "--threads", "1"]
    assert main(argv) == 0
    layer = load_layer(out / "tiny-llama" / "lo-c" / "layer_02.npz")
    assert layer.top_ids.shape == (4, 7) and layer.neurons.tolist() == [0, 3, 4, 5]
    assert "2 layer file(s)" in capsys.readouterr().out


@pytest.mark.parametrize("extra,message", [
    (["--layers", "0-9"], f"valid layers are 0-{LAYERS - 1}"),
    (["--neurons", f"{INTER}"], f"valid neurons are 0-{INTER - 1}"),
    (["--tau", str(VOCAB + 1)], f"choose 1-{VOCAB}"),
    (["--layers", "x"], "bad layer range"),
])
def test_cli_bad_input(folder, tmp_path, capsys, extra, message):
    argv = ["project", "--model", str(folder), "--out", str(tmp_path), "--no-progress", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("superpose: error: ") and message in err and "\n" not in err


def test_cli_unknown_mode(folder, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["project", "--model", str(folder), "--mode", "hi-z", "--out", str(tmp_path)])
    assert "hi-c" in capsys.readouterr().err
