"""Declare CLI commands as documented dataclasses and turn them into argparse parsers.

A command is a dataclass whose docstring is the command's help and whose fields carry their
help text in ``field(metadata=...)``; :func:`option` and :func:`positional` build those fields.
A field whose type is itself a dataclass (a stage config of :mod:`superpose.config`) contributes
all of its fields as options (at any depth) and is rebuilt, and so validated, before the command
runs. An option's flag is ``--field-name`` unless the field's metadata names another (``flag``),
and its parsed value is kept under that flag's name, so two configs cannot claim one option.
Keeping the arguments as plain dataclasses makes each command callable from Python too.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from typing import Any, Literal, get_args, get_origin

from superpose.core.fields import option, positional

__all__ = ["Command", "add_dataclass_arguments", "namespace_to_dataclass", "option", "option_dest", "positional"]


@dataclass(frozen=True)
class Command:
    """A CLI command: its words (``("corpus", "build")``), its argument dataclass and its runner."""

    words: tuple[str, ...]
    args_type: type
    run: Callable[[Any], int | None]


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        if len(inner) == 1:
            return inner[0], True
    return tp, False


def option_dest(f: dataclasses.Field) -> str:
    """Where argparse keeps a field's value: its flag without dashes (positionals: the field name)."""
    if f.metadata.get("positional"):
        return f.name
    return (f.metadata.get("flag") or f.name).lstrip("-").replace("-", "_")


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    hints = typing.get_type_hints(cls)
    # Required arguments first (in usage and --help), whatever base class declared the others.
    fields = sorted(dataclasses.fields(cls),
                    key=lambda f: f.default is not MISSING or f.default_factory is not MISSING)
    for f in fields:
        meta = f.metadata
        tp, _ = _unwrap_optional(hints[f.name])
        if dataclasses.is_dataclass(tp):
            add_dataclass_arguments(parser, tp)
            continue
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        default = f.default if f.default is not MISSING else (
            f.default_factory() if f.default_factory is not MISSING else None)
        kwargs: dict[str, Any] = {"help": meta.get("help", "")}
        if meta.get("metavar"):
            kwargs["metavar"] = meta["metavar"]
        origin = get_origin(tp)
        is_list = origin is list
        elem = get_args(tp)[0] if is_list else tp
        if get_origin(elem) is Literal:
            kwargs["choices"] = list(get_args(elem))
            elem = type(get_args(elem)[0])
        if meta.get("choices"):
            choices = meta["choices"]
            kwargs["choices"] = list(choices() if callable(choices) else choices)
        if meta.get("parse"):
            elem = meta["parse"]
        if meta.get("positional"):
            if is_list:
                kwargs["nargs"] = "*" if has_default else "+"
            elif has_default:
                kwargs["nargs"] = "?"
            kwargs["type"] = elem
            if has_default:
                kwargs["default"] = default
            parser.add_argument(option_dest(f), **kwargs)
            continue
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        names = [flag] + ([meta["short"]] if meta.get("short") else []) + list(meta.get("aliases", ()))
        if elem is bool and not is_list:
            kwargs["action"] = argparse.BooleanOptionalAction
            kwargs["default"] = bool(default)
            kwargs["help"] += f" (default: {'on' if default else 'off'})"
        else:
            kwargs["type"] = elem
            if is_list:
                kwargs["action"] = "append"
            if has_default:
                kwargs["default"] = None if is_list else default
                if default is not None and default is not False and default != [] and "help" in kwargs:
                    kwargs["help"] += f" (default: {default})"
            else:
                kwargs["required"] = True
            if "choices" in kwargs and "metavar" not in kwargs:
                kwargs["help"] += f"; one of: {', '.join(map(str, kwargs['choices']))}"
                kwargs["metavar"] = option_dest(f).upper()
        kwargs["dest"] = option_dest(f)
        parser.add_argument(*names, **kwargs)


def namespace_to_dataclass(ns: argparse.Namespace, cls: type) -> Any:
    """The command's dataclass from parsed options; stage configs validate themselves here."""
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        tp, _ = _unwrap_optional(hints[f.name])
        if dataclasses.is_dataclass(tp):
            values[f.name] = namespace_to_dataclass(ns, tp)
            continue
        value = getattr(ns, option_dest(f))
        if value is None and f.default_factory is not MISSING:
            value = f.default_factory()
        values[f.name] = value
    return cls(**values)
