"""One way to add an extension: one file in the kind's package, defining the kind's attribute.

Every extension kind is a package and an attribute name: ``mining/clique/`` and ``SOLVER``,
``execution/`` and ``EXECUTOR``, ``models/adapters/`` and ``ADAPTER``, ``units/formats/`` and
``FORMAT``, ``explainer/clients/`` and ``CLIENT``, ``explainer/simulators/`` and ``SIMULATOR``,
``explainer/scorers/`` and ``SCORER``, ``report/sections/`` and ``SECTION``, ``corpus/builtin/``
and ``SOURCE``, ``cli/`` and ``COMMANDS``. A :class:`Registry` finds the package's modules with
:mod:`pkgutil` (every module but the package's named helpers and ``_private`` ones), so adding an
extension is adding one file; nothing lists them. A plug-in folder can be appended to the
package's ``__path__``. Modules are imported only when their object is asked for, so listing the
choices of a kind keyed by file name (:meth:`Registry.names`) imports nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from superpose.core.errors import SuperposeError

T = TypeVar("T")
B = TypeVar("B", bound=Callable[..., Any])


@dataclass(frozen=True)
class Kind(Generic[B]):
    """An extension that is a builder: its name, a one-line help, and the builder itself."""

    name: str
    help: str
    build: B


def file_name(module: str, _obj: object = None) -> str:
    """The default key: the module's file name, underscores read as hyphens."""
    return module.replace("_", "-")


def own_name(_module: str, obj: Any) -> str:
    """The key of kinds whose objects carry their own ``name``."""
    return obj.name


class Registry(Generic[T]):
    """The extensions of one kind: the modules of ``package`` that define ``attribute``.

    ``helpers`` are the package's modules that are not extensions (``base`` and the like);
    ``key(module, obj)`` names an extension (by default its file name).
    """

    def __init__(self, package: str, attribute: str, helpers: Collection[str] = ("base",),
                 key: Callable[[str, Any], str] = file_name) -> None:
        self.package, self.attribute, self.helpers, self.key = package, attribute, frozenset(helpers), key

    def modules(self) -> list[str]:
        """The extension modules' names, sorted, none imported."""
        path = importlib.import_module(self.package).__path__
        return sorted({m.name for m in pkgutil.iter_modules(path)
                       if m.name not in self.helpers and not m.name.startswith("_")})

    def names(self) -> tuple[str, ...]:
        """Every extension's file-name key, without importing any (kinds keyed by file name)."""
        return tuple(file_name(m) for m in self.modules())

    def load(self, module: str) -> T:
        """The object that ``module`` of the package defines; a one-line error if it defines none."""
        loaded = importlib.import_module(f"{self.package}.{module}")
        if not hasattr(loaded, self.attribute):
            raise SuperposeError(f"{loaded.__name__} defines no {self.attribute}: every module of "
                                 f"{self.package} except {', '.join(sorted(self.helpers))} must define one")
        return getattr(loaded, self.attribute)

    def get(self, name: str) -> T:
        """The extension keyed by file name ``name`` (imports that one module only)."""
        if name not in self.names():
            raise KeyError(name)
        return self.load(name.replace("-", "_"))

    def in_order(self, first: Sequence[str]) -> list[T]:
        """Every extension's object, the modules named in ``first`` in that order, then the rest by name
        (for kinds whose order shows: the report's sections, the commands in ``--help``)."""
        rank = {module: i for i, module in enumerate(first)}
        return [self.load(m) for m in sorted(self.modules(), key=lambda m: (rank.get(m, len(rank)), m))]

    def all(self) -> dict[str, T]:
        """Every extension by its key, sorted by key (imports every module)."""
        found: dict[str, T] = {}
        for module in self.modules():
            obj = self.load(module)
            name = self.key(module, obj)
            if name in found:
                raise SuperposeError(f"two {self.package} extensions are named {name!r}: rename one")
            found[name] = obj
        return dict(sorted(found.items()))
