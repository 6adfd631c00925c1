"""The probe (a unit's activations on texts) against the model's own forward pass, SAE latents
against their encoder on the model's hidden states, and the token dispersion score on hand-made
vectors and through the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from superpose.activations.dispersion import read_dispersion, sample_occurrences, token_dispersion
from superpose.activations.probe import probe
from superpose.cli import main
from superpose.core.errors import SuperposeError
from superpose.models import load_model
from superpose.units import load_sae
from tests.mining_helpers import tokens
from tests.model_helpers import HIDDEN, INTER, save_tiny, sentencepiece_tokenizer
from tests.records_helpers import write_records
from tests.sae_helpers import random_weights, write_saelens

TEXT = " apple banana storm"


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    spm = sentencepiece_tokenizer([t.replace("Ġ", "▁") for t in tokens()])
    return load_model(save_tiny("llama", tmp_path_factory.mktemp("probe") / "tiny-spm", spm))


def _full_forward(lm, text):
    ids = torch.tensor([lm.tokenizer.encode(text, add_special_tokens=False)])
    seen = {}
    proj = lm.model.model.layers[1].mlp.down_proj
    handle = proj.register_forward_pre_hook(lambda m, a: seen.__setitem__("x", a[0].detach()))
    with torch.no_grad():
        out = lm.model(input_ids=ids, output_hidden_states=True)
    handle.remove()
    return seen["x"][0].numpy(), [h[0] for h in out.hidden_states]


def test_neuron_activations_match_the_forward_pass(lm):
    (result,) = probe(lm, [TEXT], 1, [0, 7, INTER - 1])
    neurons, _ = _full_forward(lm, TEXT)
    assert [t.strip("▁ ") for t in result.tokens] == ["apple", "banana", "storm"]
    np.testing.assert_allclose(result.activations, neurons[:, [0, 7, INTER - 1]], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("hook", "state"), [("blocks.1.hook_resid_pre", 1), ("blocks.1.hook_resid_post", 2)])
def test_latents_are_the_encoder_on_the_hidden_states(lm, tmp_path, hook, state):
    w = random_weights(HIDDEN)
    sae = load_sae(write_saelens(tmp_path / "s", w, hook))
    (result,) = probe(lm, [TEXT], 1, sae=sae)
    _, hidden = _full_forward(lm, TEXT)
    pre = hidden[state].numpy() @ w["W_enc"] + w["b_enc"]
    np.testing.assert_allclose(result.activations, pre * (pre > w["threshold"]), rtol=1e-4, atol=1e-4)


def test_probe_bad_input(lm, tmp_path):
    with pytest.raises(SuperposeError, match=f"valid neurons are 0-{INTER - 1}"):
        probe(lm, [TEXT], 1, [INTER])
    with pytest.raises(SuperposeError, match="at least one non-empty text"):
        probe(lm, [], 1)
    sae = load_sae(write_saelens(tmp_path / "s", random_weights(HIDDEN), "blocks.1.hook_resid_post"))
    with pytest.raises(SuperposeError, match="hook is at layer 1, not 0"):
        probe(lm, [TEXT], 0, sae=sae)


def test_probe_cli(lm, capsys):
    folder = lm.source
    assert main(["probe", "--model", folder, "--layer", "1", "--units", "0,7", TEXT]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# ' apple banana storm'") and len(lines) == 4
    assert main(["probe", "--model", folder, "--units", "0", TEXT]) == 2
    assert "give --layer" in capsys.readouterr().err


def test_dispersion_on_hand_made_vectors():
    rng = np.random.default_rng(0)
    # token 1: six occurrences around one direction; token 2: six occurrences scattered among
    # token 3's occurrences (one shared direction), so its neighbours are mostly token 3
    tight = np.array([1.0, 0, 0, 0]) + rng.normal(size=(6, 4)) * 0.01
    shared = np.array([0, 1.0, 0, 0]) + rng.normal(size=(12, 4)) * 0.05
    hidden = np.concatenate([tight, shared]).astype(np.float32)
    tokens = np.array([1] * 6 + [2, 3] * 6)
    scores = {s.token: s for s in token_dispersion(hidden, tokens, k=3)}
    assert scores[1].other_share == 0.0 and scores[1].mean_distance < 1e-3
    assert scores[2].other_share > 0.3 and scores[2].mean_distance > scores[1].mean_distance
    assert scores[1].occurrences == 6


def test_occurrence_sample_caps_and_drops():
    tokens = np.array([5] * 10 + [6] * 2 + [7] * 3)
    keep = sample_occurrences(tokens, max_per_token=4, min_occurrences=3)
    assert sorted(np.bincount(tokens[keep]).tolist()[5:]) == [0, 3, 4]
    with pytest.raises(SuperposeError, match="do not match"):
        token_dispersion(np.zeros((3, 2)), np.zeros(4))


def test_dispersion_cli(lm, tmp_path):
    vocab = lm.tokenizer.convert_ids_to_tokens(list(range(len(lm.tokenizer))))
    text = {i: t.replace("▁", " ") for i, t in enumerate(vocab)}
    rng = np.random.default_rng(1)
    sequences = rng.integers(3, 40, size=(16, 8))
    records = write_records(tmp_path / "rec", text, sequences, {}, n_neurons=INTER)
    meta = records / "meta.json"
    meta.write_text(meta.read_text().replace('"hand-made"', f'"{lm.name}"'))
    assert main(["dispersion", "--records", str(records), "--model", lm.source, "--layers", "0,2",
                 "--out", str(tmp_path / "d"), "--k", "3", "--no-progress"]) == 0
    scores = read_dispersion(tmp_path / "d" / "dispersion_02.csv")
    assert scores and all(0 <= s.other_share <= 1 for s in scores.values())
    assert (tmp_path / "d" / "dispersion.json").is_file()
