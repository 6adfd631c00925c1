"""Mined versus random topics, per layer and polarity: the table that says whether mining works."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.core.fileio import write_text_atomic
from superpose.core.tables import csv_text, fmt_cell, markdown_table
from superpose.mining.store import RunReader

COLUMNS = ["source", "layer", "polarity", "pools", "with_topic", "topics", "topics_per_pool", "mean_npmi",
           "npmi_p25", "npmi_median", "npmi_p75", "npmi_max"]


def _stats(with_topics: np.ndarray, scores: np.ndarray) -> dict:
    """Statistics of one group: ``with_topics`` (topics per pool) and the topics' ``scores``."""
    pools = len(with_topics)

    def pct(q: float) -> float:
        return float(np.percentile(scores, q)) if len(scores) else math.nan

    return {"pools": pools, "with_topic": int((with_topics > 0).sum()) / pools if pools else math.nan,
            "topics": len(scores), "topics_per_pool": len(scores) / pools if pools else math.nan,
            "mean_npmi": float(scores.mean()) if len(scores) else math.nan, "npmi_p25": pct(25),
            "npmi_median": pct(50), "npmi_p75": pct(75), "npmi_max": float(scores.max()) if len(scores) else math.nan}


def summarize(run_folder: str | Path) -> list[dict]:
    """Rows of COLUMNS for the mined run and its random baseline: per layer and polarity, then all.

    Reads the run in any layout (per-unit files, bulk tables, shards) through :class:`RunReader`.
    """
    folder = Path(run_folder)
    rows = []
    for name, path in {"mined": folder, "random": folder / "random"}.items():
        if name == "random" and not path.is_dir():
            continue
        try:
            reader = RunReader(path)
        except SuperposeError:
            if name == "mined":
                raise
            continue
        pools, topics = reader.pools(), reader.topics()
        pool_layer, pool_pol = pools["layer"].to_numpy(), pools["polarity"].to_numpy(zero_copy_only=False)
        counts = pools["topics"].to_numpy()
        topic_layer, topic_pol = topics["layer"].to_numpy(), topics["polarity"].to_numpy(zero_copy_only=False)
        scores = topics["score"].to_numpy()
        groups = [(str(layer), polarity) for layer in sorted(set(pool_layer.tolist())) for polarity in ("neg", "pos")]
        groups += [("all", "both"), ("all", "neg"), ("all", "pos")]
        for layer, polarity in groups:
            pool_mask = np.ones(len(counts), bool) if layer == "all" else pool_layer == int(layer)
            topic_mask = np.ones(len(scores), bool) if layer == "all" else topic_layer == int(layer)
            if polarity != "both":
                pool_mask &= pool_pol == polarity
                topic_mask &= topic_pol == polarity
            if not pool_mask.any() and not topic_mask.any():
                continue
            rows.append({"source": name, "layer": layer, "polarity": polarity,
                         **_stats(counts[pool_mask], scores[topic_mask])})
    return rows


def write_summary(run_folder: str | Path) -> tuple[Path, str]:
    """Write ``summary.csv`` and ``summary.md`` into the run folder; returns the CSV path and the markdown."""
    folder = Path(run_folder)
    rows = summarize(folder)
    write_text_atomic(folder / "summary.csv", csv_text(COLUMNS, rows))
    header = ["source", "layer", "polarity", "share with a topic", "topics/pool", "mean NPMI", "median NPMI",
              "max NPMI", "pools"]
    markdown = markdown_table(header, ([r["source"], str(r["layer"]), r["polarity"]]
                                       + [fmt_cell(r[c]) for c in ("with_topic", "topics_per_pool", "mean_npmi",
                                                                   "npmi_median", "npmi_max")] + [str(r["pools"])]
                                       for r in rows))
    write_text_atomic(folder / "summary.md", markdown)
    return folder / "summary.csv", markdown
