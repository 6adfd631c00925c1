"""collect_records on a tiny model: the spilled second pass equals running the model again."""

import dataclasses

import numpy as np
import pytest


@pytest.fixture(scope="module")
def tiny():
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=24, num_hidden_layers=3,
                         num_attention_heads=2, num_key_value_heads=1)
    model = LlamaForCausalLM(config).eval()
    modules = {layer: model.model.layers[layer].mlp.down_proj for layer in (0, 2)}
    sequences = np.random.default_rng(1).integers(0, 50, size=(37, 8)).astype(np.int32)
    return model, modules, sequences


def _collect(tiny, **kwargs):
    from superpose.activations.collect import collect_records

    model, modules, sequences = tiny
    report: dict = {}
    out = collect_records(model, modules, sequences, top_k=5, n_random=6, per_quantile=3,
                          batch_size=5, seed=3, report=report, **kwargs)
    return out, report


def test_spilled_second_pass_gives_identical_records(tiny, tmp_path):
    spilled, how = _collect(tiny, spill_dir=tmp_path)
    rerun, how_rerun = _collect(tiny, spill_limit=0)
    assert how == {"second_pass": "spilled"} and how_rerun == {"second_pass": "model"}
    assert list(tmp_path.iterdir()) == []  # the temporary spill is gone
    for layer in (0, 2):
        a, b = spilled[layer], rerun[layer]
        assert (a.quantile_ids >= 0).any()
        for field in dataclasses.fields(a):
            np.testing.assert_array_equal(getattr(a, field.name), getattr(b, field.name),
                                          err_msg=f"layer {layer} {field.name}")


def test_spill_limit_counts_every_layer(tiny, tmp_path):
    from superpose.activations.collect import spill_bytes

    _, _, sequences = tiny
    needed = spill_bytes(len(sequences), sequences.shape[1], 24, 2)
    assert needed == 4 * 37 * 8 * 24 * 2
    _, just_fits = _collect(tiny, spill_dir=tmp_path, spill_limit=needed)
    _, too_big = _collect(tiny, spill_dir=tmp_path, spill_limit=needed - 1)
    assert just_fits["second_pass"] == "spilled" and too_big["second_pass"] == "model"


def test_one_pass_without_quantiles(tiny, tmp_path):
    from superpose.activations.collect import collect_records

    model, modules, sequences = tiny
    report: dict = {}
    out = collect_records(model, modules, sequences, per_quantile=0, spill_dir=tmp_path,
                          report=report)
    assert report["second_pass"] == "none" and out[0].quantile_ids.size == 0
    assert list(tmp_path.iterdir()) == []


def test_a_failed_spill_write_falls_back_to_running_the_model(tiny, tmp_path, monkeypatch):
    import errno

    from superpose.activations import collect as activations

    class FullDisk:
        def __init__(self, path, mode):
            self.calls = 0

        def write(self, data):
            self.calls += 1
            if self.calls > 1:
                raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            pass

    real_init = activations._Spill.__init__

    def init(self, folder, layers):
        real_init(self, folder, layers)
        self.close()
        self.writers = {layer: FullDisk(path, "wb") for layer, path in self.paths.items()}

    monkeypatch.setattr(activations._Spill, "__init__", init)
    fallback, how = _collect(tiny, spill_dir=tmp_path)
    monkeypatch.undo()
    rerun, _ = _collect(tiny, spill_limit=0)
    assert how == {"second_pass": "model"}
    assert list(tmp_path.iterdir()) == []
    np.testing.assert_array_equal(fallback[2].quantile_acts, rerun[2].quantile_acts)
    np.testing.assert_array_equal(fallback[2].quantile_ids, rerun[2].quantile_ids)


def test_an_unusable_spill_folder_is_a_clear_error(tiny, tmp_path):
    from superpose.core.errors import SuperposeError

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(SuperposeError, match="--spill-dir"):
        _collect(tiny, spill_dir=not_a_folder)
