"""mkdocs hook: the command-line reference page, generated from the parsers ``superpose.cli`` builds.

Every command (and every command a new module adds) is found by walking the subcommands of
``superpose.cli.build_parser()``, so the page cannot fall behind the code: each command's
description, usage and options come from its argument dataclass, as ``--help`` shows them.
"""

from __future__ import annotations

import argparse
import html
from collections.abc import Iterator

from mkdocs.structure.files import File, Files

PAGE = "reference/cli.md"


def _commands(parser: argparse.ArgumentParser, words: tuple[str, ...]
              ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """Every leaf command below ``parser``: its words, its parser and its one-line help."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help or "" for a in action._choices_actions}
        for name, sub in action.choices.items():
            if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                yield from _commands(sub, (*words, name))
            else:
                yield (*words, name), sub, helps.get(name, "")


def _cell(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def _option(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    metavar = "" if action.nargs == 0 else " " + (
        action.metavar if isinstance(action.metavar, str) else action.dest.upper())
    return ", ".join(f"`{flag}{metavar}`" for flag in action.option_strings)


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if not action.help:
        return ""
    return parser._get_formatter()._expand_help(action)  # what --help prints: %(default)s filled in


def render(parser: argparse.ArgumentParser) -> str:
    """The reference page: an index of the commands, then one section per command."""
    commands = sorted(_commands(parser, (parser.prog,)))
    lines = ["# Command line", "",
             "Generated from the code at every build (`docs/hooks/cli_reference.py` walks the parser "
             "of `superpose.cli`): the same text as `superpose COMMAND --help`. Every option comes "
             "from a field of the command's argument dataclass; see "
             "[Getting started](../getting-started.md) for the first commands to run.", "",
             "| command | what it does |", "|---|---|"]
    for words, _, summary in commands:
        anchor = "-".join(words)
        lines.append(f"| [`{' '.join(words)}`](#{anchor}) | {_cell(summary)} |")
    for words, sub, _ in commands:
        lines += ["", f"## {' '.join(words)} {{#{'-'.join(words)}}}", ""]
        if sub.description:
            lines += [html.escape(sub.description, quote=False), ""]
        prefix = "usage: "  # argparse indents the usage's later lines under this prefix
        usage = [line.removeprefix(prefix) if i == 0 else line.removeprefix(" " * len(prefix))
                 for i, line in enumerate(sub.format_usage().rstrip().splitlines())]
        lines += ["```text", *usage, "```", "", "| option | help |", "|---|---|"]
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            lines.append(f"| {_option(action)} | {_cell(_help(sub, action))} |")
    return "\n".join(lines) + "\n"


def on_files(files: Files, config) -> Files:
    from superpose.cli import build_parser

    files.append(File.generated(config, PAGE, content=render(build_parser())))
    return files
