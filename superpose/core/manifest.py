"""Run identity: what a folder was made with, and the refusal to mix two different runs in one folder.

Every stage that writes a folder records its request (the parameters that shape its output) in a JSON
manifest stamped with library versions and a time. A later run into the same folder compares its own
request with the recorded one: the same request resumes, a different one is refused (naming the
parameters that differ) unless the caller chose to overwrite.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.provenance import timestamp, versions


def stamp(**fields: Any) -> dict[str, Any]:
    """``fields`` with the library versions added (and ``created`` unless a time is given)."""
    out = dict(fields)
    out.setdefault("versions", versions())
    if not any(key in out for key in ("created", "started", "finished")):
        out["created"] = timestamp()
    return out


def read_manifest(path: str | Path) -> dict[str, Any] | None:
    """The manifest at ``path``, or None when there is none; an unreadable one is an error."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SuperposeError(f"{path} is not a readable manifest ({err}): delete it or choose another folder") from None


def changed_keys(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Top-level keys whose values differ between two requests."""
    old = old or {}
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def refuse_other_request(path: str | Path, request: dict[str, Any], *, what: str, fix: str,
                         key: str = "request") -> dict[str, Any] | None:
    """Refuse when the manifest at ``path`` records a ``key`` other than ``request``.

    Returns the manifest (or None). The error reads "{folder} holds {what} with different parameters
    (a, b): {fix}".
    """
    manifest = read_manifest(path)
    if manifest is None:
        return None
    changed = changed_keys(manifest.get(key), request)
    if changed:
        raise SuperposeError(f"{Path(path).parent} holds {what} with different parameters ({', '.join(changed)}): "
                             f"{fix}")
    return manifest
