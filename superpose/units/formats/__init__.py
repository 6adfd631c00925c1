"""Registry of SAE file formats: every module here except ``base`` defines ``FORMAT``.

Adding a format is adding one file with a :class:`~superpose.units.formats.base.SaeFormat`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.core.registry import Registry, own_name
from superpose.units.formats.base import SaeFormat

__all__ = ["SaeFormat", "detect", "registry"]

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
