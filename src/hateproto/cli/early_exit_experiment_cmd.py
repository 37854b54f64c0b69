"""``hateproto experiment early-exit``: HatePrototypes Table 4 and Figs 4-6.

Each subcommand computes the rows it needs that are not in the results file yet (resumable),
then writes the Markdown summary and the figures next to it::

    hateproto experiment early-exit table4 --config benchmarks/configs/early-exit.yaml
    hateproto experiment early-exit fig4 | fig5 | fig6 | all --config ...

:func:`register` adds the group to the ``experiment`` group it is given; the experiment code
is imported only when a subcommand runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from hateproto.cli.options import ConfigOption

HELP = "Early exit: Table 4 and Figs 4-6 of HatePrototypes."

_MODELS = typer.Option(None, "--models", help="Comma-separated model names (default: all).")

# name, help (the command's docstring), compute the Table 4 rows, compute the delta sweep
_SUBCOMMANDS: tuple[tuple[str, str, bool, bool], ...] = (
    (
        "table4",
        """Table 4: full model, prototypes at the last layer and layer 1, entropy, patience and
    prototype exit (one delta and per-layer deltas): macro-F1, mean exit layer, speed-up.""",
        True,
        False,
    ),
    (
        "fig4",
        "Fig 4: histogram of the exit layers of prototype exit (needs the Table 4 rows).",
        True,
        False,
    ),
    (
        "fig5",
        "Fig 5: macro-F1 against speed-up, counted (L / mean exit layer) and measured.",
        False,
        True,
    ),
    ("fig6", "Fig 6: macro-F1 and mean exit layer against delta.", False, True),
    ("all", "Table 4 and Figs 4-6.", True, True),
)


def _run(config: Path, models: str | None, table4: bool, sweep: bool) -> None:
    from hateproto.experiments.early_exit import EarlyExitConfig, run_sweep, run_table4
    from hateproto.experiments.early_exit_config import KEY_FIELDS
    from hateproto.experiments.early_exit_report import write_reports
    from hateproto.experiments.results import ResultStore

    cfg = EarlyExitConfig.from_yaml(config)
    names = [m.strip() for m in models.split(",")] if models else None
    if table4:
        run_table4(cfg, echo=typer.echo, models=names)
    if sweep:
        run_sweep(cfg, echo=typer.echo, models=names)
    rows = ResultStore(cfg.results, KEY_FIELDS).rows
    for path in write_reports(rows, cfg.results, cfg.dataset_names()):
        typer.echo(f"wrote {path}")


def _subcommand(doc: str, table4: bool, sweep: bool) -> Callable[..., None]:
    """A command that computes what ``table4``/``sweep`` ask for, then writes the reports."""

    def command(config: ConfigOption, models: str | None = _MODELS) -> None:
        _run(config, models, table4=table4, sweep=sweep)

    command.__doc__ = doc
    return command


def register(app: typer.Typer) -> None:
    """Add the ``early-exit`` group (table4, fig4, fig5, fig6, all) to the ``experiment`` group
    ``app``."""
    group = typer.Typer(help=HELP, no_args_is_help=True)
    for name, doc, table4, sweep in _SUBCOMMANDS:
        group.command(name)(_subcommand(doc, table4, sweep))
    app.add_typer(group, name="early-exit")
