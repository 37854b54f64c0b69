"""Which feedback database: ``--feedback-db`` / ``--db`` values as SQLAlchemy URLs.

* ``default`` (or nothing): SQLite in ``$HATEPROTO_HOME/feedback/feedback.sqlite3``;
* a file name (``labels.db``) or ``sqlite:///path``: that SQLite file;
* ``postgresql://user:password@host:5432/name`` (or ``postgres://``, ``postgresql+psycopg://``):
  PostgreSQL through psycopg 3, for several service replicas sharing one queue.

Example:
    >>> resolve_feedback_url("postgresql://moderation@db/feedback")
    'postgresql+psycopg://moderation@db/feedback'
    >>> resolve_feedback_url("sqlite:////tmp/f.db")
    'sqlite:////tmp/f.db'
    >>> redact_url("postgresql+psycopg://mod:secret@db/feedback")
    'postgresql+psycopg://mod:***@db/feedback'
"""

from __future__ import annotations

import re
from pathlib import Path

from hateproto.errors import ConfigError
from hateproto.paths import home_dir

DEFAULT = "default"


def default_feedback_url() -> str:
    """The SQLite file under the hateproto home (``$HATEPROTO_HOME/feedback/``)."""
    return f"sqlite:///{home_dir() / 'feedback' / 'feedback.sqlite3'}"


def resolve_feedback_url(value: str | None) -> str:
    """``value`` as an SQLAlchemy URL (see the module doc); a :class:`ConfigError` for a
    database kind hateproto does not support."""
    if value is None or value.strip() in ("", DEFAULT):
        return default_feedback_url()
    value = value.strip()
    scheme, sep, rest = value.partition("://")
    if not sep:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    scheme = scheme.lower()
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite":
        return value
    raise ConfigError(
        f"feedback database {redact_url(value)!r}: use a SQLite file (a path or sqlite:///path) "
        "or postgresql://user:password@host/name"
    )


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (``None`` for other databases or in-memory)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :]
    return None if path in ("", ":memory:") else Path(path)
