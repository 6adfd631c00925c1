"""A sparse autoencoder (or transcoder) as a set of units: decoder rows as output directions.

Every reader in :mod:`superpose.units.formats` returns a :class:`Sae` holding float32 tensors in
one orientation: ``W_dec [d_sae, d_in]`` (row ``i`` is latent ``i``'s direction), ``W_enc
[d_in, d_sae]``. A latent's projection uses its decoder row alone (not ``b_dec``, which every
latent shares). Its activation on text (the probe) is the encoder's: ReLU, JumpReLU (threshold)
or top-k, as the format's configuration says.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import torch

from superpose.core.errors import SuperposeError
from superpose.units.hooks import Hook

ACTIVATIONS = ("relu", "jumprelu", "topk")


@dataclass(eq=False)
class Sae:
    """One SAE or transcoder, read from disk. ``hook`` is where decoder rows are written,
    ``in_hook`` where the encoder reads (the same hook for an SAE)."""

    name: str
    format: str
    path: str
    hook: Hook
    in_hook: Hook
    W_dec: torch.Tensor
    W_enc: torch.Tensor | None = None
    b_enc: torch.Tensor | None = None
    b_dec: torch.Tensor | None = None
    threshold: torch.Tensor | None = None
    activation: str = "relu"
    k: int | None = None
    subtract_b_dec: bool = False
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def d_sae(self) -> int:
        return int(self.W_dec.shape[0])

    @property
    def d_in(self) -> int:
        return int(self.W_dec.shape[1])

    @property
    def unit_name(self) -> str:
        """What one unit is called in messages."""
        return "SAE latent"

    @property
    def layer(self) -> int:
        return self.hook.layer

    @property
    def decoder_sha256(self) -> str:
        return hashlib.sha256(self.W_dec.contiguous().numpy().tobytes()).hexdigest()

    def identity(self) -> dict[str, Any]:
        """What the metadata records about the SAE (and what a resumed run must match)."""
        return {"kind": "sae", "name": self.name, "format": self.format, "path": self.path,
                "hook": self.hook.name, "site": self.hook.site, "layer": self.hook.layer,
                "in_hook": self.in_hook.name, "d_in": self.d_in, "d_sae": self.d_sae,
                "activation": self.activation, "k": self.k,
                "decoder_sha256": self.decoder_sha256}

    # --- as a unit source for the projection ----------------------------------------------------

    def check_model(self, lm: Any) -> None:
        """One-line error when the SAE does not fit ``lm`` (width or hook layer)."""
        if self.d_in != lm.hidden_size:
            raise SuperposeError(f"the SAE {self.path} has width d_in={self.d_in}, but {lm.name} has "
                                 f"hidden size {lm.hidden_size}: use an SAE trained on this model")
        for hook in (self.hook, self.in_hook):
            if not 0 <= hook.layer < lm.n_layers:
                raise SuperposeError(f"the SAE {self.path} hooks layer {hook.layer} ({hook.name}), but "
                                     f"{lm.name} has layers 0-{lm.n_layers - 1}: use an SAE of this model")

    def n_units(self) -> int:
        return self.d_sae

    def start_vectors(self, index: torch.Tensor) -> torch.Tensor:
        """Decoder rows of the latents in ``index``: (len(index), d_in) float32."""
        return self.W_dec.to(index.device)[index]

    def blocks(self, n_layers: int, mode: str) -> range:
        """Blocks a decoder row runs through: none in Hi-I, those after the hook in Hi-C."""
        if mode == "hi-i":
            return range(0)
        if mode == "hi-c":
            return range(self.hook.first_block(), n_layers)
        raise SuperposeError(f"mode {mode} projects residual dimensions, not SAE latents: use hi-c "
                             "or hi-i with --sae")

    # --- activations -------------------------------------------------------------------------

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent activations (..., d_sae) of hook inputs ``x`` (..., d_in)."""
        if self.W_enc is None:
            raise SuperposeError(f"the SAE {self.path} has no encoder: its latents have no activations")
        x = x.to(torch.float32)
        if self.subtract_b_dec and self.b_dec is not None:
            x = x - self.b_dec
        pre = x @ self.W_enc
        if self.b_enc is not None:
            pre = pre + self.b_enc
        if self.activation == "jumprelu":
            return pre * (pre > self.threshold)
        acts = torch.relu(pre)
        if self.activation == "topk":
            top = acts.topk(min(int(self.k), acts.shape[-1]), dim=-1)
            acts = torch.zeros_like(acts).scatter_(-1, top.indices, top.values)
        return acts


def safe_name(text: str) -> str:
    """A filesystem-safe label (the SAE's part of a run folder's name)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "sae"


def units_run_name(model: str, identity: dict[str, Any]) -> str:
    """The model part of a run's folder for units other than neurons: ``{model}--sae-{name}`` for an
    SAE or transcoder, ``{model}--concepts-{name}`` for a concept file."""
    kind = "concepts" if identity.get("kind") == "concepts" else "sae"
    return f"{model}--{kind}-{identity['name']}"
