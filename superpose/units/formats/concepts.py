"""Concept files written by ``superpose concepts fit``: one ``.npz`` with ``concepts``, ``directions``,
``center``, ``encoder`` (linear methods) and a JSON ``meta`` entry (docs/concepts.md). The hook is the
MLP output of the concepts' block; ``--sae-hook`` cannot move it (the directions belong to that block).
"""

from __future__ import annotations

from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.units.concepts import is_concept_file, read_concepts
from superpose.units.formats.base import SaeFormat
from superpose.units.sae import Sae


def _load(path: Path, hook_override: str | None) -> Sae:
    if hook_override is not None:
        raise SuperposeError(f"{path} is a concept file: its hook is fixed by its layer, drop --sae-hook")
    return read_concepts(path)


FORMAT = SaeFormat("concepts", is_concept_file, _load)
