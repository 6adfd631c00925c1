"""Versions and parameters recorded in every output's metadata, so results can be reproduced."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform

FORMAT_PACKAGES = ("superpose", "torch", "transformers", "numpy", "scipy", "cvxpy", "pyscipopt",
                   "gensim", "networkx", "gguf")


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions(extra: tuple[str, ...] = ()) -> dict[str, str | None]:
    """Versions of Python and of the packages that shape results, without importing them."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in FORMAT_PACKAGES + tuple(extra):
        out[name] = package_version(name)
    return out


def timestamp() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
