"""Folders of installed packages, found without importing them (some asset packages fail to import)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from superpose.core.errors import SuperposeError


def package_folder(module: str, install: str) -> Path:
    """The folder of the installed package ``module``; a one-line error naming ``install`` if absent."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SuperposeError(f"the package '{module}' is not installed: run `{install}`")
    return Path(list(spec.submodule_search_locations)[0])
