"""EleutherAI sparsify: a folder named by its hookpoint (``layers.6``, ``layers.6.mlp``) holding
``cfg.json`` and ``sae.safetensors`` (``encoder.weight [d_sae, d_in]``, ``encoder.bias``,
``W_dec [d_sae, d_in]``, ``b_dec``).

The hook is the folder's name (sparsify saves one folder per hookpoint; ``cfg.json`` may also
name it as ``hookpoint``). Latents are top-k of ReLU(encoder(x - b_dec)); with ``transcode``
true the encoder reads the MLP input and ``b_dec`` is not subtracted.
"""

from __future__ import annotations

from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.units.formats.base import (
    SaeFormat,
    hook_or_override,
    make_sae,
    read_config,
    read_safetensors,
    require,
    tensor,
)
from superpose.units.hooks import Hook
from superpose.units.sae import Sae

WEIGHTS = "sae.safetensors"


def _detect(path: Path) -> bool:
    return path.is_dir() and (path / WEIGHTS).is_file()


def _load(path: Path, hook_override: str | None) -> Sae:
    cfg_path = path / "cfg.json"
    config = read_config(cfg_path)
    d_in = int(require(config, "d_in", cfg_path))
    k = int(require(config, "k", cfg_path))
    weights = read_safetensors(path / WEIGHTS)
    W_dec = tensor(weights, "W_dec", path / WEIGHTS)
    declared = int(config.get("num_latents") or 0) or int(config.get("expansion_factor") or 0) * d_in
    d_sae = declared or int(W_dec.shape[0])
    hook = hook_or_override(str(config.get("hookpoint") or path.name), hook_override, str(path))
    transcode = bool(config.get("transcode", False))
    in_hook = Hook(hook.layer, "mlp_in", hook.name + " (input)") if transcode else hook
    if transcode and hook.site != "mlp_out":
        raise SuperposeError(f"{path}: a transcoder must sit on an MLP (hookpoint like layers.6.mlp), "
                             f"got {hook.name!r}")
    encoder = weights.get("encoder.weight")
    return make_sae(fmt="sparsify", path=path, name=path.name, hook=hook, in_hook=in_hook, d_in=d_in,
                    d_sae=d_sae, W_dec=W_dec, W_enc=None if encoder is None else encoder.float().T.contiguous(),
                    b_enc=weights.get("encoder.bias"), b_dec=weights.get("b_dec"),
                    activation="topk", k=k, subtract_b_dec=not transcode, config=config)


FORMAT = SaeFormat("sparsify", _detect, _load)
