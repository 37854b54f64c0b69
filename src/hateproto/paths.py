"""Where hateproto keeps models, caches and looks for datasets.

* ``HATEPROTO_HOME`` (default ``~/.cache/hateproto``): fetched models in ``models/``,
  representation caches in ``cache/``.
* Data directory: an explicit ``--data-dir``, else ``$HATEPROTO_DATA``, else
  ``../shared/datasets`` beside the repository checkout (or the current directory) if it exists.
"""

from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    """Return the hateproto home folder (``$HATEPROTO_HOME`` or ``~/.cache/hateproto``)."""
    env = os.environ.get("HATEPROTO_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "hateproto"


def models_dir() -> Path:
    """Return the folder where ``hateproto models fetch`` puts models."""
    return home_dir() / "models"


def cache_dir() -> Path:
    """Return the folder for on-disk caches (representations, features)."""
    return home_dir() / "cache"


def _candidate_data_dirs() -> list[Path]:
    repo_root = Path(__file__).resolve().parents[2]
    return [repo_root.parent / "shared" / "datasets", Path.cwd().parent / "shared" / "datasets"]


def default_data_dir() -> Path | None:
    """Return the data directory to use when none is given, or ``None`` if none exists."""
    env = os.environ.get("HATEPROTO_DATA")
    if env:
        return Path(env).expanduser()
    for candidate in _candidate_data_dirs():
        if candidate.is_dir():
            return candidate
    return None


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """Return ``data_dir`` as a path if given, else :func:`default_data_dir`."""
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
