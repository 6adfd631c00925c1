"""Gemma Scope: ``params.npz`` with ``W_enc [d_in, d_sae]``, ``W_dec [d_sae, d_in]``, ``b_enc``,
``b_dec`` and ``threshold`` (JumpReLU). The file has no config: the hook comes from the folders
it is released in (``gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82/params.npz``:
``layer_12``, and ``res``/``mlp`` in a folder name for the residual stream after the block or
the MLP output), or from ``--sae-hook``.
"""

from __future__ import annotations

import re
from pathlib import Path

from superpose.units.formats.base import SaeFormat, hook_or_override, make_sae, read_npz, tensor
from superpose.units.hooks import Hook
from superpose.units.sae import Sae

WEIGHTS = "params.npz"
_SITES = {"res": "hook_resid_post", "mlp": "hook_mlp_out", "att": "hook_z"}


def _detect(path: Path) -> bool:
    return path.name == WEIGHTS and path.is_file() or path.is_dir() and (path / WEIGHTS).is_file()


def _hook_from_path(path: Path) -> str | None:
    """``blocks.L.hook_...`` from ``layer_L`` and a ``-res``/``-mlp``/``-att`` folder, if present."""
    layer = site = None
    for part in path.resolve().parts:
        found = re.fullmatch(r"layer_(\d+)", part)
        if found:
            layer = int(found.group(1))
        kind = re.search(r"(?:^|[-_])(res|mlp|att)(?:$|[-_])", part)
        if kind:
            site = _SITES[kind.group(1)]
    return None if layer is None or site is None else f"blocks.{layer}.{site}"


def _load(path: Path, hook_override: str | None) -> Sae:
    file = path if path.is_file() else path / WEIGHTS
    hook: Hook = hook_or_override(_hook_from_path(file.parent), hook_override, str(file))
    weights = read_npz(file)
    W_dec = tensor(weights, "W_dec", file)
    W_enc = tensor(weights, "W_enc", file)
    d_in = int(W_enc.shape[0])
    d_sae = int(W_enc.shape[1]) if W_enc.dim() == 2 else int(W_dec.shape[0])
    threshold = weights.get("threshold")
    return make_sae(fmt="gemmascope", path=file, name="-".join(file.parent.parts[-3:]), hook=hook,
                    in_hook=hook, d_in=d_in, d_sae=d_sae, W_dec=W_dec, W_enc=W_enc, b_enc=weights.get("b_enc"),
                    b_dec=weights.get("b_dec"), threshold=threshold,
                    activation="jumprelu" if threshold is not None else "relu", config={})
FORMAT = SaeFormat("gemmascope", _detect, _load)
