"""Mined versus random topics, per layer and polarity: the table that says whether mining works."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.core.fileio import write_text_atomic
from superpose.core.tables import csv_text, fmt_cell, markdown_table
from superpose.mining.store import read_bulk

COLUMNS = ["source", "layer", "polarity", "pools", "with_topic", "topics", "topics_per_pool", "mean_npmi",
           "npmi_p25", "npmi_median", "npmi_p75", "npmi_max"]


def _stats(pools: list[dict], topics: list[dict]) -> dict:
    scores = np.array([float(t["score"]) for t in topics])
    with_topic = sum(int(p["topics"]) > 0 for p in pools)

    def pct(q: float) -> float:
        return float(np.percentile(scores, q)) if len(scores) else math.nan

    return {"pools": len(pools), "with_topic": with_topic / len(pools) if pools else math.nan,
            "topics": len(topics), "topics_per_pool": len(topics) / len(pools) if pools else math.nan,
            "mean_npmi": float(scores.mean()) if len(scores) else math.nan, "npmi_p25": pct(25),
            "npmi_median": pct(50), "npmi_p75": pct(75), "npmi_max": float(scores.max()) if len(scores) else math.nan}


def summarize(run_folder: str | Path) -> list[dict]:
    """Rows of COLUMNS for the mined run and its random baseline: per layer and polarity, then all."""
    folder = Path(run_folder)
    sources = {"mined": folder, "random": folder / "random"}
    rows = []
    for name, path in sources.items():
        if not (path / "pools.csv.gz").is_file():
            if name == "mined":
                raise SuperposeError(f"{folder} holds no finished mining run: run `superpose mine` first")
            continue
        pools, topics = read_bulk(path / "pools.csv.gz"), read_bulk(path / "topics.csv.gz")
        groups: dict[tuple[str, str], tuple[list, list]] = defaultdict(lambda: ([], []))
        for p in pools:
            groups[(p["layer"], p["polarity"])][0].append(p)
            groups[("all", p["polarity"])][0].append(p)
            groups[("all", "both")][0].append(p)
        for t in topics:
            groups[(t["layer"], t["polarity"])][1].append(t)
            groups[("all", t["polarity"])][1].append(t)
            groups[("all", "both")][1].append(t)
        order = sorted(groups, key=lambda k: (k[0] == "all", int(k[0]) if k[0] != "all" else 0, k[1]))
        for layer, polarity in order:
            rows.append({"source": name, "layer": layer, "polarity": polarity, **_stats(*groups[(layer, polarity)])})
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
