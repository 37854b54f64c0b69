"""Every read and write of the feedback database: :class:`FeedbackStore`.

Durability: each label is its own transaction, committed before the HTTP answer is sent, so a
label the moderator saw acknowledged survives ``kill -9`` of the service. SQLite runs in WAL
mode with ``synchronous=FULL`` and ``BEGIN IMMEDIATE`` write transactions (one writer at a
time, readers not blocked, a busy writer waited for up to 30 s); PostgreSQL runs at its
default isolation (read committed), where a claim is a compare-and-set ``UPDATE``.

No duplicated label: a post has at most one label (unique ``labels.post_id``), and a retried
request (same ``request_id``) is answered with the label it already stored.

Example:
    >>> store = FeedbackStore.open("sqlite:////tmp/feedback.db")        # doctest: +SKIP
    >>> record = PostRecord("they are vermin", 0.52, 0.5, "low_margin", "m")
    >>> store.add_posts([record])                                       # doctest: +SKIP
    >>> post = store.next_post("ada")                                   # doctest: +SKIP
    >>> store.add_label(post["id"], "hate", "ada", "req-1")             # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hateproto.errors import ConfigError, DataError, HateprotoError
from hateproto.feedback import schema
from hateproto.feedback.schema import labels, posts, skips, suggestions
from hateproto.feedback.urls import redact_url, resolve_feedback_url, sqlite_path

LABELS = ("hate", "not_hate")
"""The labels a moderator gives (a skip is not a label)."""

MIGRATIONS = Path(__file__).parent / "migrations"


class FeedbackError(HateprotoError):
    """A label that cannot be stored as asked (the message says why)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PostRecord:
    """A scored post the queue policy selected."""

    text: str
    hate_probability: float
    threshold: float
    reason: str
    model: str
    margin: float | None = None
    exit_layer: int | None = None
    details: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def sha256(self) -> str:
        """The sha256 of the text (a post is queued once)."""
        return text_sha256(self.text)


@dataclass(frozen=True)
class LabelResult:
    """A stored label: its id, the moderator's count now, and whether the request was a
    retry of one already stored."""

    label_id: int
    post_id: int
    count: int
    duplicate: bool = False


def text_sha256(text: str) -> str:
    """The hex sha256 of ``text`` in UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """``moment`` as ISO 8601 in UTC (SQLite gives naive datetimes back: they are UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FeedbackStore:
    """The feedback database at ``url`` (see :mod:`hateproto.feedback.urls`)."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, value: str | None = None, migrate: bool = True) -> FeedbackStore:
        """Connect to the database ``value`` names and bring its schema to the newest
        version (``migrate=False``: refuse a database that is not at it)."""
        url = resolve_feedback_url(value)
        store = cls(_engine(url), url)
        try:
            if migrate:
                store.upgrade()
            version = store.schema_version()
        except sa.exc.OperationalError as exc:
            store.close()
            raise ConfigError(
                f"cannot open the feedback database {redact_url(url)}: {exc.orig}"
            ) from None
        if version != schema.SCHEMA_VERSION:
            store.close()
            raise ConfigError(
                f"the feedback database {redact_url(url)} is at schema {version or 'none'}, "
                f"this hateproto needs {schema.SCHEMA_VERSION}: open it once with "
                "`hateproto serve --feedback-db` (it migrates) or `hateproto feedback migrate`"
            )
        return store

    def upgrade(self) -> None:
        """Run the Alembic migrations up to the newest schema (several replicas starting at
        once: PostgreSQL serialises them with an advisory lock, SQLite with its write
        lock)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(27270001)"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def schema_version(self) -> str | None:
        """The Alembic revision the database is at (``None``: not migrated)."""
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def describe(self) -> str:
        """The database for messages (password hidden)."""
        return redact_url(self.url)

    # ------------------------------------------------------------------ posts
    def add_posts(self, records: Sequence[PostRecord]) -> int:
        """Queue ``records`` (a text already queued is left as it is); how many were new."""
        if not records:
            return 0
        created = now()
        rows = [_post_row(record, created) for record in records]
        added = 0
        with self.engine.begin() as connection:
            for row in rows:
                statement = _insert_ignoring(connection, posts, "text_sha256").values(**row)
                added += len(connection.execute(statement.returning(posts.c.id)).all())
        return added

    def post_ids(self, texts: Sequence[str]) -> dict[str, int]:
        """The post id of each queued text among ``texts`` (by sha256)."""
        hashes = {text_sha256(t): t for t in texts}
        query = sa.select(posts.c.id, posts.c.text_sha256).where(
            posts.c.text_sha256.in_(list(hashes))
        )
        with self.engine.connect() as connection:
            return {hashes[row.text_sha256]: row.id for row in connection.execute(query)}

    def set_details(self, post_id: int, details: dict[str, Any]) -> None:
        """Record a post's explanation (span scores, neighbours, per-layer labels)."""
        with self.engine.begin() as connection:
            connection.execute(posts.update().where(posts.c.id == post_id).values(details=details))

    def next_post(self, moderator: str, lease_s: float = 120.0) -> dict[str, Any] | None:
        """Claim, for ``lease_s`` seconds, the unlabelled post closest to the threshold that
        ``moderator`` has not skipped and nobody else holds (the one this moderator holds
        already comes first); ``None`` when the queue is empty."""
        moment = now()
        until = moment + timedelta(seconds=lease_s)
        free = sa.or_(
            posts.c.claimed_until.is_(None),
            posts.c.claimed_until < moment,
            posts.c.claimed_by == moderator,
        )
        held = (
            sa.select(posts.c.id)
            .where(posts.c.claimed_by == moderator, posts.c.claimed_until > moment)
            .where(_open_for(moderator))
            .order_by(posts.c.priority, posts.c.id)
            .limit(1)
        )
        candidates = (
            sa.select(posts.c.id)
            .where(_open_for(moderator), free)
            .order_by(posts.c.priority, posts.c.id)
            .limit(16)
        )
        with self.engine.begin() as connection:
            mine = connection.execute(held).scalars().all()
            for post_id in mine or connection.execute(candidates).scalars().all():
                claim = (
                    posts.update()
                    .where(posts.c.id == post_id, free)
                    .values(claimed_by=moderator, claimed_until=until)
                )
                if connection.execute(claim).rowcount == 1:
                    row = connection.execute(sa.select(posts).where(posts.c.id == post_id))
                    return _post_dict(row.mappings().one())
        return None

    def waiting(self, moderator: str) -> int:
        """Unlabelled posts ``moderator`` has not skipped (three counts, no anti-join over
        the whole queue)."""
        labelled = sa.select(labels.c.id).where(labels.c.post_id == skips.c.post_id).exists()
        skipped = (
            sa.select(sa.func.count())
            .select_from(skips)
            .where(skips.c.moderator == moderator, ~labelled)
        )
        with self.engine.connect() as connection:
            total = connection.execute(sa.select(sa.func.count()).select_from(posts)).scalar()
            done = connection.execute(sa.select(sa.func.count()).select_from(labels)).scalar()
            passed = connection.execute(skipped).scalar()
        return int((total or 0) - (done or 0) - (passed or 0))

    # ------------------------------------------------------------------ labels
    def add_label(self, post_id: int, label: str, moderator: str, request_id: str) -> LabelResult:
        """Store ``moderator``'s ``label`` of post ``post_id`` and commit it; a retry of the
        same ``request_id`` is answered with the stored label. A post another request
        labelled first → :class:`FeedbackError` 409; no such post → 404."""
        if label not in LABELS:
            raise FeedbackError(422, f"label must be one of {', '.join(LABELS)}, not {label!r}")
        row = {
            "post_id": post_id,
            "label": label,
            "moderator": moderator,
            "request_id": request_id,
            "created_at": now(),
        }
        try:
            with self.engine.begin() as connection:
                _require_post(connection, post_id)
                label_id = connection.execute(labels.insert().values(**row)).inserted_primary_key
                count = _count(connection, moderator)
            return LabelResult(int(label_id[0]), post_id, count)
        except sa.exc.IntegrityError:
            return self._existing(post_id, moderator, request_id)

    def _existing(self, post_id: int, moderator: str, request_id: str) -> LabelResult:
        """The answer to a label that hit a unique constraint: a retry, or a conflict."""
        with self.engine.connect() as connection:
            same = connection.execute(
                sa.select(labels).where(labels.c.request_id == request_id)
            ).first()
            if same is not None and same.post_id == post_id and same.moderator == moderator:
                return LabelResult(same.id, post_id, _count(connection, moderator), True)
            if same is not None:
                raise FeedbackError(409, "this request id was used for another label")
            other = connection.execute(sa.select(labels).where(labels.c.post_id == post_id))
            taken = other.first()
        who = taken.moderator if taken is not None else "another moderator"
        raise FeedbackError(409, f"post {post_id} is already labelled (by {who})")

    def undo(self, label_id: int, moderator: str, lease_s: float = 120.0) -> dict[str, Any]:
        """Delete ``moderator``'s own label ``label_id``; the post goes back to the queue,
        held by ``moderator``. Returns the post and the moderator's count."""
        with self.engine.begin() as connection:
            found = connection.execute(sa.select(labels).where(labels.c.id == label_id)).first()
            if found is None:
                raise FeedbackError(404, f"no label {label_id} (already undone?)")
            if found.moderator != moderator:
                raise FeedbackError(403, f"label {label_id} is {found.moderator}'s, not yours")
            connection.execute(labels.delete().where(labels.c.id == label_id))
            connection.execute(
                posts.update()
                .where(posts.c.id == found.post_id)
                .values(claimed_by=moderator, claimed_until=now() + timedelta(seconds=lease_s))
            )
            post = connection.execute(sa.select(posts).where(posts.c.id == found.post_id))
            return {
                "post": _post_dict(post.mappings().one()),
                "count": _count(connection, moderator),
            }

    def skip(self, post_id: int, moderator: str) -> None:
        """``moderator`` passes on ``post_id`` (it leaves their queue; others still see it)."""
        with self.engine.begin() as connection:
            _require_post(connection, post_id)
            statement = _insert_ignoring(connection, skips, "post_id", "moderator")
            connection.execute(
                statement.values(post_id=post_id, moderator=moderator, created_at=now())
            )
            connection.execute(
                posts.update()
                .where(posts.c.id == post_id, posts.c.claimed_by == moderator)
                .values(claimed_by=None, claimed_until=None)
            )

    def count(self, moderator: str) -> int:
        """How many labels ``moderator`` gave (undone ones not counted)."""
        with self.engine.connect() as connection:
            return _count(connection, moderator)

    def counts(self) -> dict[str, int]:
        """Labels per moderator."""
        query = sa.select(labels.c.moderator, sa.func.count()).group_by(labels.c.moderator)
        with self.engine.connect() as connection:
            return {row[0]: int(row[1]) for row in connection.execute(query)}

    def label_rows(self) -> Iterator[dict[str, Any]]:
        """Every label with its post, oldest first (what the CSV export writes)."""
        query = (
            sa.select(
                labels.c.id.label("label_id"),
                labels.c.post_id,
                posts.c.text,
                labels.c.label,
                labels.c.moderator,
                labels.c.created_at.label("labelled_at"),
                posts.c.hate_probability,
                posts.c.threshold,
                posts.c.reason,
                posts.c.model,
            )
            .select_from(labels.join(posts, labels.c.post_id == posts.c.id))
            .order_by(labels.c.id)
        )
        with self.engine.connect() as connection:
            for row in connection.execute(query).mappings():
                out = dict(row)
                out["labelled_at"] = iso(out["labelled_at"])
                yield out

    # ------------------------------------------------------------------ suggestions
    def add_suggestion(self, request: dict[str, Any]) -> int:
        """Store a ``comments:suggestscore`` request (checked by the caller) as Google
        shaped it; returns its id."""
        text = request["comment"]["text"]
        row = {
            "text": text,
            "text_sha256": text_sha256(text),
            "attribute_scores": request["attributeScores"],
            "languages": request.get("languages"),
            "community_id": request.get("communityId"),
            "client_token": request.get("clientToken"),
            "session_id": request.get("sessionId"),
            "request": request,
            "created_at": now(),
        }
        with self.engine.begin() as connection:
            return int(
                connection.execute(suggestions.insert().values(**row)).inserted_primary_key[0]
            )

    def suggestion_rows(self) -> list[dict[str, Any]]:
        """Every stored suggestion, oldest first."""
        with self.engine.connect() as connection:
            query = sa.select(suggestions).order_by(suggestions.c.id)
            return [dict(row) for row in connection.execute(query).mappings()]


# ---------------------------------------------------------------------- internals
def _engine(url: str) -> Engine:
    """An engine for ``url``; SQLite in WAL mode with ``BEGIN IMMEDIATE`` transactions."""
    path = sqlite_path(url)
    if url.startswith("sqlite"):
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"cannot create {path.parent} for the feedback database: {exc}"
                ) from None
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return sa.create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"PostgreSQL needs psycopg: pip install 'hateproto[feedback]' ({exc})"
        ) from None


def _sqlite_connect(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions begin in _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _insert_ignoring(connection: Connection, table: sa.Table, *keys: str) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING`` in the connection's dialect."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing(index_elements=list(keys))


def _post_row(record: PostRecord, created: datetime) -> dict[str, Any]:
    if not record.text:
        raise DataError("a queued post needs a text")
    return {
        "text_sha256": record.sha256,
        "text": record.text,
        "hate_probability": float(record.hate_probability),
        "threshold": float(record.threshold),
        "priority": abs(float(record.hate_probability) - float(record.threshold)),
        "margin": None if record.margin is None else float(record.margin),
        "exit_layer": record.exit_layer,
        "reason": record.reason,
        "model": record.model[:200],
        "details": record.details,
        "created_at": created,
    }


def _post_dict(row: Any) -> dict[str, Any]:
    """A post as the review page gets it."""
    return {
        "id": row["id"],
        "text": row["text"],
        "hate_probability": row["hate_probability"],
        "threshold": row["threshold"],
        "priority": row["priority"],
        "reason": row["reason"],
        "model": row["model"],
        "details": row["details"] or {},
        "created_at": iso(row["created_at"]),
    }


def _open_for(moderator: str) -> Any:
    """Posts without a label that ``moderator`` has not skipped."""
    labelled = sa.select(labels.c.id).where(labels.c.post_id == posts.c.id).exists()
    skipped = (
        sa.select(skips.c.post_id)
        .where(skips.c.post_id == posts.c.id, skips.c.moderator == moderator)
        .exists()
    )
    return sa.and_(~labelled, ~skipped)


def _require_post(connection: Connection, post_id: int) -> None:
    found = connection.execute(sa.select(posts.c.id).where(posts.c.id == post_id)).first()
    if found is None:
        raise FeedbackError(404, f"no post {post_id} in the queue")


def _count(connection: Connection, moderator: str) -> int:
    query = sa.select(sa.func.count()).select_from(labels).where(labels.c.moderator == moderator)
    return int(connection.execute(query).scalar() or 0)
