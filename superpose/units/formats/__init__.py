"""Registry of unit file formats (SAEs, transcoders, concept files): every module here except
``base`` defining ``FORMAT`` is one.

Adding a format is adding one file with a :class:`~superpose.units.formats.base.SaeFormat`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.units.formats.base import SaeFormat

__all__ = ["SaeFormat", "detect", "registry"]


@cache
def registry() -> dict[str, SaeFormat]:
    found: dict[str, SaeFormat] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base":
            continue
        fmt = getattr(importlib.import_module(f"{__name__}.{info.name}"), "FORMAT", None)
        if isinstance(fmt, SaeFormat):
            found[fmt.name] = fmt
    return found


def detect(path: Path) -> SaeFormat:
    """The format of the SAE at ``path``, or a one-line error naming what each format needs."""
    for fmt in registry().values():
        if fmt.detect(path):
            return fmt
    raise SuperposeError(f"{path} is no units file this library reads: expected cfg.json with "
                         "sae_weights.safetensors (SAELens), cfg.json with sae.safetensors "
                         "(EleutherAI sparsify), params.npz (Gemma Scope) or a concept .npz "
                         "(superpose concepts fit)")
