"""Small table helpers every stage shares: cell formatting, CSV and markdown text, JSON lines."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def fmt_cell(value: Any, spec: str = ".3f") -> str:
    """A float with ``spec`` (NaN as an empty cell); anything else as ``str``."""
    if isinstance(value, float):
        return "" if math.isnan(value) else format(value, spec)
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[dict[str, Any]], spec: str = ".3f") -> str:
    """CSV with a header, ``rows`` formatted cell by cell with :func:`fmt_cell`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: fmt_cell(row[k], spec) for k in columns} for row in rows)
    return buffer.getvalue()


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A pipe table (cells already formatted), ending with a newline."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines) + "\n"


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """All complete objects of a JSON-lines file; a torn last line (crash mid-write) is skipped."""
    p = Path(path)
    if not p.exists():
        return []
    rows = []
    for line in p.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows
