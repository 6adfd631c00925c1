"""The four projection modes against references computed here from the raw weights (Hi-I) and
from the model's own forward pass with a substituted one-position residual stream (Hi-C, Lo-C,
Lo-I), for tiny random models of every supported family."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from superpose.core.errors import SuperposeError
from superpose.models import load_model
from superpose.projection.project import neuron_logits, project_layer
from tests.model_helpers import BUILDERS, HIDDEN, INTER, LAYERS, VOCAB, save_tiny

torch.set_num_threads(1)

FAMILIES = sorted(BUILDERS)
NEURONS = [0, 5, 17, INTER - 1]


@pytest.fixture(scope="module", params=FAMILIES)
def tiny(request, tmp_path_factory):
    folder = save_tiny(request.param, tmp_path_factory.mktemp(request.param))
    return request.param, load_model(folder)


# --- independent reference ---------------------------------------------------------------------

def _rms(x: torch.Tensor, weight: torch.Tensor, eps: float, gemma: bool) -> torch.Tensor:
    normed = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return normed * ((1.0 + weight) if gemma else weight)


def _layer_norm(x: torch.Tensor, module: torch.nn.Module) -> torch.Tensor:
    mean = x.mean(-1, keepdim=True)
    var = (x - mean).pow(2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + module.eps) * module.weight + module.bias


def direction(model, family: str, layer: int, neurons: list[int]) -> torch.Tensor:
    """Down-projection rows + bias (+ Gemma's post-feedforward RMSNorm), from raw tensors."""
    cfg = model.config
    if family == "gpt2":
        proj = model.transformer.h[layer].mlp.c_proj  # Conv1D: weight is (in, out)
        return proj.weight[neurons] + proj.bias
    if family.startswith("gpt_neox"):
        proj = model.gpt_neox.layers[layer].mlp.dense_4h_to_h
        return proj.weight.T[neurons] + proj.bias
    block = model.model.layers[layer]
    rows = block.mlp.down_proj.weight.T[neurons]
    if block.mlp.down_proj.bias is not None:
        rows = rows + block.mlp.down_proj.bias
    if family == "gemma3":
        rows = _rms(rows, block.post_feedforward_layernorm.weight, cfg.rms_norm_eps, gemma=True)
    return rows


def final_logits(model, family: str, hidden: torch.Tensor) -> torch.Tensor:
    """Final norm and unembedding (and Gemma's soft-cap), from raw tensors."""
    if family == "gpt2":
        normed = _layer_norm(hidden, model.transformer.ln_f)
    elif family.startswith("gpt_neox"):
        normed = _layer_norm(hidden, model.gpt_neox.final_layer_norm)
    else:
        normed = _rms(hidden, model.model.norm.weight, model.config.rms_norm_eps,
                      gemma=family == "gemma3")
    logits = normed @ model.get_output_embeddings().weight.T
    cap = getattr(model.config, "final_logit_softcapping", None)
    return torch.tanh(logits / cap) * cap if cap else logits


def _block_list(model, family: str):
    if family == "gpt2":
        return model.transformer.h, model.transformer.ln_f
    if family.startswith("gpt_neox"):
        return model.gpt_neox.layers, model.gpt_neox.final_layer_norm
    return model.model.layers, model.model.norm


def forward_with_residual(model, family: str, vectors: torch.Tensor, first: int,
                          last: int) -> torch.Tensor:
    """Logits of the model's own forward on a one-position input whose residual stream is
    replaced by ``vectors`` at the input of block ``first`` (the final norm if ``first`` is past
    the last block), with the final norm reading the output of block ``last``."""
    blocks, norm = _block_list(model, family)
    captured: dict[str, torch.Tensor] = {}

    def set_input(value_fn):
        def hook(module, args, kwargs):
            value = value_fn()
            if args:
                return (value, *args[1:]), kwargs
            return args, dict(kwargs, hidden_states=value)
        return hook

    def capture(module, args, output):
        captured["out"] = output[0] if isinstance(output, tuple) else output

    handles = []
    target = blocks[first] if first < len(blocks) else norm
    handles.append(target.register_forward_pre_hook(set_input(lambda: vectors[:, None, :]),
                                                    with_kwargs=True))
    if first < len(blocks) and last < len(blocks) - 1:
        handles.append(blocks[last].register_forward_hook(capture))
        handles.append(norm.register_forward_pre_hook(set_input(lambda: captured["out"]),
                                                      with_kwargs=True))
    try:
        with torch.no_grad():
            embeds = torch.zeros((len(vectors), 1, model.config.hidden_size))
            out = model(inputs_embeds=embeds, use_cache=False).logits[:, 0, :]
    finally:
        for handle in handles:
            handle.remove()
    return out


def reference(lm, family: str, mode: str, layer: int, units: list[int]) -> np.ndarray:
    model = lm.model
    with torch.no_grad():
        if mode.startswith("hi"):
            vectors = direction(model, family, layer, units)
        else:
            vectors = torch.eye(model.config.hidden_size)[units]
        if mode == "hi-i":
            return final_logits(model, family, vectors).numpy()
    first = {"hi-c": layer + 1, "lo-c": layer, "lo-i": layer}[mode]
    last = layer if mode == "lo-i" else LAYERS - 1
    return forward_with_residual(model, family, vectors, first, last).numpy()


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5 * scale)


# --- the math ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["hi-c", "hi-i", "lo-c", "lo-i"])
@pytest.mark.parametrize("layer", [0, 1, LAYERS - 1])
def test_modes_match_reference(tiny, mode, layer):
    family, lm = tiny
    units = NEURONS if mode.startswith("hi") else [0, 7, HIDDEN - 1]
    ours = neuron_logits(lm, mode, layer, units, batch_size=3)
    assert ours.dtype == np.float32 and ours.shape == (len(units), VOCAB)
    assert_close(ours, reference(lm, family, mode, layer, units))


def test_hi_i_reference_is_not_trivially_equal_across_modes(tiny):
    """The references differ between modes, so the comparisons above can fail."""
    family, lm = tiny
    hi_c = reference(lm, family, "hi-c", 0, NEURONS)
    hi_i = reference(lm, family, "hi-i", 0, NEURONS)
    assert np.abs(hi_c - hi_i).max() > 1e-3


def test_batched_equals_one_by_one_and_default_units(tiny):
    _, lm = tiny
    everything = neuron_logits(lm, "hi-c", 0)
    assert everything.shape == (INTER, VOCAB)
    singles = np.concatenate([neuron_logits(lm, "hi-c", 0, [n], batch_size=1) for n in NEURONS])
    assert_close(everything[NEURONS], singles)
    assert neuron_logits(lm, "lo-i", 1).shape == (HIDDEN, VOCAB)


def test_last_layer_hi_c_is_hi_i(tiny):
    _, lm = tiny
    assert_close(neuron_logits(lm, "hi-c", LAYERS - 1, NEURONS),
                 neuron_logits(lm, "hi-i", LAYERS - 1, NEURONS))


def test_project_layer_keeps_sorted_extremes(tiny):
    _, lm = tiny
    full = neuron_logits(lm, "lo-c", 1)
    proj = project_layer(lm, "lo-c", 1, tau=10, batch_size=7)
    ranked = np.sort(full, axis=1)
    # Values, not ids: batches of other sizes may swap near-ties at the last float bit.
    assert_close(proj.top_logits, ranked[:, ::-1][:, :10])
    assert_close(proj.bottom_logits, ranked[:, :10])
    assert_close(np.take_along_axis(full, proj.top_ids, 1), proj.top_logits)
    assert_close(np.take_along_axis(full, proj.bottom_ids, 1), proj.bottom_logits)
    assert all(len(set(row)) == 10 for row in proj.top_ids.tolist())
    assert proj.top_ids.dtype == np.int32 and proj.top_logits.dtype == np.float32
    np.testing.assert_array_equal(proj.neurons, np.arange(HIDDEN))


# --- bad input -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return load_model(save_tiny("llama", tmp_path_factory.mktemp("llama")))


@pytest.mark.parametrize(("call", "message"), [
    (lambda lm: neuron_logits(lm, "hi-x", 0), "choose one of hi-c, hi-i, lo-c, lo-i"),
    (lambda lm: neuron_logits(lm, "hi-c", LAYERS), f"valid layers are 0-{LAYERS - 1}"),
    (lambda lm: neuron_logits(lm, "hi-c", -1), f"valid layers are 0-{LAYERS - 1}"),
    (lambda lm: neuron_logits(lm, "hi-c", 0, [INTER]), f"valid neurons are 0-{INTER - 1}"),
    (lambda lm: neuron_logits(lm, "lo-c", 0, [HIDDEN]),
     f"valid residual dimensions are 0-{HIDDEN - 1}"),
    (lambda lm: project_layer(lm, "hi-c", 0, tau=VOCAB + 1), f"choose 1-{VOCAB}"),
    (lambda lm: project_layer(lm, "hi-c", 0, tau=0), f"choose 1-{VOCAB}"),
])
def test_bad_input_is_one_line(llama, call, message):
    with pytest.raises(SuperposeError) as info:
        call(llama)
    assert message in str(info.value) and "\n" not in str(info.value)


# --- the value/output path at one position ---------------------------------------------------

def _plain_logits(lm, mode, layer, **kwargs) -> np.ndarray:
    from superpose.projection.project import check_units, iter_logits

    units = check_units(lm, mode, None)
    return np.concatenate([logits.numpy() for _, logits in iter_logits(lm, mode, layer, units, 7, **kwargs)])


@pytest.mark.parametrize("mode", ["hi-c", "hi-i", "lo-c", "lo-i"])
def test_value_output_path_gives_the_logits_of_the_full_blocks(tiny, mode):
    """The plain float32 path: identical logits to the blocks' own full forward (the previous
    code); the batch-invariant projection runs the same path (checked close in test_batch_invariance)."""
    from superpose.projection.project import _checked_block

    family, lm = tiny
    for b in range(LAYERS):
        runner = _checked_block(lm, b, torch.randn(4, HIDDEN))
        assert "one_position_block" in runner.__qualname__, (family, b)  # not the fallback
    for layer in range(LAYERS):
        assert np.array_equal(_plain_logits(lm, mode, layer), _plain_logits(lm, mode, layer, full_blocks=True))


def test_a_wrong_value_output_path_falls_back_or_is_refused(tiny):
    """The plain path falls back to the full block; the batch-invariant projection refuses."""
    import dataclasses

    family, lm = tiny

    @dataclasses.dataclass(frozen=True)
    class Wrong(type(lm.adapter)):
        def one_position_block(self, model, index):
            return lambda x: 2 * x

    wrong = dataclasses.replace(lm, adapter=Wrong(**{f.name: getattr(lm.adapter, f.name)
                                                     for f in dataclasses.fields(lm.adapter)}))
    assert np.array_equal(_plain_logits(wrong, "lo-c", 0), _plain_logits(lm, "lo-c", 0, full_blocks=True))
    with pytest.raises(SuperposeError, match="one-position path"):
        project_layer(wrong, "lo-c", 0, tau=5)
