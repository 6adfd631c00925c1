"""Small SAEs written in each supported on-disk format, for the tiny test models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

D_SAE = 12


def random_weights(d_in: int, d_sae: int = D_SAE, seed: int = 0) -> dict[str, np.ndarray]:
    """Encoder ``[d_in, d_sae]``, decoder ``[d_sae, d_in]``, biases and thresholds, float32."""
    rng = np.random.default_rng(seed)
    return {"W_enc": rng.normal(size=(d_in, d_sae)).astype(np.float32),
            "W_dec": rng.normal(size=(d_sae, d_in)).astype(np.float32),
            "b_enc": rng.normal(size=d_sae).astype(np.float32) * 0.1,
            "b_dec": rng.normal(size=d_in).astype(np.float32) * 0.1,
            "threshold": np.abs(rng.normal(size=d_sae)).astype(np.float32) * 0.5}


def _tensors(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}


def write_saelens(folder: Path, w: dict[str, np.ndarray], hook: str, *, architecture: str = "jumprelu",
                  drop: tuple[str, ...] = (), **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    d_in, d_sae = w["W_enc"].shape
    cfg = {"d_in": d_in, "d_sae": d_sae, "hook_name": hook, "architecture": architecture,
           "apply_b_dec_to_input": False, **extra}
    (folder / "cfg.json").write_text(json.dumps({k: v for k, v in cfg.items() if k not in drop}))
    names = ("W_enc", "W_dec", "b_enc", "b_dec") + (("threshold",) if architecture == "jumprelu" else ())
    save_file(_tensors({k: w[k] for k in names}), str(folder / "sae_weights.safetensors"))
    return folder


def write_sparsify(parent: Path, w: dict[str, np.ndarray], hookpoint: str, *, k: int = 3,
                   drop: tuple[str, ...] = (), **extra) -> Path:
    folder = parent / hookpoint
    folder.mkdir(parents=True, exist_ok=True)
    d_in, d_sae = w["W_enc"].shape
    cfg = {"expansion_factor": 0, "normalize_decoder": True, "num_latents": d_sae, "k": k,
           "multi_topk": False, "skip_connection": False, "d_in": d_in, **extra}
    (folder / "cfg.json").write_text(json.dumps({k_: v for k_, v in cfg.items() if k_ not in drop}))
    save_file(_tensors({"encoder.weight": w["W_enc"].T, "encoder.bias": w["b_enc"], "W_dec": w["W_dec"],
                        "b_dec": w["b_dec"]}), str(folder / "sae.safetensors"))
    return folder


def write_gemmascope(root: Path, w: dict[str, np.ndarray], layer: int, site: str = "res") -> Path:
    folder = root / f"gemma-scope-tiny-pt-{site}" / f"layer_{layer}" / "width_12" / "average_l0_3"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "params.npz", **w)
    return folder / "params.npz"
