"""``run.json``, the manifest of a mining run: its format tags and its one reader.

``pipeline.mine`` writes the output side's runs and ``input_side`` the input side's; every other
module reads a run's manifest through :func:`read_run_file`, which checks the format tag and
version so that an unknown or newer file is a one-line error, not a KeyError later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError

RUN_FILE = "run.json"
RUN_FORMAT = "superpose-mine"  # pipeline.mine: output-side topics
INPUT_RUN_FORMAT = "superpose-mine-input"  # input_side: topics of top activating words
RUN_FORMAT_VERSION = 1
_VERSIONS = {RUN_FORMAT: RUN_FORMAT_VERSION, INPUT_RUN_FORMAT: RUN_FORMAT_VERSION}


def read_run_file(folder: str | Path) -> dict[str, Any] | None:
    """The run manifest in ``folder``, or None when there is none; a one-line error if it is not one."""
    path = Path(folder) / RUN_FILE
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SuperposeError(f"{path} is not valid JSON ({err}): rerun `superpose mine` into this folder") from None
    tag = found.get("format") if isinstance(found, dict) else None
    if tag not in _VERSIONS:
        raise SuperposeError(f"{path} is not a superpose mining run (format {tag!r}, expected one of "
                             f"{', '.join(_VERSIONS)}): pass the folder written by `superpose mine`")
    version = found.get("format_version")
    if version != _VERSIONS[tag]:
        raise SuperposeError(f"{path} has {tag} format version {version!r}, this superpose reads version "
                             f"{_VERSIONS[tag]}: use the superpose version that wrote it, or mine the run again")
    if not isinstance(found.get("request"), dict):
        raise SuperposeError(f"{path} has no request: rerun `superpose mine` into this folder")
    return found
