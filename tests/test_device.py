"""--device and --dtype: resolution, early one-line errors, dtype-aware loading and outputs.

There is no GPU in the test environment: CUDA is checked through a replaced GPU count and a
recorded ``from_pretrained`` call; the real GPU run is benchmarks/gpu_check.sh.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from superpose.cli import main
from superpose.core.errors import SuperposeError
from superpose.models import load_model
from superpose.models.device import Placement, placement_of, resolve_placement
from superpose.projection.project import project_layer
from superpose.projection.run import project_to_files
from superpose.projection.store import read_meta
from tests.model_helpers import save_tiny
from tests.test_llm_cli import tiny_model  # noqa: F401 - a fixture

torch.set_num_threads(1)


def _gpus(monkeypatch, count: int) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


def test_defaults_and_auto(monkeypatch):
    assert resolve_placement() == Placement("cpu", "float32") == Placement()
    assert resolve_placement().is_default and resolve_placement().name_suffix() == ""
    _gpus(monkeypatch, 0)
    assert resolve_placement("auto") == Placement("cpu", "float32")
    _gpus(monkeypatch, 2)
    assert Placement("auto", "bfloat16") == Placement("cuda", "bfloat16")
    assert resolve_placement("cuda:1").device == "cuda:1"
    assert resolve_placement("CPU", "BFloat16").dtype == "bfloat16"
    placement = Placement("cuda:1", "bfloat16")
    assert placement.name_suffix() == "@cuda1-bfloat16" and placement.label() == "cuda:1/bfloat16"
    assert placement.torch_dtype is torch.bfloat16 and placement.to_json()["device"] == "cuda:1"
    assert resolve_placement(placement) is placement


@pytest.mark.parametrize(("device", "dtype", "count", "message"), [
    ("cuda", None, 0, "needs a CUDA GPU"),
    ("cuda:2", None, 2, "only 2 CUDA GPU(s)"),
    ("tpu", None, 0, "unknown device 'tpu'"),
    ("cpu:1", None, 0, "unknown device"),
    ("cuda:x", None, 1, "unknown device"),
    ("cpu", "float64", 0, "unknown dtype 'float64'"),
])
def test_bad_placement_is_one_line(device, dtype, count, message, monkeypatch):
    _gpus(monkeypatch, count)
    with pytest.raises(SuperposeError) as info:
        resolve_placement(device, dtype)
    assert message in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(SuperposeError, match="contradicts"):
        resolve_placement(Placement(), "bfloat16")


def test_real_gpu_count_is_used():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(SuperposeError, match="use --device cpu"):
        resolve_placement("cuda")
    assert resolve_placement("auto").device == "cpu"


@pytest.mark.parametrize("command", [
    ["project", "--out", "{tmp}/p", "--model", "{tmp}/missing-model"],
    ["mine", "--corpus", "{tmp}/missing-corpus", "--out", "{tmp}/m", "--model", "{tmp}/missing"],
    ["activations", "--out", "{tmp}/a", "--layers", "0", "--model", "{tmp}/missing"],
    ["explain", "--records", "{tmp}/missing", "--layer", "0", "--neurons", "0"],
    ["score", "--records", "{tmp}/missing", "--explanation", "x", "--layer", "0", "--neurons", "0"],
    ["compare", "--results", "{tmp}/r", "--explanations", "{tmp}/missing.jsonl", "--out", "{tmp}/c"],
])
def test_cuda_without_gpu_fails_first_and_writes_nothing(command, tmp_path, capsys, monkeypatch):
    """The device is checked before any model, corpus or records folder is touched."""
    _gpus(monkeypatch, 0)
    argv = [part.format(tmp=tmp_path) for part in command] + ["--device", "cuda", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("superpose: error: --device cuda needs a CUDA GPU") and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def test_cuda_loading_goes_straight_to_the_gpu(tmp_path, monkeypatch):
    """With a GPU, weights load with device_map and the wanted dtype (no float32 copy first)."""
    from transformers import AutoModelForCausalLM

    folder = save_tiny("llama", tmp_path / "m")
    calls = []
    real = AutoModelForCausalLM.from_pretrained

    def recording(location, **kwargs):
        calls.append(dict(kwargs))
        kwargs.pop("device_map", None)  # no GPU here: load on the CPU instead
        return real(location, **kwargs)

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", recording)
    _gpus(monkeypatch, 1)
    placement = resolve_placement("auto", "bfloat16")
    assert placement == Placement("cuda", "bfloat16")
    lm = load_model(folder, device=Placement("cpu", "bfloat16"))
    assert calls[-1]["dtype"] is torch.bfloat16 and "device_map" not in calls[-1]
    with pytest.raises((AssertionError, RuntimeError)):  # torch without CUDA cannot move there
        load_model(folder, device=placement)
    assert calls[-1]["dtype"] is torch.bfloat16 and calls[-1]["device_map"] == "cuda"
    assert lm.placement == Placement("cpu", "bfloat16")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_reduced_precision_projection(dtype, tmp_path):
    folder = save_tiny("llama", tmp_path / "m")
    full = load_model(folder)
    half = load_model(folder, dtype=dtype)
    assert all(p.dtype == getattr(torch, dtype) for p in half.model.parameters())
    assert placement_of(half.model) == Placement("cpu", dtype) and half.placement.dtype == dtype
    a = project_layer(full, "hi-c", 0, tau=10)
    b = project_layer(half, "hi-c", 0, tau=10)
    assert b.top_logits.dtype == np.float32
    overlap = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a.top_ids, b.top_ids, strict=True)])
    assert overlap > 0.7  # the same tokens, mostly: reduced precision changes little here
    paths = project_to_files(half, "hi-c", [0], tmp_path / "out", tau=10)
    meta = read_meta(paths[0])
    assert meta["dtype"] == dtype and "device" not in meta
    # a float32 request does not reuse the reduced-precision file
    before = paths[0].stat().st_mtime_ns
    project_to_files(full, "hi-c", [0], tmp_path / "out", tau=10)
    assert read_meta(paths[0])["dtype"] == "float32" and paths[0].stat().st_mtime_ns != before
    default_meta = json.loads(paths[0].with_suffix(".json").read_text())
    assert "device" not in default_meta


def test_gpu_check_script_skips_without_a_gpu(tmp_path):
    """benchmarks/gpu_check.sh in its CPU-only form: says it skipped, exits 0, writes nothing."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: run benchmarks/gpu_check.sh itself")
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.sh"
    env = dict(os.environ, PYTHON=sys.executable, OUT_DIR=str(tmp_path / "out"))
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "skipped the GPU checks" in done.stdout and not (tmp_path / "out").exists()


def test_mining_run_in_another_dtype_is_another_run(tmp_path):
    from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
    from superpose.pipeline import mine
    from tests.mining_helpers import PARAMS, make_corpus, make_model

    model, corpus = make_model(tmp_path), make_corpus(tmp_path)
    options = dict(layers="0", neurons="0-3", projection=ProjectionConfig(tau=20), mining=MiningConfig(**PARAMS),
                   execution=ExecutionConfig(workers=1), progress=False)
    folder = mine(str(model), str(corpus), str(tmp_path / "out"), placement=Placement(dtype="bfloat16"), **options)
    request = json.loads((folder / "run.json").read_text())["request"]
    assert request["dtype"] == "bfloat16" and read_meta(folder / "layer_00.npz")["dtype"] == "bfloat16"
    with pytest.raises(SuperposeError, match="dtype"):
        mine(str(model), str(corpus), str(tmp_path / "out"), **options)
    folder = mine(str(model), str(corpus), str(tmp_path / "float32"), **options)
    assert "dtype" not in json.loads((folder / "run.json").read_text())["request"]


def test_records_of_another_dtype_are_refused(tiny_model, tmp_path, capsys):  # noqa: F811 - the fixture
    folder, corpus = tiny_model
    args = ["activations", "--model", str(folder), "--corpus-source", str(corpus), "--layers", "0",
            "--out", str(tmp_path / "records"), "--seq-len", "16", "--max-tokens", "800", "--top-k", "4",
            "--random", "4", "--per-quantile", "0", "--no-progress"]
    assert main(args + ["--dtype", "bfloat16"]) == 0
    meta = json.loads((tmp_path / "records" / "tiny-llama" / "meta.json").read_text())
    assert meta["dtype"] == "bfloat16" and meta["device"] == "cpu"
    capsys.readouterr()
    assert main(args[:6] + ["0-1"] + args[7:]) == 2
    assert "holds records made in bfloat16, not float32" in capsys.readouterr().err
