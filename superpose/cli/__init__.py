"""The ``superpose`` command line: one module per command group, each declaring dataclass commands.

Heavy libraries (torch, transformers, cvxpy) are imported inside the commands, so ``--help``
stays fast.
"""

from __future__ import annotations

import argparse
import errno
import inspect
import os
import sys
from collections.abc import Sequence

from superpose.cli.args import Command, add_dataclass_arguments, namespace_to_dataclass
from superpose.cli.runtime import quiet_progress
from superpose.core.errors import SuperposeError
from superpose.core.registry import Registry

# Every module of this package but the helpers defines COMMANDS: list[Command]; adding a command is
# adding a module (superpose.core.registry). HELP_ORDER places the built-in ones in ``--help``;
# any other module follows, by name.
COMMAND_MODULES: Registry[list[Command]] = Registry(__name__, "COMMANDS", helpers=("args", "checks", "runtime"))
HELP_ORDER = ("corpus", "corpus_import", "project", "mine", "llm", "units", "concepts", "compare", "explanations",
              "report", "search", "demo")


def _commands() -> list[Command]:
    return [cmd for commands in COMMAND_MODULES.in_order(HELP_ORDER) for cmd in commands]


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


def _os_error(err: OSError) -> str:
    where = f" ({err.filename})" if err.filename else ""
    what = err.strerror or str(err) or type(err).__name__
    if err.errno == errno.ENOSPC:
        fix = "free some space or choose another output folder; finished parts are kept for the resume"
    elif err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = "choose a folder you can write to"
    else:
        fix = "set SUPERPOSE_TRACEBACK=1 to see where it happened"
    return f"{what}{where}: {fix}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
        cmd: Command = ns._command
        args = namespace_to_dataclass(ns, cmd.args_type)
        with quiet_progress(getattr(args, "progress", True) is False):
            result = cmd.run(args)
    except SuperposeError as err:
        print(f"superpose: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `superpose ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as err:  # a full disk, a read-only folder, a vanished file: one line, not a traceback
        if os.environ.get("SUPERPOSE_TRACEBACK"):
            raise
        print(f"superpose: error: {_os_error(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("superpose: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
