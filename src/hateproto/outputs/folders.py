"""Writing a folder safely: refuse to replace a folder hateproto did not write, assemble the
new one beside it and swap it in atomically, undo a swap a crash interrupted, and read a
folder's JSON with errors that name it."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hateproto.errors import DataError, ModelError
from hateproto.outputs.files import (
    check_writable,
    leftovers,
    make_public,
    naming,
    sync_folder,
)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class FolderKind:
    """What makes a folder "one of ours": its ``marker`` file, and (if given) the only
    names hateproto writes there, so a folder with anything else is not replaced silently."""

    what: str
    marker: str
    known: frozenset[str] | None = None


DETECTOR_FOLDER = FolderKind(
    "detector",
    "detector.json",
    frozenset(
        {
            "detector.json",
            "model",
            "prototypes",
            "early_exit.json",
            "thresholds.json",
            "calibration.json",
            "examples.json",
            "examples.safetensors",
        }
    ),
)
PROTOTYPE_FOLDER = FolderKind(
    "prototype",
    "prototypes.json",
    frozenset({"prototypes.json", "prototypes.safetensors", "early_exit.json"}),
)
CHECKPOINT_FOLDER = FolderKind("checkpoint", "hateproto_classifier.json")


# ---------------------------------------------------------------------- folders
def check_output_folder(
    folder: str | Path,
    kind: FolderKind,
    overwrite: bool = False,
    inputs: Iterable[str | Path | None] = (),
    option: str = "--out",
) -> Path:
    """Refuse an output folder that cannot be replaced safely; return it as a path.

    Refused always: the current folder or one of its parents, the home folder, an existing
    file, a folder that holds one of ``inputs``. Refused without ``overwrite``: a non-empty
    folder without ``kind.marker`` (not one of ours), or one of ours that also holds files
    hateproto does not write there.
    """
    folder = Path(folder).expanduser()
    resolved = folder.resolve()
    cwd = Path.cwd().resolve()
    if resolved in (cwd, *cwd.parents, Path.home().resolve()):
        raise DataError(
            f"{option} {folder}: refusing to replace the current folder, one of its parents "
            f"or the home folder; name a new folder, e.g. {option} ./{kind.what}"
        )
    if folder.exists() and not folder.is_dir():
        raise DataError(
            f"{option} {folder} exists and is not a folder; remove it or choose another {option}"
        )
    for source in inputs:
        if source is not None and resolved in Path(source).expanduser().resolve().parents:
            raise DataError(
                f"{option} {folder} holds the input {source}, and the folder would be replaced; "
                f"choose another {option}"
            )
    if folder.is_dir() and not overwrite:
        _check_replaceable(folder, kind, option)
    check_writable(folder)
    return folder


def _check_replaceable(folder: Path, kind: FolderKind, option: str) -> None:
    entries = sorted(entry.name for entry in folder.iterdir())
    if not entries:
        return
    if kind.marker not in entries:
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise DataError(
            f"{option} {folder} is not empty ({shown}) and is not a {kind.what} folder (no "
            f"{kind.marker}); choose a new or empty folder, or pass --overwrite to replace it "
            "and everything in it"
        )
    extra = [name for name in entries if kind.known is not None and name not in kind.known]
    if extra:
        raise DataError(
            f"{option} {folder} is a {kind.what} folder but also holds files hateproto did not "
            f"write there ({', '.join(extra[:5])}); move them out, or pass --overwrite to "
            "replace the folder and them"
        )


def replace_folder(folder: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(staging)`` to make a folder beside ``folder``, then swap it in.

    The swap is one atomic exchange where the system has it, so ``folder`` holds the old
    contents or the new ones, complete, at every instant; the old contents are deleted
    afterwards. Returns ``folder``.
    """
    folder = Path(folder).expanduser()
    if folder.is_symlink():
        folder = folder.resolve()
    staging = folder.parent / f".{folder.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        recover_folder(folder)
        write(staging)
        if not staging.is_dir():
            raise DataError(f"nothing was written for {folder}")
        make_public(staging)
        _swap_in(staging, folder)
    except OSError as exc:
        raise naming(exc, folder, staging) from None
    finally:
        if staging.exists():  # a failed write, or (after an exchange) the old contents
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def _swap_in(staging: Path, folder: Path) -> None:
    """Put ``staging`` at ``folder``; afterwards ``staging`` holds the old folder, if any.

    Two processes may create the same new folder at once: the one whose rename comes second
    finds it there (``Directory not empty``) and swaps with it instead, so both succeed and
    the last one's folder stays."""
    if not folder.exists() and _rename_if_absent(staging, folder):
        sync_folder(folder.parent)
        return
    if not _exchange(staging, folder):
        old = folder.parent / f".{folder.name}.old-{os.getpid()}"
        os.rename(folder, old)
        os.rename(staging, folder)  # a crash before this line: recover_folder restores `old`
        os.rename(old, staging)
    sync_folder(folder.parent)


def _rename_if_absent(staging: Path, folder: Path) -> bool:
    """Rename ``staging`` to ``folder``; False (nothing moved) if ``folder`` appeared."""
    try:
        os.rename(staging, folder)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and folder.is_dir():
            return False
        raise
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with ``renameat2(RENAME_EXCHANGE)``; False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), str(b))


def recover_folder(folder: str | Path) -> None:
    """Undo what a crash mid-replace left: put the old folder back if the destination is
    missing, and delete the temporary folders of processes that no longer run."""
    folder = Path(folder).expanduser()
    found = leftovers(folder)
    olds = [path for path in found if ".old-" in path.name]
    if olds and not folder.exists():
        newest = max(olds, key=lambda path: path.stat().st_mtime)
        os.rename(newest, folder)
        found.remove(newest)
    for path in found:
        shutil.rmtree(path, ignore_errors=True)


def read_folder_json(folder: Path, name: str, what: str, not_ours: str) -> Any:
    """The JSON of ``folder/name``; a :class:`ModelError` when ``folder`` (a ``what``, such
    as "detector folder") is missing, when it lacks the file (message ``not_ours``), or when
    the file is not valid JSON."""
    path = folder / name
    if not folder.is_dir():
        raise ModelError(f"{what} not found: {folder}")
    if not path.is_file():
        raise ModelError(not_ours)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from None
