"""What every SAE reader shares: the format record, config reading and shape checks."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from superpose.core.errors import SuperposeError
from superpose.units.hooks import Hook, parse_hook
from superpose.units.sae import ACTIVATIONS, Sae, safe_name


@dataclass(frozen=True)
class SaeFormat:
    """One on-disk format: ``detect(path)`` says whether it is this format (a cheap look at the
    file names), ``load(path, hook)`` reads it (``hook``: a user override of the hook name)."""

    name: str
    detect: Callable[[Path], bool]
    load: Callable[[Path, str | None], Sae]


def read_config(path: Path) -> dict[str, Any]:
    """``cfg.json`` as a dict; one-line error when it is missing or unreadable."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuperposeError(f"{path} is missing: an SAE folder needs its cfg.json") from None
    except (OSError, ValueError) as err:
        raise SuperposeError(f"{path} is not readable JSON ({err}): restore the SAE's cfg.json") from None
    if not isinstance(config, dict):
        raise SuperposeError(f"{path} does not hold a JSON object: restore the SAE's cfg.json")
    return config


def require(config: Mapping[str, Any], key: str, path: Path) -> Any:
    if config.get(key) is None:
        raise SuperposeError(f"{path} lacks the key {key!r}: restore the SAE's full config")
    return config[key]


def read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except FileNotFoundError:
        raise SuperposeError(f"{path} is missing: the SAE folder lacks its weights") from None
    except (OSError, SafetensorError) as err:
        raise SuperposeError(f"{path} is not a readable safetensors file ({err})") from None


def read_npz(path: Path) -> dict[str, torch.Tensor]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: torch.from_numpy(np.asarray(data[name])) for name in data.files}
    except (OSError, ValueError) as err:
        raise SuperposeError(f"{path} is not a readable .npz file ({err})") from None


def tensor(weights: Mapping[str, torch.Tensor], key: str, path: Path) -> torch.Tensor:
    if key not in weights:
        raise SuperposeError(f"{path} has no tensor {key!r} (it has {', '.join(sorted(weights)) or 'none'})")
    return weights[key].detach().to(torch.float32).contiguous()


def check_shape(value: torch.Tensor | None, shape: tuple[int, ...], what: str, path: Path) -> None:
    """One-line error unless ``value`` has ``shape``; a transposed matrix is named as such."""
    if value is None or tuple(value.shape) == shape:
        return
    found = tuple(value.shape)
    hint = (" (it is stored transposed: the reader expects the format's own orientation)"
            if len(shape) == 2 and found == shape[::-1] else "")
    raise SuperposeError(f"{path}: {what} has shape {list(found)}, expected {list(shape)} from the "
                         f"config{hint}")


def make_sae(*, fmt: str, path: Path, name: str, hook: Hook, in_hook: Hook | None, d_in: int,
             d_sae: int, W_dec: torch.Tensor, W_enc: torch.Tensor | None = None,
             b_enc: torch.Tensor | None = None, b_dec: torch.Tensor | None = None,
             threshold: torch.Tensor | None = None, activation: str = "relu", k: int | None = None,
             subtract_b_dec: bool = False, config: dict[str, Any] | None = None) -> Sae:
    """Check every shape against ``d_in`` and ``d_sae``, then build the :class:`Sae`."""
    W_enc, b_enc, b_dec, threshold = (None if t is None else t.detach().to(torch.float32).contiguous()
                                      for t in (W_enc, b_enc, b_dec, threshold))
    check_shape(W_dec, (d_sae, d_in), "the decoder W_dec", path)
    check_shape(W_enc, (d_in, d_sae), "the encoder W_enc", path)
    check_shape(b_enc, (d_sae,), "b_enc", path)
    check_shape(b_dec, (d_in,), "b_dec", path)
    check_shape(threshold, (d_sae,), "threshold", path)
    if activation not in ACTIVATIONS:
        raise SuperposeError(f"{path}: activation {activation!r} is not supported (supported: "
                             f"{', '.join(ACTIVATIONS)})")
    if activation == "jumprelu" and threshold is None:
        raise SuperposeError(f"{path}: a JumpReLU SAE needs its threshold tensor")
    if activation == "topk" and (k is None or int(k) < 1):
        raise SuperposeError(f"{path}: a top-k SAE needs k >= 1 in its config")
    return Sae(name=safe_name(name), format=fmt, path=str(path.resolve()), hook=hook,
               in_hook=in_hook or hook, W_dec=W_dec, W_enc=W_enc, b_enc=b_enc, b_dec=b_dec,
               threshold=threshold, activation=activation, k=None if k is None else int(k),
               subtract_b_dec=subtract_b_dec, config=dict(config or {}))


def hook_or_override(name: str | None, override: str | None, where: str) -> Hook:
    if override is not None:
        return parse_hook(override)
    if name is None:
        raise SuperposeError(f"{where} does not name its hook: pass --sae-hook, e.g. "
                             "blocks.8.hook_resid_post")
    return parse_hook(name)
