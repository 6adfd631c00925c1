"""Concept units: every method end to end on a tiny GPT-2 (deterministic, directions = W_down @ c,
held-out metrics), semi-NMF on a hand-made matrix, the concept file's round trip, `mine --units` and
the probe on a concept file, and bad concept files refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from superpose.activations.probe import capture, probe
from superpose.cli import main
from superpose.concepts.seminmf import semi_nmf
from superpose.config import CONCEPT_METHODS
from superpose.core.errors import SuperposeError
from superpose.models import load_model
from superpose.units import load_sae
from superpose.units.concepts import nonneg_codes, read_concepts, save_concepts
from tests.mining_helpers import make_corpus, tokens
from tests.model_helpers import HIDDEN, INTER, byte_level_tokenizer, save_tiny

FIT = ["--layer", "1", "--n", "4", "--max-tokens", "2048", "--seq-len", "16", "--max-iter", "50", "--no-progress"]
OPTIONS = ["--tau", "40", "--kappa-l", "3", "--kappa-u", "6", "--k", "3", "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("concepts")
    corpus = make_corpus(folder)
    model = save_tiny("gpt2", folder / "tiny-gpt2", byte_level_tokenizer(tokens()))
    return model, corpus, folder / "clusters.txt"


@pytest.fixture(scope="module")
def fitted(inputs, tmp_path_factory):
    model, _, text = inputs
    folder = tmp_path_factory.mktemp("fits")
    files = {}
    for method in CONCEPT_METHODS:
        files[method] = folder / f"{method}.npz"
        assert main(["concepts", "fit", "--model", str(model), "--method", method, "--corpus-source", str(text),
                     "--out", str(files[method]), *FIT]) == 0
    return files


@pytest.mark.parametrize("method", CONCEPT_METHODS)
def test_every_method_runs_end_to_end_and_is_deterministic(inputs, fitted, tmp_path, method):
    model, _, text = inputs
    again = tmp_path / "again.npz"
    assert main(["concepts", "fit", "--model", str(model), "--method", method, "--corpus-source", str(text),
                 "--out", str(again), *FIT]) == 0
    first, second = read_concepts(fitted[method]), read_concepts(again)
    for name in ("concepts", "W_dec", "center", "scales"):
        assert torch.equal(getattr(first, name), getattr(second, name)), name
    assert first.method == method and first.d_sae == 4 and first.d_mlp == INTER and first.d_in == HIDDEN
    np.testing.assert_allclose(first.concepts.norm(dim=1).numpy(), 1.0, rtol=1e-5)
    # the output direction is W_down @ c (GPT-2's Conv1D stores W_down as (in, out)), no bias
    lm = load_model(model)
    weight = lm.model.transformer.h[1].mlp.c_proj.weight.detach()
    np.testing.assert_allclose(first.W_dec.numpy(), (first.concepts @ weight).numpy(), rtol=1e-4, atol=1e-5)
    meta = first.meta
    assert meta["model"] == "tiny-gpt2" and meta["layer"] == 1 and meta["params"]["seed"] == 0
    assert meta["versions"]["scikit-learn"] and meta["corpus"]["held_out_tokens"] > 0
    held = meta["metrics"]["held_out"]
    assert held["tokens"] == meta["corpus"]["held_out_tokens"] and 0 <= held["share_zero"] <= 1
    # the held-out numbers are the file's encoder: recompute them from the stored arrays
    ids = torch.tensor([lm.tokenizer.encode(" apple banana storm cloud fish", add_special_tokens=False)])
    acts = capture(lm, ids, 1, "neurons")[0]
    codes = first.encode(acts)
    assert codes.shape == (ids.shape[1], 4)
    if method in ("nmf", "semi-nmf"):
        assert (codes >= 0).all()
    if method == "kmeans":
        assert ((codes != 0).sum(1) == 1).all()
    if method in ("pca", "ica"):
        np.testing.assert_allclose(codes.numpy(), ((acts - first.center) @ first.encoder).numpy(), rtol=1e-5)
    (result,) = probe(lm, [" apple banana storm cloud fish"], 1, sae=first)
    np.testing.assert_allclose(result.activations, codes.numpy(), rtol=1e-4, atol=1e-5)


def test_pca_reconstructs_better_with_more_concepts(inputs, tmp_path):
    model, _, text = inputs
    fvu = []
    for n in (2, 8):
        out = tmp_path / f"pca{n}.npz"
        args = [a if a != "4" else str(n) for a in FIT]
        assert main(["concepts", "fit", "--model", str(model), "--method", "pca", "--corpus-source", str(text),
                     "--out", str(out), *args]) == 0
        fvu.append(read_concepts(out).meta["metrics"]["train"]["fvu"])
    assert 0 < fvu[1] < fvu[0] < 1


def test_semi_nmf_on_a_hand_made_matrix():
    rng = np.random.default_rng(1)
    z_true = np.abs(rng.standard_normal((300, 3)))
    d_true = rng.standard_normal((3, 12))  # signed: plain NMF could not fit it
    a = z_true @ d_true
    z, d, errors = semi_nmf(a, 3, max_iter=300, tol=0, seed=0)
    assert (z >= 0).all()
    assert all(later <= earlier + 1e-12 for earlier, later in zip(errors, errors[1:], strict=False))
    assert errors[-1] < 0.05 * errors[0] and errors[-1] < 0.01
    np.testing.assert_allclose(z @ d, a, atol=0.2 * np.abs(a).max())
    again = semi_nmf(a, 3, max_iter=300, tol=0, seed=0)
    assert np.array_equal(again[1], d)
    # the encoder's nonnegative codes recover the true codes for a known dictionary
    codes = nonneg_codes(torch.from_numpy(a), torch.from_numpy(d_true), iterations=500)
    np.testing.assert_allclose(codes.numpy(), z_true, atol=1e-2)


def _arrays(n=3, d_mlp=6, d_model=4):
    rng = np.random.default_rng(0)
    concepts = rng.standard_normal((n, d_mlp)).astype(np.float32)
    return {"concepts": concepts, "directions": rng.standard_normal((n, d_model)).astype(np.float32),
            "center": rng.standard_normal(d_mlp).astype(np.float32), "scales": np.ones(n, np.float32),
            "encoder": concepts.T.copy()}


def test_concept_file_round_trip(tmp_path):
    arrays = _arrays()
    path = save_concepts(tmp_path / "c.npz", **arrays, meta={"model": "m", "layer": 2, "method": "pca", "n": 3})
    units = read_concepts(path)
    for name, attr in (("concepts", "concepts"), ("directions", "W_dec"), ("center", "center"),
                       ("encoder", "encoder"), ("scales", "scales")):
        np.testing.assert_array_equal(getattr(units, attr).numpy(), arrays[name])
    assert units.layer == 2 and units.hook.site == "mlp_out" and units.in_hook.site == "neurons"
    assert units.identity()["kind"] == "concepts" and len(units.identity()["file_sha256"]) == 64
    assert load_sae(path).identity() == units.identity()
    x = torch.randn(5, 6)
    np.testing.assert_allclose(units.encode(x).numpy(), ((x - units.center) @ units.encoder).numpy(), rtol=1e-5)


@pytest.mark.parametrize(("change", "message"), [
    (lambda a, m: m.update(format="other"), "format is not 'superpose-concepts'"),
    (lambda a, m: m.pop("layer"), "meta lacks 'layer'"),
    (lambda a, m: m.update(method="lda"), "method 'lda' is unknown"),
    (lambda a, m: a.update(center=np.zeros(5, np.float32)), "center has shape"),
    (lambda a, m: a.pop("encoder"), "needs an encoder"),
    (lambda a, m: a.update(directions=np.full((3, 4), np.nan, np.float32)), "NaN"),
])
def test_bad_concept_files_are_one_line_errors(tmp_path, capsys, inputs, change, message):
    arrays, meta = _arrays(), {"model": "m", "layer": 1, "method": "pca"}
    change(arrays, meta)
    path = tmp_path / "bad.npz"
    body = {k: v for k, v in arrays.items()}
    body["meta"] = np.frombuffer(json.dumps({"format": "superpose-concepts", "format_version": 1, **meta}).encode()
                                 if "format" not in meta else json.dumps({"format_version": 1, **meta}).encode(),
                                 dtype=np.uint8)
    np.savez(path, **body)
    with pytest.raises(SuperposeError, match=message):
        read_concepts(path)
    model, corpus, _ = inputs
    assert main(["mine", "--corpus", str(corpus), "--out", str(tmp_path / "o"), "--model", str(model),
                 "--units", str(path), *OPTIONS]) == 2
    err = capsys.readouterr().err
    assert message.split("'")[0] in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_concept_file_of_another_model_or_a_bad_out_is_refused(inputs, tmp_path, capsys):
    model, corpus, text = inputs
    path = save_concepts(tmp_path / "c.npz", **_arrays(d_mlp=INTER + 1, d_model=HIDDEN),
                         meta={"model": "m", "layer": 1, "method": "pca"})
    assert main(["mine", "--corpus", str(corpus), "--out", str(tmp_path / "o"), "--model", str(model),
                 "--units", str(path), *OPTIONS]) == 2
    assert f"{INTER} MLP neurons" in capsys.readouterr().err
    assert main(["concepts", "fit", "--model", str(model), "--method", "pca", "--corpus-source", str(text),
                 "--out", str(tmp_path / "c.txt"), *FIT]) == 2
    assert "must end in .npz" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["concepts", "fit", "--model", str(model), "--method", "lda", "--out", "x.npz", *FIT])
    assert "invalid choice: 'lda'" in capsys.readouterr().err
    assert main(["concepts", "fit", "--model", str(model), "--method", "pca", "--corpus-source", str(text),
                 "--out", str(tmp_path / "x.npz"), *FIT[:2], "--n", "0"]) == 2
    assert "--n must be" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_mine_units_on_a_concept_file(inputs, fitted, tmp_path):
    model, corpus, _ = inputs
    units = read_concepts(fitted["pca"])
    out = tmp_path / "o"
    assert main(["mine", "--corpus", str(corpus), "--out", str(out), "--model", str(model),
                 "--units", str(fitted["pca"]), *OPTIONS]) == 0
    run = out / f"tiny-gpt2--concepts-{units.name}" / "hi-c"
    request = json.loads((run / "run.json").read_text())["request"]
    assert request["units"]["kind"] == "concepts" and request["units"]["method"] == "pca"
    assert request["layers"] == "1" and request["neurons"] == "0-3"
    from superpose.projection.project import neuron_logits
    from superpose.projection.store import load_layer

    layer = load_layer(run / "layer_01.npz")
    logits = neuron_logits(load_model(model), "hi-c", 1, source=units)
    for row, ids in zip(logits, layer.top_ids, strict=True):
        assert set(ids[:5].tolist()) == set(np.argsort(-row, kind="stable")[:5].tolist())
    # --sae is the same option
    assert main(["mine", "--corpus", str(corpus), "--out", str(tmp_path / "o2"), "--model", str(model),
                 "--sae", str(fitted["pca"]), *OPTIONS]) == 0
    assert main(["report", "--results", str(run), "--out", str(tmp_path / "rep"), "--units", str(fitted["pca"]),
                 "--no-progress"]) == 0
    assert (tmp_path / "rep" / "index.html").is_file()
    assert main(["report", "--results", str(run), "--out", str(tmp_path / "rep2"), "--units", str(fitted["ica"]),
                 "--no-progress"]) == 2
    assert not (tmp_path / "rep2").exists()


def test_records_and_top_words_of_concepts(inputs, fitted, tmp_path, capsys):
    from superpose.activations.formats import RecordStore

    model, _, text = inputs
    out = tmp_path / "r"
    base = ["activations", "--out", str(out), "--model", str(model), "--corpus-source", str(text),
            "--max-tokens", "512", "--seq-len", "16", "--per-quantile", "0", "--top-k", "5", "--random", "5",
            "--no-progress"]
    assert main([*base, "--units", str(fitted["pca"])]) == 0
    units = read_concepts(fitted["pca"])
    folder = out / f"tiny-gpt2--concepts-{units.name}"
    store = RecordStore(folder)
    assert store.meta["units"]["kind"] == "concepts" and store.meta["n_neurons"] == 4 and store.layers == [1]
    layer = store.layer(1)
    # the top record's peak is the concept's activation on that sequence, computed from the model
    lm = load_model(model)
    seq = int(layer.top_ids[0, 2])
    codes = units.encode(capture(lm, torch.from_numpy(store.sequences[seq:seq + 1].astype(np.int64)), 1, "neurons"))
    np.testing.assert_allclose(layer.top_max[0, 2], codes[0, :, 2].max().item(), rtol=1e-4, atol=1e-5)
    assert main(["top-words", "--records", str(folder), "--units", str(fitted["pca"]), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["top-words", "--records", str(folder), "--units", str(fitted["nmf"]), "--no-progress"]) == 2
    assert "holds the units of" in capsys.readouterr().err
    assert main([*base, "--layers", "0", "--units", str(fitted["pca"])]) == 2
    assert "at layer 1" in capsys.readouterr().err
    assert main([*base, "--layers", "1"]) == 0
    assert main(["top-words", "--records", str(out / "tiny-gpt2"), "--units", str(fitted["pca"]),
                 "--no-progress"]) == 2
    assert "holds MLP neurons" in capsys.readouterr().err


def test_records_of_sae_latents_read_their_hook(inputs, tmp_path):
    from superpose.activations.formats import RecordStore
    from tests.sae_helpers import random_weights, write_saelens

    model, _, text = inputs
    w = random_weights(HIDDEN)
    sae = load_sae(write_saelens(tmp_path / "s", w, "blocks.1.hook_resid_post"))
    out = tmp_path / "r"
    assert main(["activations", "--out", str(out), "--model", str(model), "--corpus-source", str(text),
                 "--max-tokens", "256", "--seq-len", "16", "--per-quantile", "0", "--top-k", "3", "--random", "3",
                 "--units", str(sae.path), "--no-progress"]) == 0
    store = RecordStore(out / f"tiny-gpt2--sae-{sae.name}")
    layer = store.layer(1)
    assert store.meta["units"]["kind"] == "sae" and layer.top_acts.shape[-1] == sae.d_sae
    lm = load_model(model)
    seq = int(layer.top_ids[0, 0])
    ids = torch.from_numpy(store.sequences[seq:seq + 1].astype(np.int64))
    expected = sae.encode(capture(lm, ids, 1, "resid_post"))[0, :, 0]
    np.testing.assert_allclose(layer.top_acts[0, :, 0], expected.numpy(), rtol=1e-4, atol=1e-5)
