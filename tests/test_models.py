"""Model loading, adapters and the embedded-model cache."""

from __future__ import annotations

import json
from pathlib import Path

import huggingface_hub.constants
import numpy as np
import pytest
import torch
from transformers import OPTConfig, OPTForCausalLM

from superpose.core.errors import SuperposeError
from superpose.models import EMBEDDED, LoadedModel, as_loaded, cache_root, load_model
from superpose.models import embedded as embedded_mod
from superpose.models.adapters import adapter_for, registry, supported_families
from tests.model_helpers import BUILDERS, HIDDEN, INTER, LAYERS, VOCAB, build, save_tiny

torch.set_num_threads(1)

FAMILY_OF = {"gpt2": "gpt2", "llama": "llama", "llama-bias": "llama", "mistral": "llama",
             "qwen2": "llama", "qwen3": "llama", "gemma3": "gemma3", "gpt_neox": "gpt_neox",
             "gpt_neox-serial": "gpt_neox"}


@pytest.mark.parametrize("family", sorted(BUILDERS))
def test_load_folder_and_activation_hook(family, tmp_path):
    folder = save_tiny(family, tmp_path / f"my-{family}")
    lm = load_model(folder)
    assert torch.get_num_threads() == 1
    assert isinstance(lm, LoadedModel) and lm.name == f"my-{family}"
    assert lm.adapter.family == FAMILY_OF[family]
    assert (lm.n_layers, lm.n_neurons, lm.hidden_size, lm.vocab_size) == (LAYERS, INTER, HIDDEN,
                                                                           VOCAB)
    assert not lm.model.training
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in lm.model.parameters())
    # The LLM path reads activations as the input of the MLP output projection of each block.
    seen = []
    blocks = lm.adapter.blocks(lm.model)
    hooks = [lm.adapter.mlp_out_proj(b).register_forward_hook(
        lambda module, args, out: seen.append(args[0].shape)) for b in blocks]
    with torch.no_grad():
        lm.model(input_ids=torch.tensor([[3, 4, 5, 6]]))
    for hook in hooks:
        hook.remove()
    assert seen == [torch.Size([1, 4, INTER])] * LAYERS


def test_loaded_model_object_and_dtype(tmp_path):
    model = build("llama").to(torch.bfloat16)
    lm = load_model(model, tokenizer="tok")
    assert lm.tokenizer == "tok" and lm.adapter.family == "llama"
    assert next(lm.model.parameters()).dtype == torch.float32
    assert as_loaded(lm) is lm
    assert as_loaded(model).n_neurons == INTER


def test_as_loaded_reuses_only_what_the_caller_passes(tmp_path):
    # The module-level "last model" cache was removed (library code keeps no hidden state):
    # reuse is the caller's choice, by passing the LoadedModel.
    folder = save_tiny("gpt2", tmp_path / "g")
    lm = as_loaded(str(folder))
    assert as_loaded(lm) is lm
    assert as_loaded(str(folder)) is not lm


def test_registry_covers_required_families():
    families = {adapter.family for adapter in registry().values()}
    assert {"gpt2", "llama", "gemma3", "gpt_neox"} <= families
    for model_type in ("gpt2", "llama", "mistral", "qwen2", "gemma3_text", "gpt_neox"):
        assert adapter_for(model_type).model_types.count(model_type) == 1
    assert adapter_for("gemma3_text").post_mlp_norm_path == "post_feedforward_layernorm"


def _one_line(info: pytest.ExceptionInfo) -> str:
    message = str(info.value)
    assert "\n" not in message
    return message


def test_unsupported_architecture(tmp_path):
    opt = OPTForCausalLM(OPTConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                   ffn_dim=32, num_attention_heads=2, word_embed_proj_dim=16))
    opt.save_pretrained(tmp_path / "opt")
    for spec in (tmp_path / "opt", opt):
        with pytest.raises(SuperposeError) as info:
            load_model(spec)
        message = _one_line(info)
        assert "'opt'" in message and supported_families() in message


def test_missing_paths(tmp_path):
    for spec in (str(tmp_path / "nothing"), "./no/such/model", tmp_path / "x"):
        with pytest.raises(SuperposeError, match="does not exist") as info:
            load_model(spec)
        _one_line(info)
    (tmp_path / "file.bin").write_bytes(b"")
    with pytest.raises(SuperposeError, match="is not a folder"):
        load_model(tmp_path / "file.bin")


def test_unknown_name_offline(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(SuperposeError) as info:
        load_model("no-such-model-xyz")
    message = _one_line(info)
    assert "no-such-model-xyz" in message and "smollm2-135m, gemma3-270m" in message


def test_bad_threads():
    # Thread counts are process-wide, so only the command line sets them (never load_model).
    from superpose.cli.runtime import set_torch_threads

    with pytest.raises(SuperposeError, match="threads"):
        set_torch_threads(0)


def test_cache_root(monkeypatch, tmp_path):
    monkeypatch.setenv("SUPERPOSE_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    assert cache_root(tmp_path / "d") == tmp_path / "d"
    monkeypatch.delenv("SUPERPOSE_CACHE")
    assert cache_root() == Path.home() / ".cache" / "superpose"


def test_embedded_hash_mismatch_leaves_no_cache(monkeypatch, tmp_path):
    def fetch(workdir: Path) -> Path:
        path = workdir / "fake.gguf"
        path.write_bytes(b"not the model")
        return path

    fake = embedded_mod.EmbeddedModel("fake", "fake-pkg", "pip install fake", "0" * 64, fetch)
    monkeypatch.setitem(embedded_mod.EMBEDDED, "fake", fake)
    with pytest.raises(SuperposeError, match="expected 0000") as info:
        embedded_mod.embedded_folder("fake", tmp_path)
    assert "pip install fake" in _one_line(info)
    assert list((tmp_path / "models").iterdir()) == []


def test_embedded_names():
    assert set(EMBEDDED) == {"smollm2-135m", "gemma3-270m"}
    assert all(len(entry.sha256) == 64 for entry in EMBEDDED.values())


# --- the real default model (first conversion 20-90 s) -------------------------------------------

@pytest.mark.slow
def test_real_default_model_loads_from_cache():
    from tests.model_helpers import real_model

    lm = real_model()
    assert lm.name == "smollm2-135m" and lm.adapter.family == "llama"
    assert (lm.n_layers, lm.n_neurons, lm.hidden_size, lm.vocab_size) == (30, 1536, 576, 49152)
    marker = cache_root() / "models" / "smollm2-135m" / embedded_mod.MARKER
    assert json.loads(marker.read_text())["sha256"] == EMBEDDED["smollm2-135m"].sha256
    ids = lm.tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        next_id = int(lm.model(input_ids=ids).logits[0, -1].argmax())
    assert lm.tokenizer.decode([next_id]).strip() == "Paris"


@pytest.mark.slow
def test_real_hi_i_matches_weights():
    """Hi-I of a few neurons equals final RMSNorm of the down_proj column times the unembedding."""
    from superpose.projection.project import neuron_logits
    from tests.model_helpers import real_model

    lm = real_model()
    model = lm.model
    for layer, neurons in ((0, [0, 1]), (15, [100, 1535]), (29, [7])):
        column = model.model.layers[layer].mlp.down_proj.weight[:, neurons].T.double()
        eps = model.config.rms_norm_eps
        normed = column * torch.rsqrt(column.pow(2).mean(-1, keepdim=True) + eps)
        expected = (normed * model.model.norm.weight.double()) @ model.lm_head.weight.double().T
        ours = neuron_logits(lm, "hi-i", layer, neurons)
        np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-5,
                                   atol=1e-5 * float(expected.abs().max()))


@pytest.mark.slow
def test_real_gemma3_hi_i_includes_post_feedforward_norm():
    """Gemma 3 (first conversion about 90 s): Hi-I equals final norm of the post-FFN-normed
    down_proj column, times the unembedding; the tokenizer uses SentencePiece markers."""
    from superpose.projection.pools import TokenWords
    from superpose.projection.project import neuron_logits

    lm = load_model("gemma3-270m")
    assert lm.adapter.family == "gemma3"
    assert (lm.n_layers, lm.n_neurons, lm.hidden_size, lm.vocab_size) == (18, 2048, 640, 262144)
    model, eps = lm.model, lm.model.config.rms_norm_eps

    def rms(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + weight.double())

    for layer, neurons in ((0, [0, 5]), (17, [2047])):
        block = model.model.layers[layer]
        column = block.mlp.down_proj.weight[:, neurons].T.double()
        direction = rms(column, block.post_feedforward_layernorm.weight)
        expected = rms(direction, model.model.norm.weight) @ model.lm_head.weight.double().T
        ours = neuron_logits(lm, "hi-i", layer, neurons)
        np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-5,
                                   atol=1e-5 * float(expected.abs().max()))
    mapping = TokenWords.build(lm.tokenizer, {"paris": 0, "about": 1}, lm.vocab_size)
    assert mapping.word_ids[lm.tokenizer.convert_tokens_to_ids("▁about")] == 1
    assert mapping.n_words == 2


def test_opt_in_models_concatenate_their_parts_in_order(tmp_path, monkeypatch):
    from superpose.explainer.local_models import OPT_IN, _parts_file

    assert OPT_IN["qwen2.5-coder-1.5b"].dtype == "bfloat16" and OPT_IN["qwen2.5-coder-0.5b"].dtype == "float32"
    assert all(len(entry.sha256) == 64 for entry in OPT_IN.values())
    for i in (1, 2, 3):
        data = tmp_path / "site" / f"fakepart{i}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"part{i:02d}.bin").write_bytes(bytes([i]) * 3)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    work = tmp_path / "work"
    work.mkdir()
    path = _parts_file("fake", "fakepart", 3, "pip install fakepart{1..3}")(work)
    assert path == work / "fake.gguf" and path.read_bytes() == b"\x01\x01\x01\x02\x02\x02\x03\x03\x03"
    with pytest.raises(SuperposeError, match="pip install fakepart"):
        _parts_file("fake", "fakepart", 4, "pip install fakepart{1..4}")(work)
