"""Model references: what users pass to :meth:`hateproto.models.Backbone.load`, and what
saved folders record.

A reference is an alias of :data:`~hateproto.models.fetch.DEFAULT_MODELS` (``minilm``), a
model folder, a hateproto checkpoint folder (one holding :data:`CHECKPOINT_FILE`), a GGUF
file, or a Hugging Face hub id. :func:`resolve_model_reference` turns one into something
``transformers`` can load; :func:`portable_reference` (and :func:`backbone_reference` for a
loaded backbone) turns one into the string written into saved folders.

Example:
    >>> portable_reference("minilm")
    'minilm'
    >>> portable_reference("no-such-org/no-such-model")
    'no-such-org/no-such-model'
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from hateproto.errors import ModelError
from hateproto.models.fetch import DEFAULT_MODELS, is_fetched, model_path
from hateproto.models.info import BackboneInfo

LOCAL_PREFIX = "local:"
"""Portable references to a local model folder are ``local:<folder name>``: a name, not a path
(see :func:`portable_name`); loading one needs :func:`substitute_model`."""

_SUBSTITUTES: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "hateproto_model_substitutes", default=None
)

CHECKPOINT_FILE = "hateproto_backbone.json"
"""A folder holding this file is a hateproto checkpoint; see
:func:`hateproto.models.loading.read_checkpoint_spec`."""


class HasBackboneInfo(Protocol):
    """Anything with a :class:`BackboneInfo` (a :class:`~hateproto.models.Backbone`)."""

    info: BackboneInfo


def resolve_model_reference(name_or_path: str) -> tuple[str, str | None]:
    """Turn an alias (``minilm``), folder, GGUF file or hub id into ``(path_or_id, gguf_file)``.

    Raises :class:`ModelError` for a local-looking path that does not exist and for an alias
    that has not been fetched yet (naming the command that fetches it).
    """
    substitute = (_SUBSTITUTES.get() or {}).get(name_or_path)
    if substitute is not None:
        name_or_path = substitute
    if name_or_path in DEFAULT_MODELS:
        return _fetched_alias(name_or_path), None
    if name_or_path.startswith(LOCAL_PREFIX):
        raise ModelError(
            f"{name_or_path!r} names a local model folder of another machine; give its folder "
            "on this one (--model FOLDER)"
        )
    path = Path(name_or_path).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError(f"GGUF file not found: {path}")
        return str(path.parent), path.name
    if path.exists():
        return str(path), _folder_gguf(path)
    looks_local = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    if looks_local:
        raise ModelError(f"model folder not found: {path}")
    return name_or_path, None


def _fetched_alias(alias: str) -> str:
    """The folder of a fetched default model; :class:`ModelError` if it is not fetched."""
    if not is_fetched(alias):
        raise ModelError(
            f"model {alias!r} is not fetched yet: run `hateproto models fetch "
            f"{alias}` (it goes to {model_path(alias)})"
        )
    return str(model_path(alias))


def _folder_gguf(path: Path) -> str | None:
    """The GGUF file to load from an existing ``path``, or ``None`` for a model folder.

    A folder without ``config.json`` (and not a hateproto checkpoint) is accepted when it
    holds exactly one ``.gguf`` file.
    """
    if not path.is_dir():
        raise ModelError(f"{path} is neither a model folder nor a .gguf file")
    if (path / "config.json").is_file() or (path / CHECKPOINT_FILE).is_file():
        return None
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:
        return ggufs[0].name
    raise ModelError(f"model folder {path} has no config.json (is it a model folder?)")


def portable_reference(reference: str) -> str:
    """The reference to write into a saved folder: aliases and hub ids as they are, local
    paths made absolute (so the folder still loads from another working directory)."""
    if reference in DEFAULT_MODELS:
        return reference
    path = Path(reference).expanduser()
    return str(path.resolve()) if path.exists() else reference


def backbone_reference(backbone: HasBackboneInfo) -> str:
    """:func:`portable_reference` of the reference a backbone was loaded from."""
    return portable_reference(backbone.info.name_or_path)


def portable_name(reference: str) -> str:
    """The name a self-contained artifact records for a model: an alias or hub id as it is,
    a local folder as ``local:<folder name>`` (never its path, which means nothing on
    another machine).

    Example:
        >>> portable_name("minilm"), portable_name("/tmp")
        ('minilm', 'local:tmp')
    """
    if reference in DEFAULT_MODELS or reference.startswith(LOCAL_PREFIX):
        return reference
    path = Path(reference).expanduser()
    if path.exists():
        return LOCAL_PREFIX + (path.resolve().name or "model")
    return reference


@contextlib.contextmanager
def substitute_model(name: str, reference: str) -> Iterator[None]:
    """While the block runs, :func:`resolve_model_reference` loads ``reference`` wherever
    ``name`` is asked for (so a checkpoint that records ``local:bert`` loads on this machine's
    copy of that model)."""
    token = _SUBSTITUTES.set({**(_SUBSTITUTES.get() or {}), name: reference})
    try:
        yield
    finally:
        _SUBSTITUTES.reset(token)
