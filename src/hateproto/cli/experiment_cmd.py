"""``hateproto experiment``: the papers' experiments, one subcommand each.

Other modules add their experiment with::

    from hateproto.cli.experiment_cmd import app

    @app.command("my-experiment")
    def my_experiment(config: Path = typer.Option(..., "--config")) -> None: ...

and are imported at the bottom of this module (one line each), so ``cli/main.py`` only
registers this group.
"""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Run the papers' experiments from YAML configs.", no_args_is_help=True)


@app.command("cross-dataset")
def cross_dataset(
    config: Path = typer.Option(..., "--config", "-c", help="CrossDatasetConfig YAML file."),
    results: str | None = typer.Option(None, help="Override the results JSON path."),
    setup: list[str] | None = typer.Option(
        None, "--setup", help="Run only this setup (repeatable); e.g. one process per setup."
    ),
) -> None:
    """Train on each dataset and seed, test on every dataset; resumable; mean ± std matrix."""
    from hateproto.experiments.cross_dataset import CrossDatasetConfig, run_cross_dataset

    cfg = CrossDatasetConfig.from_yaml(config)
    if results:
        cfg = cfg.model_copy(update={"results": results, "markdown": None})
    if setup:
        cfg = cfg.select_setups(setup)
    rows = run_cross_dataset(cfg, echo=typer.echo)
    typer.echo(f"{len(rows)} rows in {cfg.results}; summary in {cfg.markdown_path()}")
    typer.echo(cfg.markdown_path().read_text())


from hateproto.cli import early_exit_experiment_cmd  # noqa: E402, F401, I001
from hateproto.cli import prototype_experiments_cmd  # noqa: E402

prototype_experiments_cmd.register(app)
