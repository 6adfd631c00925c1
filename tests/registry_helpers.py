"""Extensions added for one test without a file (closures over test state)."""

from __future__ import annotations

from typing import Any

from superpose.core.registry import Registry


def add_extension(monkeypatch: Any, registry: Registry, name: str, obj: Any) -> None:
    """Make ``registry`` list ``obj`` under ``name`` for the rest of the test."""
    found = registry.all
    monkeypatch.setattr(registry, "all", lambda: {**found(), name: obj})
