"""The platform subcommands: each one and each of its options is documented in docs/cli.md."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from haven.cli import PLATFORM_COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]
# Options every Django command has; docs/cli.md explains them once, not per command.
_DJANGO_COMMON = {
    "--version",
    "--verbosity",
    "--settings",
    "--pythonpath",
    "--traceback",
    "--no-color",
    "--force-color",
    "--skip-checks",
}


def _options(parser: argparse.ArgumentParser, prefix: str) -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix} {name}")
                found.extend(_options(sub, f"{prefix} {name}"))
        elif action.option_strings and action.dest != "help":
            found.extend(
                f"{prefix} {o}"
                for o in action.option_strings
                if o.startswith("--") and o not in _DJANGO_COMMON
            )
    return found


def test_every_platform_command_is_a_django_command_with_a_heading() -> None:
    docs = (ROOT / "docs" / "cli.md").read_text()
    available = get_commands()
    for name in PLATFORM_COMMANDS:
        assert name in available, f"haven {name} is listed but no management command exists"
        assert f"## `haven {name}" in docs, f"haven {name} has no heading in docs/cli.md"


@pytest.mark.parametrize("name", sorted(PLATFORM_COMMANDS))
def test_every_option_of_haven_commands_is_documented(name: str) -> None:
    app = get_commands()[name]
    if not app.startswith("haven."):
        pytest.skip(f"{name} is Django's own command, documented by Django")
    parser = load_command_class(app, name).create_parser("haven", name)
    docs = (ROOT / "docs" / "cli.md").read_text()
    section = docs.split(f"## `haven {name}", 1)[1].split("\n## ", 1)[0]
    missing = []
    for entry in _options(parser, f"haven {name}"):
        last = entry.split()[-1]
        needle = f"`{last}" if last.startswith("--") else entry
        if needle not in section and needle not in docs:
            missing.append(entry)
    assert not missing, f"undocumented in docs/cli.md: {missing}"


def test_platform_errors_are_one_line_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["serve", "--port", "70000"])
    captured = capsys.readouterr()
    assert status != 0
    assert "Traceback" not in captured.err
    assert "--port must be 1..65535" in captured.err
