"""SAE and transcoder latents as units: each format read, decoder rows projected in Hi-I and Hi-C
against computations from the raw weights, encoders against numpy, and bad input refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from superpose.core.errors import SuperposeError
from superpose.models import load_model
from superpose.projection.project import neuron_logits, project_layer
from superpose.units import load_sae, parse_hook
from tests.model_helpers import HIDDEN, LAYERS, save_tiny
from tests.sae_helpers import D_SAE, random_weights, write_gemmascope, write_saelens, write_sparsify
from tests.test_projection import assert_close, final_logits, forward_with_residual

torch.set_num_threads(1)
LATENTS = [0, 4, D_SAE - 1]


@pytest.fixture(scope="module", params=["llama", "gpt2", "gemma3"])
def tiny(request, tmp_path_factory):
    return request.param, load_model(save_tiny(request.param, tmp_path_factory.mktemp(request.param)))


def write(fmt: str, root, w, layer: int, site: str):
    """One SAE of format ``fmt`` at block ``layer``, ``site`` resid_post, resid_pre or mlp_out."""
    if fmt == "saelens":
        return write_saelens(root / "sl", w, f"blocks.{layer}.hook_{site}")
    if fmt == "sparsify":
        return write_sparsify(root / "sp", w, f"layers.{layer}" + (".mlp" if site == "mlp_out" else ""))
    return write_gemmascope(root / "gs", w, layer, "mlp" if site == "mlp_out" else "res")


CASES = [("saelens", "resid_post"), ("saelens", "resid_pre"), ("saelens", "mlp_out"),
         ("sparsify", "resid_post"), ("sparsify", "mlp_out"), ("gemmascope", "resid_post"),
         ("gemmascope", "mlp_out")]


@pytest.mark.parametrize(("fmt", "site"), CASES)
@pytest.mark.parametrize("layer", [0, LAYERS - 1])
def test_decoder_rows_project_like_the_raw_weights(tiny, tmp_path, fmt, site, layer):
    family, lm = tiny
    w = random_weights(HIDDEN, seed=layer)
    sae = load_sae(write(fmt, tmp_path, w, layer, site))
    assert (sae.format, sae.layer, sae.hook.site, sae.d_sae) == (fmt, layer, site, D_SAE)
    rows = torch.from_numpy(w["W_dec"][LATENTS])
    with torch.no_grad():
        expected_i = final_logits(lm.model, family, rows).numpy()
    first = layer if site == "resid_pre" else layer + 1
    expected_c = forward_with_residual(lm.model, family, rows, first, LAYERS - 1).numpy()
    assert_close(neuron_logits(lm, "hi-i", layer, LATENTS, source=sae), expected_i)
    assert_close(neuron_logits(lm, "hi-c", layer, LATENTS, source=sae, batch_size=2), expected_c)
    if first < LAYERS:  # the references differ, so the comparisons can fail
        assert np.abs(expected_c - expected_i).max() > 1e-3


def test_project_layer_over_all_latents(tiny, tmp_path):
    _, lm = tiny
    sae = load_sae(write("saelens", tmp_path, random_weights(HIDDEN), 1, "resid_post"))
    proj = project_layer(lm, "hi-c", 1, tau=5, source=sae)
    np.testing.assert_array_equal(proj.neurons, np.arange(D_SAE))
    full = neuron_logits(lm, "hi-c", 1, source=sae)
    assert_close(proj.top_logits, np.sort(full, axis=1)[:, ::-1][:, :5])


# --- encoders ----------------------------------------------------------------------------------

def _relu(x):
    return np.maximum(x, 0)


def test_encoders_match_numpy(tmp_path):
    w = random_weights(HIDDEN)
    x = np.random.default_rng(5).normal(size=(4, HIDDEN)).astype(np.float32)
    pre = x @ w["W_enc"] + w["b_enc"]
    jump = load_sae(write_saelens(tmp_path / "j", w, "blocks.1.hook_resid_post"))
    np.testing.assert_allclose(jump.encode(torch.from_numpy(x)).numpy(), pre * (pre > w["threshold"]),
                               rtol=1e-5, atol=1e-5)
    relu = load_sae(write_saelens(tmp_path / "r", w, "blocks.1.hook_resid_post", architecture="standard",
                                  apply_b_dec_to_input=True))
    expected = _relu((x - w["b_dec"]) @ w["W_enc"] + w["b_enc"])
    np.testing.assert_allclose(relu.encode(torch.from_numpy(x)).numpy(), expected, rtol=1e-5, atol=1e-5)
    topk = load_sae(write_sparsify(tmp_path, w, "layers.1", k=3))
    dense = _relu((x - w["b_dec"]) @ w["W_enc"] + w["b_enc"])
    keep = np.argsort(-dense, axis=1)[:, :3]
    expected = np.zeros_like(dense)
    np.put_along_axis(expected, keep, np.take_along_axis(dense, keep, 1), 1)
    np.testing.assert_allclose(topk.encode(torch.from_numpy(x)).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert (topk.encode(torch.from_numpy(x)) > 0).sum(1).max() <= 3


def test_transcoder_hooks():
    assert parse_hook("blocks.3.ln2.hook_normalized", reading=True).site == "mlp_in"
    assert parse_hook("layers.3.mlp").site == "mlp_out"
    assert parse_hook("blocks.3.hook_resid_pre").first_block() == 3
    assert parse_hook("h.3").first_block() == 4


def test_saelens_transcoder_writes_to_hook_name_out(tmp_path):
    w = random_weights(HIDDEN)
    sae = load_sae(write_saelens(tmp_path, w, "blocks.1.ln2.hook_normalized",
                                 hook_name_out="blocks.1.hook_mlp_out"))
    assert (sae.hook.site, sae.in_hook.site) == ("mlp_out", "mlp_in")


def test_sparsify_transcoder_reads_the_mlp_input(tmp_path):
    sae = load_sae(write_sparsify(tmp_path, random_weights(HIDDEN), "layers.1.mlp", transcode=True))
    assert (sae.hook.site, sae.in_hook.site, sae.subtract_b_dec) == ("mlp_out", "mlp_in", False)


# --- bad input ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return load_model(save_tiny("llama", tmp_path_factory.mktemp("llama-sae")))


def test_width_and_layer_must_match_the_model(llama, tmp_path):
    wide = load_sae(write_saelens(tmp_path / "w", random_weights(HIDDEN + 1), "blocks.1.hook_resid_post"))
    with pytest.raises(SuperposeError, match=f"d_in={HIDDEN + 1}.*hidden size {HIDDEN}"):
        neuron_logits(llama, "hi-c", 1, source=wide)
    deep = load_sae(write_saelens(tmp_path / "d", random_weights(HIDDEN), f"blocks.{LAYERS}.hook_resid_post"))
    with pytest.raises(SuperposeError, match=f"hooks layer {LAYERS}"):
        neuron_logits(llama, "hi-c", LAYERS - 1, source=deep)
    ok = load_sae(write_saelens(tmp_path / "o", random_weights(HIDDEN), "blocks.1.hook_resid_post"))
    with pytest.raises(SuperposeError, match="hook is at layer 1, not 0"):
        neuron_logits(llama, "hi-c", 0, source=ok)
    with pytest.raises(SuperposeError, match="use hi-c or hi-i"):
        neuron_logits(llama, "lo-c", 1, source=ok)
    with pytest.raises(SuperposeError, match=f"valid SAE latents are 0-{D_SAE - 1}"):
        neuron_logits(llama, "hi-c", 1, [D_SAE], source=ok)


@pytest.mark.parametrize("fmt", ["saelens", "sparsify", "gemmascope"])
def test_transposed_or_misshapen_decoder_is_refused(tmp_path, fmt):
    w = random_weights(HIDDEN)
    transposed = dict(w, W_dec=np.ascontiguousarray(w["W_dec"].T))
    with pytest.raises(SuperposeError, match="stored transposed"):
        load_sae(write(fmt, tmp_path / "t", transposed, 1, "resid_post"))
    short = dict(w, W_dec=w["W_dec"][:, :-1].copy())
    with pytest.raises(SuperposeError, match=r"W_dec has shape \[12, 31\], expected \[12, 32\]"):
        load_sae(write(fmt, tmp_path / "s", short, 1, "resid_post"))


@pytest.mark.parametrize(("writer", "key"), [
    (lambda p, w: write_saelens(p, w, "blocks.1.hook_resid_post", drop=("d_in",)), "d_in"),
    (lambda p, w: write_saelens(p, w, "blocks.1.hook_resid_post", drop=("d_sae",)), "d_sae"),
    (lambda p, w: write_saelens(p, w, "blocks.1.hook_resid_post", drop=("hook_name",)), "hook_name"),
    (lambda p, w: write_sparsify(p, w, "layers.1", drop=("k",)), "k"),
    (lambda p, w: write_sparsify(p, w, "layers.1", drop=("d_in",)), "d_in"),
])
def test_missing_config_key_is_one_line(tmp_path, writer, key):
    with pytest.raises(SuperposeError, match=f"lacks the key '{key}'") as err:
        load_sae(writer(tmp_path, random_weights(HIDDEN)))
    assert "\n" not in str(err.value)


def test_other_bad_files(tmp_path):
    with pytest.raises(SuperposeError, match="does not exist"):
        load_sae(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SuperposeError, match="no units file this library reads"):
        load_sae(tmp_path / "empty")
    folder = write_saelens(tmp_path / "nocfg", random_weights(HIDDEN), "blocks.1.hook_resid_post")
    (folder / "cfg.json").unlink()
    with pytest.raises(SuperposeError, match="cfg.json is missing"):
        load_sae(folder)
    folder = write_saelens(tmp_path / "badcfg", random_weights(HIDDEN), "blocks.1.hook_resid_post")
    (folder / "cfg.json").write_text("{not json")
    with pytest.raises(SuperposeError, match="not readable JSON"):
        load_sae(folder)
    with pytest.raises(SuperposeError, match="inside a block"):
        load_sae(write_saelens(tmp_path / "mid", random_weights(HIDDEN), "blocks.1.hook_resid_mid"))
    flat = tmp_path / "flat"
    flat.mkdir()
    np.savez(flat / "params.npz", **random_weights(HIDDEN))
    with pytest.raises(SuperposeError, match="pass --sae-hook"):
        load_sae(flat / "params.npz")
    assert load_sae(flat / "params.npz", hook="blocks.2.hook_resid_post").layer == 2
    cfg = json.loads((write_saelens(tmp_path / "hl", random_weights(HIDDEN), "blocks.1.hook_resid_post",
                                    hook_layer=2) / "cfg.json").read_text())
    assert cfg["hook_layer"] == 2
    with pytest.raises(SuperposeError, match="hook_layer 2 disagrees"):
        load_sae(tmp_path / "hl")
