"""Moderator feedback: the posts a detector is unsure of, the labels moderators give them,
and Perspective ``comments:suggestscore`` requests, in a real database (layer 6).

* :mod:`.urls`: which database (``--feedback-db``): SQLite under the hateproto home by
  default, a file, or ``postgresql://...`` for several service replicas;
* :mod:`.schema`: the tables (SQLAlchemy Core), versioned by the Alembic migrations in
  ``migrations/``;
* :mod:`.store`: :class:`~.store.FeedbackStore`, every read and write (one transaction per
  label, committed before the answer);
* :mod:`.policy`: which scored posts enter the queue and in what order;
* :mod:`.export`: the labels as CSV, and as examples for ``detector adapt --from-feedback``.

SQLAlchemy and Alembic are imported only by :mod:`.store` and :mod:`.schema` (the
``feedback`` extra), so importing this package is cheap.
"""

from __future__ import annotations

from hateproto.feedback.policy import QueuePolicy
from hateproto.feedback.urls import default_feedback_url, resolve_feedback_url

__all__ = ["QueuePolicy", "default_feedback_url", "resolve_feedback_url"]
