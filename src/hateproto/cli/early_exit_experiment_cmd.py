"""``hateproto experiment early-exit``: HatePrototypes Table 4 and Figs 4-6.

Each subcommand computes the rows it needs that are not in the results file yet (resumable),
then writes the Markdown summary and the figures next to it::

    hateproto experiment early-exit table4 --config benchmarks/configs/early-exit.yaml
    hateproto experiment early-exit fig4 | fig5 | fig6 | all --config ...
"""

from __future__ import annotations

from pathlib import Path

import typer

from hateproto.cli.experiment_cmd import app as experiment_app

app = typer.Typer(help="Early exit: Table 4 and Figs 4-6 of HatePrototypes.", no_args_is_help=True)
experiment_app.add_typer(app, name="early-exit")

_CONFIG = typer.Option(..., "--config", "-c", help="EarlyExitConfig YAML file.")
_MODELS = typer.Option(None, "--models", help="Comma-separated model names (default: all).")


def _run(config: Path, models: str | None, table4: bool, sweep: bool) -> None:
    from hateproto.experiments.early_exit import EarlyExitConfig, run_sweep, run_table4
    from hateproto.experiments.early_exit_report import write_reports
    from hateproto.experiments.results import ResultStore

    cfg = EarlyExitConfig.from_yaml(config)
    names = [m.strip() for m in models.split(",")] if models else None
    if table4:
        run_table4(cfg, echo=typer.echo, models=names)
    if sweep:
        run_sweep(cfg, echo=typer.echo, models=names)
    rows = ResultStore(cfg.results, ("model", "dataset", "method", "setting")).rows
    for path in write_reports(rows, cfg.results, cfg.dataset_names()):
        typer.echo(f"wrote {path}")


@app.command("table4")
def table4(config: Path = _CONFIG, models: str | None = _MODELS) -> None:
    """Table 4: full model, prototypes at the last layer and layer 1, entropy, patience and
    prototype exit (one delta and per-layer deltas): macro-F1, mean exit layer, speed-up."""
    _run(config, models, table4=True, sweep=False)


@app.command("fig4")
def fig4(config: Path = _CONFIG, models: str | None = _MODELS) -> None:
    """Fig 4: histogram of the exit layers of prototype exit (needs the Table 4 rows)."""
    _run(config, models, table4=True, sweep=False)


@app.command("fig5")
def fig5(config: Path = _CONFIG, models: str | None = _MODELS) -> None:
    """Fig 5: macro-F1 against speed-up, counted (L / mean exit layer) and measured."""
    _run(config, models, table4=False, sweep=True)


@app.command("fig6")
def fig6(config: Path = _CONFIG, models: str | None = _MODELS) -> None:
    """Fig 6: macro-F1 and mean exit layer against delta."""
    _run(config, models, table4=False, sweep=True)


@app.command("all")
def run_all(config: Path = _CONFIG, models: str | None = _MODELS) -> None:
    """Table 4 and Figs 4-6."""
    _run(config, models, table4=True, sweep=True)
