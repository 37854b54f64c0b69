"""Alembic's environment: migrations run on the connection :mod:`hateproto.feedback.store`
passes in ``config.attributes["connection"]`` (online only; no offline SQL scripts).
Imported outside Alembic (by the doctest sweep), it does nothing."""

from __future__ import annotations

from alembic import context

from hateproto.feedback.schema import metadata


def run_migrations() -> None:
    """Run the migrations Alembic asks for on the connection it was given."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if hasattr(context, "config"):  # inside Alembic's environment
    run_migrations()
