"""Writing one file safely: modes the umask gives, atomic writes through a temporary file
beside the output, outputs that are not the input, and the leftovers of interrupted writes."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from hateproto.errors import DataError

_LEFTOVER = re.compile(
    r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)(?:-[0-9a-f]+)?(?:\.partial|\.[A-Za-z0-9]+)?$"
)


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


def sync_folder(folder: Path) -> None:
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
        sync_folder(path.parent)
    except OSError as exc:
        raise naming(exc, path, tmp) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_output_file`."""
    with atomic_output_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


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
    for leftover in leftovers(Path(path).expanduser()):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def leftovers(path: Path) -> list[Path]:
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
