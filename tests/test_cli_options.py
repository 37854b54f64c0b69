"""Each command-line option is declared once (``hateproto/cli/options.py``), and ``--dtype``
has one vocabulary and one default in every command."""

from __future__ import annotations

import ast
import collections
import dataclasses
from pathlib import Path
from typing import get_args

import pytest
import typer
from typer.testing import CliRunner

import hateproto.cli
from hateproto.cli.lazy import COMMANDS
from hateproto.cli.options import LabelColumns, SeedOption, with_groups
from hateproto.data import PROTOCOLS
from hateproto.dtypes import DEFAULT_DTYPE, DTYPE_CHOICES

CLI = Path(hateproto.cli.__file__).parent

#: A name that means something else in one file: audit's ``--json FILE`` writes the report to
#: a file, every other ``--json`` is a flag that prints JSON (scripts and tests call audit so).
ALLOWED = {"--json": "audit_cmd.py"}

#: Files whose options are not on options.py's aliases yet (quickstart is being rewritten by
#: its owner); the test fails once such a file declares no duplicate (then delete it here).
PENDING: set[str] = set()


def _declared_names(path: Path) -> list[str]:
    """The long names of every ``typer.Option(...)`` in ``path`` (from its parameter's name
    when the option names none)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    owner: dict[ast.AST, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args.posonlyargs + node.args.args
            defaults = zip(
                args[len(args) - len(node.args.defaults) :], node.args.defaults, strict=True
            )
            kw_defaults = zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
            owner |= {default: arg.arg for arg, default in [*defaults, *kw_defaults] if default}
    names = []
    for node in ast.walk(tree):
        func = getattr(node, "func", None)
        if not (isinstance(func, ast.Attribute) and func.attr == "Option"):
            continue
        given = [
            a.value.split("/")[0]
            for a in node.args
            if isinstance(a, ast.Constant) and str(a.value).startswith("--")
        ]
        if not given and node in owner:
            given = ["--" + owner[node].strip("_").replace("_", "-")]
        names += given
    return names


def duplicates(folder: Path, skip: set[str] | frozenset[str] = frozenset()) -> set[tuple[str, str]]:
    """(file, option name) for every declaration of a name declared in more than one place
    (files named in ``skip`` left out)."""
    where = collections.defaultdict(list)
    for path in sorted(folder.glob("*.py")):
        if path.name in skip:
            continue
        for name in _declared_names(path):
            key = f"{name} ({path.name})" if ALLOWED.get(name) == path.name else name
            where[key].append(path.name)
    return {
        (file, name)
        for name, files in where.items()
        if len(files) > 1
        for file in files
        if file != "options.py"
    }


def test_the_duplicate_finder_finds_one(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        'import typer\ndef f(x: int = typer.Option(1, "--seed"), data_dir=typer.Option(None)): ...'
    )
    (tmp_path / "b.py").write_text("import typer\ndef g(data_dir: str = typer.Option(None)): ...")
    assert duplicates(tmp_path) == {("a.py", "--data-dir"), ("b.py", "--data-dir")}


def test_every_option_is_declared_once() -> None:
    new = sorted(duplicates(CLI, skip=PENDING))
    assert not new, "declared twice: use (or add) an alias in cli/options.py:\n" + "\n".join(
        map(str, new)
    )
    done = PENDING - {file for file, _ in duplicates(CLI)}
    assert not done, f"no duplicates left in {sorted(done)}: delete them from PENDING"


def _commands() -> dict[str, object]:
    """Every command, by its full name, loaded."""
    out = {}
    todo = [
        (name, entry.load(name))
        for name, entry in COMMANDS.items()
        if f"{entry.module}.py" not in PENDING
    ]
    while todo:
        name, command = todo.pop()
        subcommands = getattr(command, "commands", None)
        if subcommands:
            todo += [(f"{name} {sub}", cmd) for sub, cmd in subcommands.items()]
        else:
            out[name] = command
    return out


def test_dtype_has_one_vocabulary_and_one_default() -> None:
    seen = {}
    for name, command in _commands().items():
        for param in command.params:
            if "--dtype" in param.opts:
                seen[name] = (get_args(param.type_descriptor.annotation), param.default)
    assert len(seen) >= 6, seen
    wrong = {k: v for k, v in seen.items() if v != (DTYPE_CHOICES, DEFAULT_DTYPE)}
    assert not wrong, wrong


def test_protocol_help_names_every_protocol() -> None:
    from hateproto.cli.options import ProtocolOption

    help_text = ProtocolOption.__metadata__[0].help
    assert all(name in help_text for name in PROTOCOLS)


def test_with_groups_expands_a_group_and_rebuilds_it() -> None:
    app = typer.Typer()
    seen = {}

    @app.command()
    @with_groups
    def command(columns: LabelColumns = LabelColumns(), seed: SeedOption = 0) -> None:
        seen.update(columns=columns, seed=seed)

    @app.command()
    def other() -> None: ...

    result = CliRunner().invoke(app, ["command", "--text-column", "post", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert seen == {"columns": LabelColumns(text_column="post"), "seed": 3}
    assert dataclasses.asdict(seen["columns"])["label_column"] == "label"


def test_a_bad_dtype_is_refused_by_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    from hateproto.cli.main import main

    assert main(["triage", "-i", "x.csv", "-P", "p", "-o", "y.csv", "--dtype", "bf16"]) == 2
    assert "bf16" in capsys.readouterr().err
