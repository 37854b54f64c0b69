"""The root command imports no command module: ``hateproto --help`` stays fast and light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hateproto.cli.lazy import COMMANDS, LazyCommandGroup
from hateproto.cli.main import app, main

HEAVY = ("torch", "transformers", "sklearn", "pandas", "numpy", "hateproto.models")


def test_root_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; from hateproto.cli.main import main; status = main(['--help']); "
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules], status)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LOADED [] 0" in done.stdout
    for name in COMMANDS:
        assert name in done.stdout


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").strip().split("\n\n")[0].split())


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_table_help_matches_the_command(name: str) -> None:
    command = COMMANDS[name].load(name)
    assert command.name == name
    assert _first_paragraph(command.help) == COMMANDS[name].help


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_a_command_is_loaded_when_invoked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--help"]) == 0
    assert "fetch" in capsys.readouterr().out
    import typer

    group = typer.main.get_group(app)
    assert isinstance(group, LazyCommandGroup)
