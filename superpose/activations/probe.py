"""The probe: a unit's activations on given inputs, token by token.

An MLP neuron's activation is the input of its block's down/out projection (as in the activation
records); an SAE or transcoder latent's is its encoder applied to the hook's input (the residual
stream entering or leaving the block, the MLP output, or for a transcoder the MLP input). The
forward pass stops after the unit's block. The residual stream entering a block is also what the
polysemanticity score (:mod:`superpose.activations.dispersion`) reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from superpose.core.errors import SuperposeError
from superpose.models.adapters.base import get_path


class _Stop(Exception):
    """Raised by the last hook: later blocks are not needed."""


@dataclass(frozen=True)
class ProbeResult:
    """One input: its tokens (decoded text) and the units' activations, shape (tokens, units)."""

    text: str
    tokens: list[str]
    units: list[int]
    activations: np.ndarray


def _mlp(lm: Any, block: torch.nn.Module) -> torch.nn.Module:
    """The MLP module of a block: the parent of its down/out projection."""
    return get_path(block, lm.adapter.mlp_out_path.rsplit(".", 1)[0])


def hook_site(lm: Any, layer: int, site: str, keep: Callable[[torch.Tensor], None]) -> Any:
    """Call ``keep(activations)`` at ``site`` of block ``layer`` on every forward pass (see
    :func:`capture` for the sites); returns the hook's handle (``.remove()`` it)."""
    block = lm.adapter.blocks(lm.model)[layer]

    def before(module: Any, args: tuple, kwargs: dict) -> None:
        keep(args[0] if args else kwargs["hidden_states"])

    def after(module: Any, args: tuple, output: Any) -> None:
        keep(output[0] if isinstance(output, tuple) else output)

    if site == "neurons":
        handle = lm.adapter.mlp_out_proj(block).register_forward_pre_hook(before, with_kwargs=True)
    elif site == "resid_pre":
        handle = block.register_forward_pre_hook(before, with_kwargs=True)
    elif site == "resid_post":
        handle = block.register_forward_hook(after)
    elif site == "mlp_in":
        handle = _mlp(lm, block).register_forward_pre_hook(before, with_kwargs=True)
    elif site == "mlp_out":
        norm = lm.adapter.post_mlp_norm_path
        handle = (get_path(block, norm) if norm else _mlp(lm, block)).register_forward_hook(after)
    else:
        raise SuperposeError(f"unknown site {site!r}")
    return handle


def capture(lm: Any, ids: torch.Tensor, layer: int, site: str) -> torch.Tensor:
    """Float32 activations (batch, tokens, width) at ``site`` of block ``layer``: ``neurons`` (input of
    the down projection), ``resid_pre``, ``resid_post``, ``mlp_in`` or ``mlp_out``."""
    found: dict[str, torch.Tensor] = {}

    def keep(value: torch.Tensor) -> None:
        found["x"] = value.detach().float()
        raise _Stop

    handle = hook_site(lm, layer, site, keep)
    try:
        with torch.inference_mode():
            lm.model(input_ids=ids, use_cache=False)
    except _Stop:
        pass
    finally:
        handle.remove()
    if "x" not in found:
        raise SuperposeError(f"block {layer} was not reached by the forward pass")
    return found["x"]


def probe(model: Any, texts: Sequence[str], layer: int, units: Sequence[int] | None = None, *,
          sae: Any = None) -> list[ProbeResult]:
    """Activations of ``units`` (MLP neurons of ``layer``; latents of ``sae`` when given, a path or a
    :class:`superpose.units.Sae`, at its hook's layer) on each text, token by token (no special
    tokens added). ``units`` defaults to every unit."""
    from superpose.models import as_loaded
    from superpose.projection.project import check_layer
    from superpose.units import Sae, load_sae

    if isinstance(texts, str):
        texts = [texts]
    if not texts or any(not t for t in texts):
        raise SuperposeError("give at least one non-empty text to probe")
    source = sae if isinstance(sae, Sae) or sae is None else load_sae(sae)
    lm = as_loaded(model)
    if lm.tokenizer is None:
        raise SuperposeError("this model has no tokenizer, so texts cannot be probed: load a folder with one")
    if source is not None:
        source.check_model(lm)
        if layer != source.layer:
            raise SuperposeError(f"the SAE's hook is at layer {source.layer}, not {layer}: probe layer {source.layer}")
    check_layer(lm, layer)
    width = lm.n_neurons if source is None else source.d_sae
    chosen = list(range(width)) if units is None else [int(u) for u in units]
    bad = [u for u in chosen if not 0 <= u < width]
    if bad:
        what = f"{source.unit_name}s" if source is not None else "neurons"
        raise SuperposeError(f"unit {bad[0]} is out of range: valid {what} are 0-{width - 1}")
    results = []
    for text in texts:
        ids = lm.tokenizer.encode(text, add_special_tokens=False)
        if not ids:
            raise SuperposeError(f"the text {text!r} has no tokens")
        tensor = torch.tensor([ids], dtype=torch.long)
        if source is None:
            acts = capture(lm, tensor, layer, "neurons")[0]
        else:
            acts = source.encode(capture(lm, tensor, source.in_hook.layer, source.in_hook.site)[0])
        results.append(ProbeResult(text, [lm.tokenizer.decode([i]) for i in ids], chosen,
                                   acts[:, chosen].numpy().astype(np.float32)))
    return results


__all__ = ["ProbeResult", "capture", "hook_site", "probe"]
