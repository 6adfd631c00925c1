"""Builders registered by name, for the extension points that register with a decorator.

A package makes one :class:`KindRegistry`; each of its modules registers a builder with
``@registry.register(name, help)``. The package's modules are imported on the first lookup, so a
new kind is one new file in the package (or a ``register`` call anywhere before use).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

B = TypeVar("B", bound=Callable[..., Any])
T = TypeVar("T")


def module_objects(package: str, path: Iterable[str], attr: str, kind: type[T],
                   skip: tuple[str, ...] = ("base",)) -> list[T]:
    """The ``attr`` of every module of ``package`` (but ``skip``) defining one of type ``kind``, by
    module name: the extension points where a new kind is a module with a ``FORMAT`` object."""
    found = []
    for info in sorted(pkgutil.iter_modules(list(path)), key=lambda m: m.name):
        if info.name not in skip:
            obj = getattr(importlib.import_module(f"{package}.{info.name}"), attr, None)
            if isinstance(obj, kind):
                found.append(obj)
    return found


@dataclass(frozen=True)
class Kind(Generic[B]):
    """One registered kind: its name, a one-line help, and its builder."""

    name: str
    help: str
    build: B


class KindRegistry(Generic[B]):
    """Kinds of one package by name; ``path()`` is the package's ``__path__`` (read when needed)."""

    def __init__(self, package: str, path: Callable[[], Iterable[str]], skip: tuple[str, ...] = ("base",)) -> None:
        self.package, self.path, self.skip = package, path, skip
        self.kinds: dict[str, Kind[B]] = {}

    def register(self, name: str, help: str) -> Callable[[B], B]:
        """Decorator: make the builder the kind ``name``."""
        def add(build: B) -> B:
            self.kinds[name] = Kind(name, help, build)
            return build
        return add

    def all(self) -> dict[str, Kind[B]]:
        """Every kind by name, the package's own modules imported first."""
        for info in pkgutil.iter_modules(list(self.path())):
            if info.name not in self.skip:
                importlib.import_module(f"{self.package}.{info.name}")
        return dict(sorted(self.kinds.items()))
