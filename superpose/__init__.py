"""superpose: explain transformer neurons as superposed topic models.

The public API is imported lazily so that ``import superpose`` (and the CLI's ``--help``)
does not pay for torch, transformers or cvxpy until they are needed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "build_corpus": "superpose.corpus.build",
    "load_corpus": "superpose.corpus.store",
    "CorpusCounts": "superpose.corpus.store",
    "coherence": "superpose.corpus.npmi",
    "npmi_matrix": "superpose.corpus.npmi",
    "load_model": "superpose.models",
    "neuron_logits": "superpose.projection.project",
    "project_layer": "superpose.projection.project",
    "load_layer": "superpose.projection.store",
    "star_heuristic": "superpose.mining.shortlist",
    "solve_mekc": "superpose.mining.clique.solve",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'superpose' has no attribute {name!r}")
