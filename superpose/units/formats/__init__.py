"""Registry of SAE file formats: every module here except ``base`` defines ``FORMAT``.

Adding a format is adding one file with a :class:`~superpose.units.formats.base.SaeFormat`.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.core.registry import Registry, own_name
from superpose.units.formats.base import SaeFormat
from superpose.units.sae import Sae

__all__ = ["SaeFormat", "detect", "load_sae", "registry"]

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
    raise SuperposeError(f"{path} is no SAE this library reads: expected cfg.json with "
                         "sae_weights.safetensors (SAELens), cfg.json with sae.safetensors "
                         "(EleutherAI sparsify) or params.npz (Gemma Scope)")


def load_sae(path: str | os.PathLike, *, hook: str | None = None) -> Sae:
    """Read an SAE in any supported format (detected from the files), checked for consistency.

    ``hook`` overrides the hook named by the files (needed for Gemma Scope files outside their
    ``layer_N`` folders).
    """
    where = Path(path).expanduser()
    if not where.exists():
        raise SuperposeError(f"SAE path {where} does not exist: give a folder with cfg.json and "
                             "sae_weights.safetensors (SAELens) or sae.safetensors (sparsify), or "
                             "a Gemma Scope params.npz")
    return detect(where).load(where, hook)
