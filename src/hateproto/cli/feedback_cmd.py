"""``hateproto feedback``: the moderators' feedback database (docs/review.md).

    hateproto feedback export --db default --out labels.csv
    hateproto feedback migrate --db postgresql://moderation@db/feedback

The database is the one ``hateproto serve --feedback-db`` fills; ``default`` is the SQLite
file under the hateproto home.
"""

from __future__ import annotations

import typer
from rich.console import Console

from hateproto.cli.options import FeedbackDbOption, OutOption
from hateproto.optional import require

app = typer.Typer(
    help="The moderators' feedback database: export the labels, migrate the schema.",
    no_args_is_help=True,
)


def _require() -> None:
    require("sqlalchemy", extra="feedback", purpose="the feedback database")
    require("alembic", extra="feedback", purpose="the feedback database")


@app.command("export")
def export(
    out: OutOption = ...,
    db: FeedbackDbOption = "default",
    raw: bool = typer.Option(
        False, "--raw", help="Keep texts exactly as stored (no ' before a formula character)."
    ),
) -> None:
    """Write every label (text, label, moderator, when, score) to a CSV file (--out)."""
    _require()
    from hateproto.feedback.export import write_labels_csv
    from hateproto.feedback.store import FeedbackStore
    from hateproto.outputs.files import check_output_file

    out = check_output_file(out, option="--out")
    store = FeedbackStore.open(db, migrate=False)
    try:
        count = write_labels_csv(store, out, raw=raw)
        where = store.describe()
    finally:
        store.close()
    Console(stderr=True).print(f"{count} labels from {where} written to [bold]{out}[/].")


@app.command("migrate")
def migrate(db: FeedbackDbOption = "default") -> None:
    """Create the feedback database or bring its schema to this version's."""
    _require()
    from hateproto.feedback.store import FeedbackStore

    store = FeedbackStore.open(db, migrate=True)
    try:
        Console(stderr=True).print(
            f"{store.describe()} is at schema version {store.schema_version()}."
        )
    finally:
        store.close()
