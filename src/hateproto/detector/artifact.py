"""A detector folder is a self-contained artifact (format 2; see ``docs/artifacts.md``).

Everything a detector needs except its base model's weights lives inside its folder: the
fine-tuned classifier (head weights, or a fully fine-tuned encoder) in ``model/``, prototypes,
early-exit thresholds, calibration, stored examples and settings. ``detector.json`` lists the
sha256 of every other file (:func:`file_hashes`), and loading refuses a folder whose files
differ from that list in any way (:func:`verify_files`). The base model is named, never
located: an alias (``minilm``), a hub id, or ``local:<folder name>`` for a local folder, plus
the weights' fingerprint (:func:`resolve_base`).

Example:
    >>> hashes = file_hashes(Path("detectors/ihc"))     # doctest: +SKIP
    >>> verify_files(Path("detectors/ihc"), hashes)     # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from hateproto.detector.manifest import MANIFEST_FILE
from hateproto.errors import ModelError
from hateproto.models.fetch import DEFAULT_MODELS
from hateproto.models.local_index import find_local_model, remember_local_model
from hateproto.models.references import LOCAL_PREFIX, portable_name
from hateproto.outputs import atomic_write_text

MODEL_DIR = "model"
"""Subfolder of a detector folder holding its fine-tuned classifier checkpoint."""
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_hashes(folder: Path) -> dict[str, str]:
    """``{relative posix path: sha256}`` of every file in ``folder`` but ``detector.json``;
    a symbolic link or special file is refused (an artifact holds plain files only)."""
    hashes: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            path = Path(root, name)
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ModelError(f"{path}: not a plain file or folder; a detector holds only those")
            if stat.S_ISREG(mode):
                relative = path.relative_to(folder).as_posix()
                if relative != MANIFEST_FILE:
                    hashes[relative] = sha256_file(path)
    return dict(sorted(hashes.items()))


def check_member_name(name: str, where: str) -> str:
    """``name`` if it is a safe relative posix path (no ``..``, not absolute, no backslash,
    NUL or empty part); else a one-line :class:`ModelError` naming ``where``."""
    parts = PurePosixPath(name).parts
    bad = (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or any(part in ("..", ".", "") for part in name.split("/"))
        or not parts
    )
    if bad:
        raise ModelError(f"{where}: refusing the unsafe file name {name!r}")
    return name


def verify_files(folder: Path, expected: dict[str, str]) -> None:
    """Refuse ``folder`` unless its files are exactly ``expected`` (names and sha256):
    a missing, changed, extra or linked file is a one-line :class:`ModelError` naming it."""
    for name in expected:
        check_member_name(name, str(folder / MANIFEST_FILE))
    try:
        found = file_hashes(folder)
    except OSError as exc:
        raise ModelError(f"{folder}: cannot read the detector's files ({exc.strerror})") from None
    for name, digest in expected.items():
        if name not in found:
            raise ModelError(f"{folder / name} is missing; the detector folder is incomplete")
        if found[name] != digest:
            raise ModelError(
                f"{folder / name} has changed since the detector was saved (sha256 "
                f"{found[name][:12]}..., expected {digest[:12]}...); rebuild or re-import it"
            )
    extra = sorted(set(found) - set(expected))
    if extra:
        raise ModelError(
            f"{folder / extra[0]} is not one of the detector's files (not listed in "
            f"{MANIFEST_FILE}); remove it"
        )


def model_source(reference: str | None) -> str:
    """How a portable base reference is found: ``included`` (no base: the weights are in the
    folder), ``alias``, ``local`` or ``hub``."""
    if reference is None:
        return "included"
    if reference in DEFAULT_MODELS:
        return "alias"
    return "local" if reference.startswith(LOCAL_PREFIX) else "hub"


def resolve_base(folder: Path, reference: str, fingerprint: str, given: str | None) -> str:
    """What to load for a detector's base model ``reference``: ``given`` (``--model``) if
    any, the alias or hub id itself, or the folder this machine recorded for a ``local:``
    model with ``fingerprint`` (the caller checks the fingerprint of what it loads)."""
    if given is not None:
        return given
    if not reference.startswith(LOCAL_PREFIX):
        return reference
    found = find_local_model(fingerprint)
    if found is None:
        raise ModelError(
            f"{folder} was built on the local model {reference.removeprefix(LOCAL_PREFIX)!r} "
            f"(weights fingerprint {fingerprint}), which this machine does not know; give its "
            "folder with --model FOLDER"
        )
    return found


def remember_base(reference: str | None, loaded_from: str | None, fingerprint: str) -> None:
    """Record a local base folder in this machine's index (see :mod:`.local_index`)."""
    if reference is None or loaded_from is None or not reference.startswith(LOCAL_PREFIX):
        return
    if Path(loaded_from).expanduser().is_dir():
        remember_local_model(fingerprint, loaded_from)


def write_classifier_copy(classifier: Any, folder: Path, base: str | None) -> None:
    """Save ``classifier`` (as it is in memory) into ``folder`` and make it portable: the
    base model it builds on is recorded as ``base`` (a portable name), not as a path."""
    classifier.save_pretrained(folder)
    _rewrite_json(folder / "hateproto_backbone.json", _portable_spec(folder, base))
    _rewrite_json(folder / "hateproto_classifier.json", _portable_meta(base))


def _portable_spec(folder: Path, base: str | None) -> Any:
    def change(spec: dict[str, Any]) -> None:
        inner = spec.get("backbone")
        own = isinstance(inner, str) and not Path(inner).is_absolute() and (folder / inner).is_dir()
        if base is not None and not own:
            spec["backbone"] = base

    return change


def _portable_meta(base: str | None) -> Any:
    def change(meta: dict[str, Any]) -> None:
        if base is None:
            return
        meta["base_model"] = base
        if isinstance(meta.get("training_config"), dict):
            meta["training_config"]["backbone"] = base

    return change


def _rewrite_json(path: Path, change: Any) -> None:
    if not path.is_file():
        return
    value = json.loads(path.read_text(encoding="utf-8"))
    change(value)
    atomic_write_text(path, json.dumps(value, indent=1, ensure_ascii=False))


def portable_base(reference: str) -> str:
    """:func:`hateproto.models.references.portable_name`, re-exported for the detector."""
    return portable_name(reference)
