"""Steering a concept on a tiny in-process GPT-2: the activations move along the concept's row so its
code is the clamp value; a basis-vector concept steers exactly like its neuron; a huge clamp in the last
layer promotes the token its output direction reads as; `compare` scores concept records end to end and
refuses what it cannot steer in one line."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from superpose.activations.steering import Steerer, SteeringParams, WordTokens
from superpose.concepts.fit import output_directions
from superpose.core.errors import SuperposeError
from superpose.models import load_model
from superpose.units.concepts import read_concepts, save_concepts
from tests.mining_helpers import make_corpus, tokens
from tests.model_helpers import INTER, LAYERS, byte_level_tokenizer, save_tiny
from tests.test_compare import FakeSimulator
from tests.test_steering import WordTokenizer

PROMPTS = ("apple banana", "boat coral crab", "moon")
PARAMS = SteeringParams(new_tokens=3, top_tokens=5)


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    folder = tmp_path_factory.mktemp("steer-gpt2")
    path = save_tiny("gpt2", folder / "tiny-gpt2", byte_level_tokenizer(tokens()))
    return path, load_model(str(path)), make_corpus(folder)


def _concepts(folder, lm, layer, rows, method="pca", encoder=True, name="c"):
    """A concept file of unit ``rows`` (orthonormal for pca, so the encoder is their transpose)."""
    rows = np.asarray(rows, np.float32)
    path = save_concepts(folder / f"{name}.npz", concepts=rows, directions=output_directions(lm, layer, rows),
                         center=np.zeros(rows.shape[1], np.float32), scales=np.ones(len(rows), np.float32),
                         encoder=rows.T if encoder else None,
                         meta={"model": lm.name, "layer": layer, "method": method, "n": len(rows)})
    return read_concepts(path)


def _orthonormal(n, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((INTER, n)))
    return q.T


def test_a_basis_vector_concept_steers_like_its_neuron(gpt2, tmp_path):
    _, lm, _ = gpt2
    units = _concepts(tmp_path, lm, 1, np.eye(INTER)[[5, 9]])
    concept = Steerer(lm, PROMPTS, PARAMS, units=units).effect(1, 1, 4.0)
    neuron = Steerer(lm, PROMPTS, PARAMS).effect(1, 9, 4.0)
    np.testing.assert_allclose(concept.delta, neuron.delta, atol=1e-5)
    assert concept.continuations == neuron.continuations and np.abs(concept.delta).max() > 0.01
    other = Steerer(lm, PROMPTS, PARAMS).effect(1, 5, 4.0)
    assert np.abs(other.delta - concept.delta).max() > 1e-3  # the index picks the concept's own neuron


@pytest.mark.parametrize("method", ["pca", "nmf", "kmeans"])
def test_the_clamp_sets_the_concepts_part_and_keeps_the_rest(gpt2, tmp_path, method):
    """At the down projection's input the activations differ from the unsteered ones by a multiple of
    the concept's row; for PCA (encoder = the rows' dual) the concept's code there is the clamp value."""
    _, lm, _ = gpt2
    rows = _orthonormal(3)
    if method != "pca":  # nonnegative unit rows, as nmf and k-means on nonnegative activations learn
        rows = np.abs(rows) / np.linalg.norm(rows, axis=1, keepdims=True)
    units = _concepts(tmp_path, lm, 0, rows, method=method, encoder=method == "pca", name=method)
    module = lm.adapter.mlp_out_proj(lm.adapter.blocks(lm.model)[0])
    seen = []
    handle = module.register_forward_hook(lambda _m, args, _out: seen.append(args[0].detach().clone()))
    try:
        steerer = Steerer(lm, PROMPTS, SteeringParams(new_tokens=1), units=units)
        steerer.effect(0, 2, 3.5)
        steered = seen[0]
        seen.clear()
        with torch.inference_mode():
            lm.model(input_ids=steerer.ids, attention_mask=steerer.mask,
                     position_ids=(steerer.mask.cumsum(-1) - 1).clamp(min=0))
        plain = seen[0]
    finally:
        handle.remove()
    change = (steered - plain).reshape(-1, INTER).double()
    row = torch.from_numpy(rows[2]).double()
    along = change @ row
    np.testing.assert_allclose((change - along[:, None] * row).numpy(), 0, atol=1e-4)
    codes = units.encode(plain.reshape(-1, INTER))[:, 2].double()
    np.testing.assert_allclose(along.numpy(), (3.5 - codes).numpy(), atol=1e-4)
    if method == "pca":
        np.testing.assert_allclose(units.encode(steered)[..., 2].numpy(), 3.5, atol=1e-4)


def test_a_huge_clamp_in_the_last_layer_promotes_the_concepts_direct_token(gpt2, tmp_path):
    _, lm, _ = gpt2
    layer = LAYERS - 1
    units = _concepts(tmp_path, lm, layer, _orthonormal(2, seed=3))
    with torch.inference_mode():  # the residual is the direction times 1e4 plus O(1): the norm reads the direction
        normed = lm.adapter.final_norm(lm.model)(units.W_dec[1:2])[0]
        expected = int(torch.argmax(lm.adapter.unembedding(lm.model).weight @ normed))
    effect = Steerer(lm, PROMPTS, SteeringParams(new_tokens=1), units=units).effect(layer, 1, 1e4)
    assert effect.continuations == [lm.tokenizer.decode([expected])] * len(PROMPTS)
    assert effect.delta[expected] > 0


def test_bad_concept_steering_is_refused(gpt2, tmp_path):
    from superpose.units import load_sae
    from tests.model_helpers import HIDDEN
    from tests.sae_helpers import random_weights, write_saelens

    _, lm, _ = gpt2
    units = _concepts(tmp_path, lm, 1, _orthonormal(2))
    steerer = Steerer(lm, PROMPTS, units=units)
    with pytest.raises(SuperposeError, match="are at layer 1, not 0"):
        steerer.effect(0, 0, 1.0)
    with pytest.raises(SuperposeError, match="concept 2 out of range: .* holds 2 concepts"):
        steerer.effect(1, 2, 1.0)
    assert steerer.describe()["units"]["kind"] == "concepts" and Steerer(lm, PROMPTS).describe()["units"] is None
    sae = load_sae(write_saelens(tmp_path / "s", random_weights(HIDDEN), "blocks.1.hook_resid_post"))
    with pytest.raises(SuperposeError, match="steering SAE latents is not supported"):
        Steerer(lm, PROMPTS, units=sae)
    wide = save_concepts(tmp_path / "wide.npz", concepts=np.eye(INTER + 1, dtype=np.float32)[:2],
                         directions=np.zeros((2, HIDDEN), np.float32), center=np.zeros(INTER + 1, np.float32),
                         scales=np.ones(2, np.float32), encoder=np.eye(INTER + 1, dtype=np.float32)[:, :2],
                         meta={"model": lm.name, "layer": 1, "method": "pca"})
    with pytest.raises(SuperposeError, match="fit concepts on this model"):
        Steerer(lm, PROMPTS, units=read_concepts(wide))


def test_compare_steers_concept_records(gpt2, tmp_path, capsys):
    """Mine and record a fitted concept file, then compare: every concept has a clamp value and an output-side
    score; neuron steering on concept records, and the CLI without --units or on SAE records, are refused."""
    from superpose.cli import main
    from superpose.compare import CompareParams, compare

    model, lm, corpus = gpt2
    text = corpus.parent / "clusters.txt"
    concepts = tmp_path / "pca.npz"
    assert main(["concepts", "fit", "--model", str(model), "--method", "pca", "--corpus-source", str(text),
                 "--out", str(concepts), "--layer", "1", "--n", "4", "--max-tokens", "2048", "--seq-len", "16",
                 "--no-progress"]) == 0
    units = read_concepts(concepts)
    assert main(["mine", "--corpus", str(corpus), "--out", str(tmp_path / "o"), "--model", str(model),
                 "--units", str(concepts), "--tau", "40", "--kappa-l", "3", "--kappa-u", "6", "--k", "3",
                 "--workers", "1", "--no-progress"]) == 0
    run = tmp_path / "o" / f"tiny-gpt2--concepts-{units.name}" / "hi-c"
    assert main(["activations", "--out", str(tmp_path / "r"), "--model", str(model), "--corpus-source", str(text),
                 "--max-tokens", "1024", "--seq-len", "16", "--per-quantile", "0", "--top-k", "6", "--random", "6",
                 "--units", str(concepts), "--no-progress"]) == 0
    records = tmp_path / "r" / f"tiny-gpt2--concepts-{units.name}"
    rows = [{"layer": 1, "neuron": i, "status": "ok", "explanation": f"words {w}", "records_model": "tiny-gpt2"}
            for i, w in enumerate(["apple", "boat", "moon", "coral"])]
    explanations = tmp_path / "e.jsonl"
    explanations.write_text("".join(json.dumps(r) + "\n" for r in rows))
    steerer = Steerer(lm, PROMPTS, SteeringParams(new_tokens=2), units=units)
    steerer.word_tokens = WordTokens(WordTokenizer())  # the tiny BPE has no merges to spell words with
    out = compare(run, explanations, records, tmp_path / "out", simulator=FakeSimulator(), steerer=steerer,
                  params=CompareParams(max_topics=2, bootstrap=200), progress=False)
    lines = [json.loads(line) for line in (out / "steering.jsonl").read_text().splitlines()]
    live = [r for r in lines if r.get("clamp_value")]
    assert live and all(r["clamp_value"] > 0 and r["promoted"] for r in live)
    with open(out / "compare.csv") as fh:
        table = {int(r["neuron"]): r for r in csv.DictReader(fh)}
    for r in live:
        assert 0 <= float(table[r["neuron"]]["llm_output"]) <= 1
    meta = json.loads((out / "compare.json").read_text())
    assert meta["steering"]["units"]["decoder_sha256"] == units.decoder_sha256
    with pytest.raises(SuperposeError, match="the records hold the units of .* but steering clamps MLP neurons"):
        compare(run, explanations, records, tmp_path / "out2", simulator=FakeSimulator(),
                steerer=Steerer(lm, PROMPTS), progress=False)
    base = ["compare", "--results", str(run), "--explanations", str(explanations), "--records", str(records),
            "--out", str(tmp_path / "cli"), "--no-progress"]
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "holds records of concepts: give the concept file" in err and err.count("\n") == 1
    assert not (tmp_path / "cli").exists()
