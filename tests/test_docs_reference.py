"""The generated command-line reference (docs/hooks/cli_reference.py) covers every command."""

import argparse
import importlib.util
from pathlib import Path

import pytest

from superpose.cli import _commands, build_parser

pytest.importorskip("mkdocs")
HOOK = Path(__file__).resolve().parents[1] / "docs" / "hooks" / "cli_reference.py"


def _hook():
    spec = importlib.util.spec_from_file_location("cli_reference", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_command_and_option_is_in_the_reference():
    page = _hook().render(build_parser())
    for cmd in _commands():
        words = " ".join(("superpose", *cmd.words))
        assert f"## {words} {{#{words.replace(' ', '-')}}}" in page
        assert f"[`{words}`](#{words.replace(' ', '-')})" in page  # in the index table too
    section = page[page.index("## superpose score "):page.index("## superpose search ")]
    assert "`--score-records K`" in section and "(default: 5)" in section
    assert "`--progress`, `--no-progress`" in section and "\nsuperpose score [-h] --records DIR" in section


def test_a_new_command_appears_without_editing_the_hook():
    parser = argparse.ArgumentParser(prog="superpose")
    top = parser.add_subparsers()
    group = top.add_parser("concepts", help="concepts commands").add_subparsers()
    fit = group.add_parser("fit", help="Fit concepts | quickly.", description="Fits <concepts>.")
    fit.add_argument("--k", type=int, default=3, help="how many (default: %(default)s)")
    page = _hook().render(parser)
    assert "| [`superpose concepts fit`](#superpose-concepts-fit) | Fit concepts \\| quickly. |" in page
    assert "Fits &lt;concepts&gt;." in page and "| `--k K` | how many (default: 3) |" in page
