"""Registry of unit file formats (SAEs, transcoders, concept files): every module here except
``base`` defining ``FORMAT`` is one.

Adding a format is adding one file with a :class:`~superpose.units.formats.base.SaeFormat`.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.registry import Registry, own_name
from superpose.units.formats.base import SaeFormat
from superpose.units.sae import Sae

__all__ = ["SaeFormat", "check_units", "detect", "load_sae", "registry"]

FORMATS: Registry[SaeFormat] = Registry(__name__, "FORMAT", key=own_name)


@cache
def registry() -> dict[str, SaeFormat]:
    """Every format by name (file modules of this package, see :mod:`superpose.core.registry`)."""
    return FORMATS.all()


def detect(path: Path) -> SaeFormat:
    """The format of the SAE at ``path``, or a one-line error naming what each format needs."""
    for fmt in registry().values():
        if fmt.detect(path):
            return fmt
    raise SuperposeError(f"{path} is no units file this library reads: expected cfg.json with "
                         "sae_weights.safetensors (SAELens), cfg.json with sae.safetensors "
                         "(EleutherAI sparsify), params.npz (Gemma Scope) or a concept .npz "
                         "(superpose concepts fit)")


def load_sae(path: str | os.PathLike, *, hook: str | None = None) -> Sae:
    """Read units in any supported format (detected from the files), checked for consistency: an SAE
    or transcoder, or a concept file (:class:`superpose.units.concepts.ConceptSet`).

    ``hook`` overrides the hook named by the files (needed for Gemma Scope files outside their
    ``layer_N`` folders).
    """
    where = Path(path).expanduser()
    if not where.exists():
        raise SuperposeError(f"units path {where} does not exist: give an SAE folder with cfg.json "
                             "and sae_weights.safetensors (SAELens) or sae.safetensors (sparsify), "
                             "a Gemma Scope params.npz, or a concept file (superpose concepts fit)")
    return detect(where).load(where, hook)


def check_units(path: str | os.PathLike, recorded: dict[str, Any] | None, where: str) -> Sae:
    """The units at ``path``, after checking that ``where`` (records or a mining run, whose metadata
    recorded ``recorded``) was made from them; a one-line error otherwise."""
    units = load_sae(path)
    mine = units.identity()
    if not recorded:
        raise SuperposeError(f"{where} holds MLP neurons, not the units of {path}: make it with --units {path}")
    if (recorded.get("kind", "sae"), recorded.get("decoder_sha256")) != (mine["kind"], mine["decoder_sha256"]):
        raise SuperposeError(f"{where} holds the units of {recorded.get('path')}, not those of {path}: give "
                             "the units file it was made from")
    return units
