"""Static HTML report of a mining run, next to the LLM path's explanations (docs/report.md).

``build_report`` reads a run folder (and optionally explanations, activation records and the
compare table), checks they describe the same model and corpus, and writes pages that open from
disk: no server, no network.
"""

from superpose.report.build import build_report

__all__ = ["build_report"]
