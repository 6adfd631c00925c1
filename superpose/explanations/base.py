"""What every format reader shares: the format record, checked JSON reading, and the row we write.

An imported row is a row of our explanations format (docs/formats/llm.md, "Explanations") with
the source's own scores under ``published_scores`` (never under ``scores``, which holds ours) and
where it came from under ``imported``. Readers raise :class:`SuperposeError` naming the file and
line of anything malformed; nothing is written until every file has been read.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError

IMPORT_FORMAT = "superpose.explanations.import"


@dataclass(frozen=True)
class ImportOptions:
    """What a reader may need beyond the source: the records model, the SAE, the explainer."""

    model: str | None = None          # --model: the model whose units these are (our short name)
    model_source: str | None = None   # what --model said (a hub id or a folder), for records
    sae: Any = None                   # a loaded superpose.units.Sae (--sae), or None
    explainer_model: str | None = None


@dataclass
class Imported:
    """One explanation read from a source: the unit, the text, the scores it was published with."""

    layer: int
    neuron: int
    text: str
    where: str                                  # "file:line" (or "file")
    explainer_model: str | None = None
    scores: dict[str, Any] = field(default_factory=dict)   # name -> number or {"undefined": why}
    headline: str | None = None                 # the name of the source's own main score
    extra: dict[str, Any] = field(default_factory=dict)    # format-specific provenance

    def headline_value(self) -> float | None:
        value = self.scores.get(self.headline) if self.headline else None
        return float(value) if isinstance(value, (int, float)) else None


@dataclass(frozen=True)
class ExplanationFormat:
    """An external format: ``read(source, options)`` lists its explanations (and may write
    activation records through ``records``); ``write(rows, out, settings)`` writes our texts in it."""

    name: str
    help: str
    read: Callable[[Path, ImportOptions], list[Imported]]
    write: Callable[..., list[Path]] | None = None
    records: Callable[[Path, ImportOptions, Path], Path | None] | None = None
    default_model: Callable[[Path], str | None] | None = None  # the model the source's layout names


# ---- checked reading -----------------------------------------------------------------------------

def fail(where: str, problem: str, fix: str = "") -> SuperposeError:
    return SuperposeError(f"{where}: {problem}" + (f"; {fix}" if fix else ""))


def read_text(path: Path) -> str:
    """A file's text, gunzipped when its name ends in .gz; one-line errors for unreadable files."""
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                return fh.read()
        return path.read_text(encoding="utf-8")
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise fail(str(path), f"is not a readable gzip file ({err})",
                   "re-download it, or drop the .gz suffix if it is plain text") from None
    except UnicodeDecodeError as err:
        raise fail(str(path), f"is not UTF-8 text ({err.reason} at byte {err.start})",
                   "pass the format's own text files") from None


def parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise fail(where, f"is not valid JSON ({err.msg} at column {err.colno})",
                   "the file is damaged or not of this format") from None


def json_lines(path: Path) -> Iterator[tuple[str, Any]]:
    """(``file:line``, object) of every non-empty line of a JSON-lines file (gzipped or not)."""
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if line.strip():
            where = f"{path}:{number}"
            yield where, parse_json(line, where)


_TYPES = {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object",
          bool: "true or false"}


def need(obj: Any, key: str, kind: type | tuple[type, ...], where: str, *, optional: bool = False) -> Any:
    """``obj[key]`` checked to be of ``kind`` (ints count as numbers; bools never do)."""
    if not isinstance(obj, dict):
        raise fail(where, f"expected a JSON object, found {type(obj).__name__}")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if key not in obj or obj[key] is None:
        if optional:
            return None
        raise fail(where, f"lacks the field {key!r}", "the file is damaged or not of this format")
    value = obj[key]
    accepted = kinds + ((int,) if float in kinds else ())
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, accepted):
        names = " or ".join(_TYPES.get(k, k.__name__) for k in kinds)
        raise fail(where, f"field {key!r} should be {names}, not {json.dumps(value)[:40]}")
    return value


def score_value(value: Any) -> Any:
    """A published score as we keep it: a finite number, or ``{"undefined": why}``."""
    if value is None:
        return {"undefined": "not given by the source"}
    if isinstance(value, str) and value.strip().lower() == "nan":
        return {"undefined": "NaN in the source"}
    try:
        number = float(value)
    except (TypeError, ValueError):
        return {"undefined": f"{value!r} in the source"}
    return number if math.isfinite(number) else {"undefined": f"{value} in the source"}


def layer_of(name: str, where: str, pattern: str, what: str) -> int:
    found = re.search(pattern, name)
    if not found:
        raise fail(where, f"cannot read a layer number from {what} {name!r}")
    return int(found.group(1))


def files_under(source: Path, suffixes: tuple[str, ...], what: str) -> list[Path]:
    """``source`` itself or every file below it whose name ends in one of ``suffixes``, sorted."""
    if not source.exists():
        raise SuperposeError(f"{source} does not exist: pass a file or folder of {what}")
    if source.is_file():
        return [source]
    found = sorted(p for p in source.rglob("*") if p.is_file() and p.name.endswith(suffixes))
    if not found:
        raise SuperposeError(f"{source} holds no {what} (no file ending in {', '.join(suffixes)})")
    return found
