"""The feedback tables (SQLAlchemy Core). The schema is versioned by the Alembic migrations
in ``migrations/versions/``; :data:`SCHEMA_VERSION` is the newest, and a test checks that
the migrated database equals these tables.

* ``posts``: a scored post the queue policy selected: its text, sha256 (unique: a post is
  queued once), hate probability, threshold, ``priority`` (distance to the threshold, the
  queue order), why it was queued, the detector, its explanation (``details``: span scores,
  nearest training examples, per-layer labels) and a short claim (``claimed_by`` until
  ``claimed_until``) so that moderators working at once get different posts;
* ``labels``: ids never reused (SQLite ``AUTOINCREMENT``: an undone label's id is not given
  to the next label); at most one per post (unique ``post_id``): ``hate`` or ``not_hate``, the
  moderator, when, and the client's ``request_id`` (unique: a retried request is answered,
  not stored twice);
* ``skips``: a moderator passed on a post (it leaves that moderator's queue only);
* ``suggestions``: ``comments:suggestscore`` requests in Google's shape.
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = "0001"
"""The Alembic revision of the newest schema."""

metadata = sa.MetaData()

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("text_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("hate_probability", sa.Float, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("priority", sa.Float, nullable=False),
    sa.Column("margin", sa.Float, nullable=True),
    sa.Column("exit_layer", sa.Integer, nullable=True),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("details", sa.JSON, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_posts_priority", "priority", "id"),
    sa.Index("ix_posts_claimed_by", "claimed_by"),
    sqlite_autoincrement=True,
)

labels = sa.Table(
    "labels",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "post_id",
        sa.Integer,
        sa.ForeignKey("posts.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    sa.Column("label", sa.String(10), nullable=False),
    sa.Column("moderator", sa.String(64), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("label IN ('hate', 'not_hate')", name="ck_labels_label"),
    sa.Index("ix_labels_moderator", "moderator"),
    sqlite_autoincrement=True,
)

skips = sa.Table(
    "skips",
    metadata,
    sa.Column(
        "post_id",
        sa.Integer,
        sa.ForeignKey("posts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("moderator", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

suggestions = sa.Table(
    "suggestions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("text_sha256", sa.String(64), nullable=False, index=True),
    sa.Column("attribute_scores", sa.JSON, nullable=False),
    sa.Column("languages", sa.JSON, nullable=True),
    sa.Column("community_id", sa.String(200), nullable=True),
    sa.Column("client_token", sa.String(200), nullable=True),
    sa.Column("session_id", sa.String(200), nullable=True),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
