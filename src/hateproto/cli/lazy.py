"""The command table of ``hateproto``: each command group is imported only when it runs.

Importing a command module pulls in torch, transformers, scikit-learn or pandas (seconds).
:class:`LazyCommandGroup` lists the commands from :data:`COMMANDS` (name, module, one-line
help) and imports a module only when its command is invoked or its own ``--help`` is asked
for, so ``hateproto --help`` answers in a fraction of a second. A test checks that every
line of help here matches the command's own docstring or group help.

A command module provides one of:

- ``app``: a :class:`typer.Typer` command group (``hateproto models ...``);
- ``register(app)``: adds its one command to ``app`` (``hateproto classify``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class CommandEntry:
    """Where a top-level command lives and its one-line help (shown by ``hateproto --help``)."""

    module: str
    help: str

    def load(self, name: str) -> Any:
        """Import the module and return the click command ``name`` it defines."""
        module = importlib.import_module(f"hateproto.cli.{self.module}")
        if hasattr(module, "register"):
            holder = typer.Typer()
            module.register(holder)
            group = typer.main.get_group(holder)
            return group.commands[name]
        command = typer.main.get_group(module.app)
        command.name = name
        return command


COMMANDS: dict[str, CommandEntry] = {
    "models": CommandEntry("models_cmd", "Fetch and list the default pretrained models."),
    "data": CommandEntry(
        "data_cmd",
        "Inspect the benchmark datasets: sizes, class balance, overlaps and examples.",
    ),
    "prototypes": CommandEntry(
        "prototypes_cmd",
        "Build HatePrototypes (per-layer class means) and inspect saved prototype folders.",
    ),
    "detector": CommandEntry(
        "detector_cmd",
        "Build, inspect and try out detectors (model + prototypes + early-exit settings).",
    ),
    "classify": CommandEntry(
        "classify_cmd",
        "Score every row of INPUT and write OUTPUT with label, hate_probability, margin and "
        "exit_layer added.",
    ),
    "serve": CommandEntry(
        "serve_cmd",
        "Serve POST /v1/classify, GET /v1/info, GET /livez and GET /readyz (docs at /docs).",
    ),
    "feedback": CommandEntry(
        "feedback_cmd",
        "The moderators' feedback database: export the labels, migrate the schema.",
    ),
    "context": CommandEntry(
        "context_cmd", "Generate short LLM explanations (context) of posts, cached on disk."
    ),
    "quickstart": CommandEntry(
        "quickstart_cmd",
        "Build a detector in about five minutes, save it, and show it at work: a demo table, "
        "its functional audit (test half) and what to try next.",
    ),
    "triage": CommandEntry(
        "triage_cmd",
        "Write the input rows sorted by margin, smallest (most ambiguous) first, with "
        "triage_rank, margin, label and hate_score columns.",
    ),
    "audit": CommandEntry(
        "audit_cmd",
        "Accuracy per functionality and per target group, false positive rate per group and "
        "on CONAN counter-speech, and pass/fail against the audit goals. Tune on --split dev, "
        "report on --split test.",
    ),
    "train": CommandEntry(
        "train_cmd", "Fine-tune a hate classifier and save it as a checkpoint folder."
    ),
    "evaluate": CommandEntry(
        "evaluate_cmd", "Accuracy, macro-F1, binary F1 and PR-AUC of a checkpoint on each dataset."
    ),
    "experiment": CommandEntry("experiment_cmd", "Run the papers' experiments from YAML configs."),
    "early-exit": CommandEntry(
        "early_exit_cmd", "Early exit: calibrate thresholds, evaluate speed and macro-F1."
    ),
}


class LazyCommandGroup(TyperGroup):
    """A root command group whose subcommands are imported on first use (see module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False
        for name, entry in COMMANDS.items():
            self.commands.setdefault(name, _Placeholder(name=name, help=entry.help))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The real command, imported now, except while the root help lists placeholders."""
        command = self.commands.get(cmd_name)
        if isinstance(command, _Placeholder) and not self._listing:
            command = COMMANDS[cmd_name].load(cmd_name)
            self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """Render the root help from the table, without importing any command module."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


class _Placeholder(TyperCommand):
    """Stands for a command in the root help until the command is used."""
