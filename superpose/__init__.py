"""superpose: explain transformer neurons as superposed topic models.

The public API is imported lazily so that ``import superpose`` (and the CLI's ``--help``)
does not pay for torch, transformers or cvxpy until they are needed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module; one documented function (or type) per stage, imported on first use.
_LAZY = {
    # corpus (docs/method.md step 3)
    "build_corpus": "superpose.corpus.build",
    "load_corpus": "superpose.corpus.store",
    "CorpusCounts": "superpose.corpus.store",
    "NpmiSource": "superpose.corpus.store",
    "import_npmi_matrix": "superpose.corpus.reference_import",
    "import_topic_metrics": "superpose.corpus.reference_import",
    "coherence": "superpose.corpus.npmi",
    "npmi_matrix": "superpose.corpus.npmi",
    # models and projection (steps 1-2)
    "load_model": "superpose.models",
    "neuron_logits": "superpose.projection.project",
    "project_layer": "superpose.projection.project",
    "project_to_files": "superpose.projection.run",
    "load_layer": "superpose.projection.store",
    # units beyond MLP neurons: SAE and transcoder latents
    "load_sae": "superpose.units",
    "read_concepts": "superpose.units.concepts",
    "fit_concepts": "superpose.concepts.fit",
    "ConceptConfig": "superpose.config",
    "probe": "superpose.activations.probe",
    "token_dispersion": "superpose.activations.dispersion",
    # input side: top activating words and the topics mined from them
    "top_words": "superpose.activations.top_words",
    "mine_input_side": "superpose.input_side",
    # mining (steps 3-5), one unit at a time or whole runs
    "mine_unit": "superpose.api",
    "unit_pool": "superpose.api",
    "UnitTopics": "superpose.api",
    "star_heuristic": "superpose.mining.shortlist",
    "solve_mekc": "superpose.mining.clique.solve",
    "mine": "superpose.pipeline",
    "baseline": "superpose.mining.baseline",
    "summarize": "superpose.mining.summary",
    "read_unit": "superpose.mining.store",
    # configs: every parameter's default and check
    "ProjectionConfig": "superpose.config",
    "MiningConfig": "superpose.config",
    "ExecutionConfig": "superpose.config",
    # reading runs of any layout, searching their topics, the report
    "open_run": "superpose.mining.store",
    "RunReader": "superpose.mining.store",
    "WordIndex": "superpose.mining.search",
    "build_report": "superpose.report",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'superpose' has no attribute {name!r}")
