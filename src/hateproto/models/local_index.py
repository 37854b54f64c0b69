"""Which local model folders this machine has used, by weights fingerprint.

A detector folder names a local base model by ``local:<folder name>`` and its fingerprint,
never by path (:func:`hateproto.models.references.portable_name`). So that a detector still
loads on the machine that built it, saving one records ``fingerprint -> folder`` here, in
``$HATEPROTO_HOME/models/local-models.json``; on another machine the folder is given once
(``--model FOLDER``) and recorded too. This file is a cache of facts about this machine: it is
never part of an artifact, and a folder it names is only used if its weights have the
fingerprint asked for (the caller checks).

Example:
    >>> remember_local_model("0123abcd", "/models/bert")   # doctest: +SKIP
    >>> find_local_model("0123abcd")                      # doctest: +SKIP
    '/models/bert'
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from hateproto.outputs import atomic_write_text
from hateproto.paths import models_dir

INDEX_FILE = "local-models.json"
_KEEP = 4


def _index_path() -> Path:
    return models_dir() / INDEX_FILE


def _read() -> dict[str, list[str]]:
    """The index (empty when missing or unreadable: it is only a cache)."""
    with contextlib.suppress(OSError, ValueError):
        value = json.loads(_index_path().read_text(encoding="utf-8"))
        if isinstance(value, dict):
            return {
                str(k): [str(p) for p in v if isinstance(p, str)]
                for k, v in value.items()
                if isinstance(v, list)
            }
    return {}


def remember_local_model(fingerprint: str, folder: str | Path) -> None:
    """Record that ``folder`` holds weights with ``fingerprint`` (best effort: a read-only
    home folder only means the next load needs ``--model``)."""
    path = str(Path(folder).expanduser().resolve())
    index = _read()
    paths = [path] + [p for p in index.get(fingerprint, []) if p != path]
    index[fingerprint] = paths[:_KEEP]
    with contextlib.suppress(OSError):
        atomic_write_text(_index_path(), json.dumps(index, indent=1, sort_keys=True) + "\n")


def find_local_model(fingerprint: str) -> str | None:
    """The newest recorded folder for ``fingerprint`` that still exists, else ``None``."""
    for path in _read().get(fingerprint, []):
        if Path(path).is_dir():
            return path
    return None
