"""Output-path safety: never lose a user's data, never leave a half-written output.

Every command that writes a file or a folder goes through this module:

* :func:`check_output_file` refuses an output that is the input (or a folder);
* :func:`atomic_output_file` / :func:`atomic_write_text` write through a temporary file in
  the same folder and rename it into place, with the mode the user's umask gives (not the
  0600 of :func:`tempfile.mkstemp`);
* :func:`check_output_folder` refuses to replace a non-empty folder that hateproto did not
  write (unless the user said ``--overwrite``), the current folder or one of its parents;
* :func:`replace_folder` writes a folder beside its destination and swaps it in with one
  atomic exchange (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, which
  :func:`recover_folder` undoes if a crash fell between them), so a crash leaves either the
  old folder or the new one complete at the destination, never a mix.

Example:
    >>> check_output_folder("detectors/ihc", DETECTOR_FOLDER)            # doctest: +SKIP
    >>> replace_folder("detectors/ihc", detector.save_pretrained)        # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hateproto.errors import DataError, ModelError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_LEFTOVER = re.compile(
    r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)(?:-[0-9a-f]+)?(?:\.partial|\.[A-Za-z0-9]+)?$"
)


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


# ---------------------------------------------------------------------- modes
def current_umask() -> int:
    """The process umask (read from ``/proc`` where possible, so no thread sees it change)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_public(path: str | Path, sync: bool = True) -> None:
    """Give ``path`` (a file, or a folder and everything in it) the modes a plain ``open`` or
    ``mkdir`` would have (0666/0777 less the umask), and flush its files to disk."""
    path = Path(path)
    mask = current_umask()
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o777 & ~mask)
            for name in files:
                _publish_file(Path(root, name), mask, sync)
        os.chmod(path, 0o777 & ~mask)
    elif path.is_file():
        _publish_file(path, mask, sync)


def _publish_file(path: Path, mask: int, sync: bool) -> None:
    if path.is_symlink():
        return
    os.chmod(path, 0o666 & ~mask)
    if sync:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: not every system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------------- errors
def naming(exc: OSError, path: Path, internal: Path | None = None) -> OSError:
    """``exc`` naming the user's ``path`` (a write's own error often names no file, or the
    hidden temporary ``internal`` one beside it)."""
    named = exc.filename
    if named is None or (internal is not None and str(internal) in str(named)):
        named = str(path)
    return OSError(exc.errno, exc.strerror or str(exc), str(named))


def check_writable(path: str | Path) -> None:
    """Fail now, naming ``path``, if a file or folder cannot be written there (read-only
    file system, no permission, disk full): before minutes of work, not after. A small
    probe file is written beside ``path`` (in its nearest existing parent) and removed."""
    path = Path(path).expanduser()
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    probe = parent / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}.probe"
    try:
        with open(probe, "wb") as handle:
            handle.write(b"\0" * 4096)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write here ({exc.strerror})", str(path)) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


# ---------------------------------------------------------------------- files
def same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name the same file (same path, link or hard link)."""
    a, b = Path(a).expanduser(), Path(b).expanduser()
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output_file(
    output: str | Path,
    inputs: Iterable[str | Path | None] = (),
    option: str = "--output",
) -> Path:
    """Refuse an output that is a folder or one of ``inputs``; return it as a path."""
    output = Path(output).expanduser()
    if output.is_dir():
        raise DataError(f"{option} {output} is a folder; give the name of a file to write")
    for source in inputs:
        if source is not None and same_file(output, source):
            raise DataError(
                f"{option} {output} is the input file {source}: writing it would destroy the "
                "input; choose another output file"
            )
    check_writable(output)
    return output


@contextlib.contextmanager
def atomic_output_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix, so writers that go by the suffix
    work); on success it gets the umask's mode and is renamed to ``path``; on failure it is
    removed. A temporary file a killed process left is removed by the next write."""
    path = Path(path).expanduser()
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}{path.suffix}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(path)
        yield tmp
        make_public(tmp)
        os.replace(tmp, path)
        _sync_folder(path.parent)
    except OSError as exc:
        raise naming(exc, path, tmp) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_output_file`."""
    with atomic_output_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


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
        _sync_folder(folder.parent)
        return
    if not _exchange(staging, folder):
        old = folder.parent / f".{folder.name}.old-{os.getpid()}"
        os.rename(folder, old)
        os.rename(staging, folder)  # a crash before this line: recover_folder restores `old`
        os.rename(old, staging)
    _sync_folder(folder.parent)


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
    leftovers = _leftovers(folder)
    olds = [path for path in leftovers if ".old-" in path.name]
    if olds and not folder.exists():
        newest = max(olds, key=lambda path: path.stat().st_mtime)
        os.rename(newest, folder)
        leftovers.remove(newest)
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)


def remove_stale_temporaries(path: str | Path) -> None:
    """Delete the temporary files a killed write of ``path`` left: this module's
    (:func:`remove_leftovers`) and the ``.NAME.*.tmp`` files of earlier releases. Call it only
    while no other process writes ``path``."""
    path = Path(path).expanduser()
    remove_leftovers(path)
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        leftover.unlink(missing_ok=True)


def remove_leftovers(path: str | Path) -> None:
    """Delete temporary files or folders beside ``path`` left by processes that died."""
    for leftover in _leftovers(Path(path).expanduser()):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _leftovers(path: Path) -> list[Path]:
    """``.NAME.tmp-PID...`` and ``.NAME.old-PID`` beside ``path`` whose process is gone."""
    found = []
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*"):
        match = _LEFTOVER.match(candidate.name)
        if match and match["name"] == path.name and not _running(int(match["pid"])):
            found.append(candidate)
    return found


def _running(pid: int) -> bool:
    """True if a process ``pid`` exists (our own counts as running)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
