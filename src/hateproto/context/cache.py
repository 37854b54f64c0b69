"""On-disk cache of generated contexts: one SQLite file per model and prompt.

Each row is keyed by ``sha256(model fingerprint + prompt settings + text)``; every batch is
committed as one transaction, so an interrupted run keeps all finished batches and never
leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hateproto.paths import cache_dir


def context_key(fingerprint: str, prompt_json: str, text: str) -> str:
    """The cache key of one post: sha256 of model fingerprint, prompt settings and text.

    Example:
        >>> len(context_key("abc", "{}", "a post"))
        64
    """
    digest = hashlib.sha256(fingerprint.encode())
    digest.update(b"\x00" + prompt_json.encode() + b"\x00")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def cache_file(model: str, fingerprint: str, prompt_json: str, root: Path | None = None) -> Path:
    """Where the contexts of one model + prompt live: ``<root>/<model>-<hash>.sqlite``.

    ``root`` defaults to ``$HATEPROTO_HOME/cache/context``.
    """
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(model).name or model)[-48:]
    digest = hashlib.sha256(f"{fingerprint}\x00{prompt_json}".encode()).hexdigest()[:12]
    return (root or cache_dir() / "context") / f"{slug}-{digest}.sqlite"


class ContextCache:
    """A SQLite table ``contexts(key, text, context)``.

    Example:
        >>> cache = ContextCache(Path("/tmp/demo.sqlite"))  # doctest: +SKIP
        >>> cache.put_many([("k1", "a post", "it implies ...")])  # doctest: +SKIP
        >>> cache.get_many(["k1", "k2"])  # doctest: +SKIP
        {'k1': 'it implies ...'}
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS contexts "
                "(key TEXT PRIMARY KEY, text TEXT NOT NULL, context TEXT NOT NULL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection that commits on success, rolls back on error, and is always closed."""
        db = sqlite3.connect(self.path, timeout=60)
        try:
            with db:
                yield db
        finally:
            db.close()

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The cached contexts of those ``keys`` that are present."""
        found: dict[str, str] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT key, context FROM contexts WHERE key IN ({marks})", chunk
                )
                found.update(dict(rows))
        return found

    def put_many(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Store ``(key, text, context)`` rows in one transaction."""
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO contexts VALUES (?, ?, ?)", list(rows))

    def __len__(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM contexts").fetchone()[0])

    def items(self) -> list[tuple[str, str]]:
        """Every cached ``(text, context)`` pair."""
        with self._connect() as db:
            return list(db.execute("SELECT text, context FROM contexts ORDER BY rowid"))
