"""``hateproto experiment``: one command per paper table or figure.

Command groups from several modules register themselves here (each exposes
``register(app)``), so this file only assembles them.
"""

from __future__ import annotations

import typer

from hateproto.cli import prototype_experiments_cmd

app = typer.Typer(
    help="Run the papers' experiments: each writes JSON rows, a Markdown table and PNG figures.",
    no_args_is_help=True,
)
prototype_experiments_cmd.register(app)
