"""Registry of architecture adapters, keyed by ``config.model_type``.

Every module of this package except ``base`` defines ``ADAPTER`` and is found by
:mod:`superpose.core.registry`: supporting a new family is adding one file.
"""

from __future__ import annotations

from functools import cache

from superpose.core.errors import SuperposeError
from superpose.core.registry import Registry
from superpose.models.adapters.base import Adapter

__all__ = ["Adapter", "adapter_for", "registry", "supported_families"]

ADAPTERS: Registry[Adapter] = Registry(__name__, "ADAPTER")


@cache
def registry() -> dict[str, Adapter]:
    """model_type -> adapter, from every family module in this package."""
    found: dict[str, Adapter] = {}
    for adapter in ADAPTERS.all().values():
        for model_type in adapter.model_types:
            found[model_type] = adapter
    return found


def supported_families() -> str:
    """One line naming every family and the model types it covers."""
    families: dict[str, list[str]] = {}
    for model_type, adapter in registry().items():
        families.setdefault(adapter.family, []).append(model_type)
    return "; ".join(f"{family} ({', '.join(types)})" for family, types in sorted(families.items()))


def adapter_for(model_type: str | None) -> Adapter:
    """The adapter of a ``config.model_type``, or a one-line error listing the supported ones."""
    adapter = registry().get(model_type or "")
    if adapter is None:
        raise SuperposeError(f"unsupported architecture {model_type!r}: supported families are "
                             f"{supported_families()}")
    return adapter
