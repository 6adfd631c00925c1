"""The ``superpose`` command line: one module per command group, each declaring dataclass commands.

Heavy libraries (torch, transformers, cvxpy) are imported inside the commands, so ``--help``
stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from collections.abc import Sequence

from superpose.cli.args import Command, add_dataclass_arguments, namespace_to_dataclass
from superpose.core.errors import SuperposeError

# Command modules, each exposing COMMANDS: list[Command]. Adding a command is adding a module here.
COMMAND_MODULES = [
    "superpose.cli.corpus",
    "superpose.cli.project",
    "superpose.cli.mine",
    "superpose.cli.llm",
    "superpose.cli.compare",
    "superpose.cli.report",
    "superpose.cli.demo",
]


def _commands() -> list[Command]:
    found: list[Command] = []
    for name in COMMAND_MODULES:
        found.extend(importlib.import_module(name).COMMANDS)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="superpose",
        description="Explain transformer neurons as superposed topic models, next to LLM explanations.",
    )
    top = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {(): top}
    for cmd in _commands():
        for depth in range(1, len(cmd.words)):
            prefix = cmd.words[:depth]
            if prefix not in groups:
                group = groups[prefix[:-1]].add_parser(prefix[-1], help=f"{prefix[-1]} commands")
                groups[prefix] = group.add_subparsers(
                    dest="_".join(prefix), metavar="SUBCOMMAND", required=True)
        doc = inspect.cleandoc(cmd.args_type.__doc__ or "")
        sub = groups[cmd.words[:-1]].add_parser(
            cmd.words[-1], help=doc.splitlines()[0] if doc else None, description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter)
        add_dataclass_arguments(sub, cmd.args_type)
        sub.set_defaults(_command=cmd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    cmd: Command = ns._command
    try:
        result = cmd.run(namespace_to_dataclass(ns, cmd.args_type))
    except SuperposeError as err:
        print(f"superpose: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("superpose: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
