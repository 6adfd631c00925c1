"""SAELens: a folder with ``cfg.json`` and ``sae_weights.safetensors`` (``W_enc [d_in, d_sae]``,
``W_dec [d_sae, d_in]``, ``b_enc``, ``b_dec``, ``threshold`` for JumpReLU).

The hook is ``hook_name`` (top level, or under ``metadata`` in SAELens 6); a transcoder writes to
``hook_name_out``. ``architecture`` is ``standard`` (ReLU), ``jumprelu`` or ``topk`` (``k`` at the
top level or in ``activation_fn_kwargs``); ``apply_b_dec_to_input`` (default true for standard
SAEs) subtracts ``b_dec`` from the input before encoding.
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
from superpose.units.hooks import parse_hook
from superpose.units.sae import Sae

WEIGHTS = "sae_weights.safetensors"
_ACTIVATIONS = {"standard": "relu", "relu": "relu", "jumprelu": "jumprelu", "topk": "topk",
                "transcoder": "relu", "jumprelu_transcoder": "jumprelu"}


def _detect(path: Path) -> bool:
    return path.is_dir() and (path / WEIGHTS).is_file()


def _load(path: Path, hook_override: str | None) -> Sae:
    cfg_path = path / "cfg.json"
    config = read_config(cfg_path)
    meta = config.get("metadata") if isinstance(config.get("metadata"), dict) else {}
    d_in, d_sae = int(require(config, "d_in", cfg_path)), int(require(config, "d_sae", cfg_path))
    hook_name = config.get("hook_name") or meta.get("hook_name")
    if hook_name is None and hook_override is None:
        require(config, "hook_name", cfg_path)
    out_name = config.get("hook_name_out") or meta.get("hook_name_out")
    hook = hook_or_override(out_name or hook_name, hook_override, str(cfg_path))
    in_hook = parse_hook(hook_name, reading=True) if hook_name and hook_override is None else hook
    layer = config.get("hook_layer", meta.get("hook_layer"))
    if layer is not None and hook_override is None and int(layer) != in_hook.layer:
        raise SuperposeError(f"{cfg_path}: hook_layer {layer} disagrees with hook_name {hook_name!r}")
    architecture = str(config.get("architecture", "standard"))
    activation = _ACTIVATIONS.get(architecture)
    if activation is None:
        raise SuperposeError(f"{cfg_path}: architecture {architecture!r} is not supported "
                             f"(supported: {', '.join(_ACTIVATIONS)})")
    kwargs = config.get("activation_fn_kwargs") or {}
    k = config.get("k", kwargs.get("k")) if activation == "topk" else None
    weights = read_safetensors(path / WEIGHTS)
    return make_sae(fmt="saelens", path=path, name=path.name, hook=hook, in_hook=in_hook, d_in=d_in,
                    d_sae=d_sae, W_dec=tensor(weights, "W_dec", path / WEIGHTS),
                    W_enc=weights.get("W_enc"), b_enc=weights.get("b_enc"),
                    b_dec=weights.get("b_dec"), threshold=weights.get("threshold"),
                    activation=activation, k=k,
                    subtract_b_dec=bool(config.get("apply_b_dec_to_input", activation == "relu")),
                    config=config)


FORMAT = SaeFormat("saelens", _detect, _load)
