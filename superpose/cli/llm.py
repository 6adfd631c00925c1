"""CLI commands: llm (filled in by its stage)."""

from superpose.cli.args import Command

COMMANDS: list[Command] = []
