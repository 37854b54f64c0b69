"""``hateproto experiment``: the papers' experiments, one subcommand each.

:func:`register` builds the group and adds it to the root app: ``cross-dataset`` is defined
here, the prototype experiments (:mod:`.prototype_experiments_cmd`) and the early-exit group
(:mod:`.early_exit_experiment_cmd`) each come from their module's own ``register``. Nothing
registers itself on import, and no experiment code is imported until a command runs.
"""

from __future__ import annotations

import typer

from hateproto.cli.options import ConfigOption

HELP = "Run the papers' experiments from YAML configs."


def cross_dataset(
    config: ConfigOption,
    results: str | None = typer.Option(None, help="Override the results JSON path."),
    setup: list[str] | None = typer.Option(
        None, "--setup", help="Run only this setup (repeatable); e.g. one process per setup."
    ),
) -> None:
    """Train on each dataset and seed, test on every dataset; resumable; mean ± std matrix.

    --config is a CrossDatasetConfig YAML file."""
    from hateproto.experiments.cross_dataset import CrossDatasetConfig, run_cross_dataset

    cfg = CrossDatasetConfig.from_yaml(config)
    if results:
        cfg = cfg.model_copy(update={"results": results, "markdown": None})
    if setup:
        cfg = cfg.select_setups(setup)
    rows = run_cross_dataset(cfg, echo=typer.echo)
    typer.echo(f"{len(rows)} rows in {cfg.results}; summary in {cfg.markdown_path()}")
    typer.echo(cfg.markdown_path().read_text())


def register(app: typer.Typer) -> None:
    """Add the ``experiment`` group, with every experiment subcommand, to ``app``."""
    from hateproto.cli import early_exit_experiment_cmd, prototype_experiments_cmd

    group = typer.Typer(help=HELP, no_args_is_help=True)
    group.command("cross-dataset")(cross_dataset)
    prototype_experiments_cmd.register(group)
    early_exit_experiment_cmd.register(group)
    app.add_typer(group, name="experiment")
