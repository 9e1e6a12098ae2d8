"""The command-line page's synopsis lists every command with exactly the options it takes."""

from __future__ import annotations

import argparse
import re

from conftest import REPO

from jaxl.cli import _parser

#: Options every command takes, left out of the synopsis: argparse's ``--help``, and
#: ``--device``, described under "Common behaviour".
_COMMON = {"--help", "--device"}


def _commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> dict[str, set[str]]:
    """Each (sub)command, as its words after ``jaxl``, with the long options it takes."""
    options: set[str] = set()
    commands: dict[str, set[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                commands.update(_commands(sub, (*words, name)))
        else:
            options |= {o for o in action.option_strings if o.startswith("--")} - _COMMON
    if not commands or options:
        commands[" ".join(words)] = options
    return commands


def _synopsis() -> dict[str, set[str]]:
    """Each command of docs/cli.rst's synopsis block with the options its line names."""
    text = (REPO / "docs" / "cli.rst").read_text()
    block = text.split(".. code-block:: text", 1)[1].split("\n\n", 2)[1]
    lines: dict[str, set[str]] = {}
    for line in block.splitlines():
        words = line.split()
        command = " ".join(w for w in words[1:3] if re.fullmatch(r"[a-z]+", w))
        lines[command] = set(re.findall(r"--[a-z][a-z-]*", line))
    return lines


def test_the_synopsis_names_every_command_and_option_of_the_parser():
    parsed = _commands(_parser())
    documented = _synopsis()
    assert parsed.keys() - {""} == documented.keys() - {""}, "commands differ"
    for command, options in parsed.items():
        assert documented[command] == options, command
