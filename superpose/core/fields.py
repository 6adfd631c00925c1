"""Documented dataclass fields: each parameter's help text, flag and choices live beside its default.

The stage configs (:mod:`superpose.config`) and the CLI's command dataclasses both declare their
fields with :func:`option` and :func:`positional`; :mod:`superpose.cli.args` turns them into argparse
options, so a parameter and its default are written once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import MISSING
from typing import Any


def option(help: str, default: Any = MISSING, *, flag: str | None = None, metavar: str | None = None,
           default_factory: Any = MISSING, short: str | None = None,
           choices: Callable[[], tuple[str, ...]] | tuple[str, ...] | None = None,
           parse: Callable[[str], Any] | None = None, aliases: tuple[str, ...] = ()) -> Any:
    """A ``--name`` option; required when it has no default. ``aliases``: older flags that still work.

    ``choices`` may be a function (a registry's names, looked up when the parser is built);
    ``parse`` turns the command-line string into the field's value.
    """
    meta = {"help": help, "flag": flag, "metavar": metavar, "short": short, "positional": False,
            "choices": choices, "parse": parse, "aliases": tuple(aliases)}
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def positional(help: str, default: Any = MISSING, *, metavar: str | None = None,
               default_factory: Any = MISSING) -> Any:
    """A positional argument; a ``list`` type takes one or more values."""
    meta = {"help": help, "metavar": metavar, "positional": True}
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)
