"""The first feedback schema: posts, labels, skips, suggestions.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the four tables and their indexes."""
    op.create_table(
        "posts",
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
        sqlite_autoincrement=True,
    )
    op.create_index("ix_posts_priority", "posts", ["priority", "id"])
    op.create_index("ix_posts_claimed_by", "posts", ["claimed_by"])
    op.create_table(
        "labels",
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
        sqlite_autoincrement=True,
    )
    op.create_index("ix_labels_moderator", "labels", ["moderator"])
    op.create_table(
        "skips",
        sa.Column(
            "post_id",
            sa.Integer,
            sa.ForeignKey("posts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("moderator", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("attribute_scores", sa.JSON, nullable=False),
        sa.Column("languages", sa.JSON, nullable=True),
        sa.Column("community_id", sa.String(200), nullable=True),
        sa.Column("client_token", sa.String(200), nullable=True),
        sa.Column("session_id", sa.String(200), nullable=True),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_suggestions_text_sha256", "suggestions", ["text_sha256"])


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_table("suggestions")
    op.drop_table("skips")
    op.drop_index("ix_labels_moderator", table_name="labels")
    op.drop_table("labels")
    op.drop_index("ix_posts_claimed_by", table_name="posts")
    op.drop_index("ix_posts_priority", table_name="posts")
    op.drop_table("posts")
