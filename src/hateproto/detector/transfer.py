"""Move a detector between machines: one ``.tar.gz`` file, every byte checked at both ends.

:func:`export_detector` checks a format-2 detector folder against its sha256 list and writes
its files (and only those) into a reproducible archive (sorted names, no owners, times or
modes from this machine); :func:`import_detector` reads one back, refusing anything that is
not a plain file with a safe relative name (absolute paths, ``..``, links, devices,
duplicates), checks every file against the archive's ``detector.json``, and swaps the folder
in atomically (a crash leaves the old folder or the new one, never a mix).

Example:
    >>> export_detector(Path("detectors/ihc"), Path("ihc.tar.gz"))        # doctest: +SKIP
    >>> import_detector(Path("ihc.tar.gz"), Path("/srv/detectors/ihc"))   # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import zlib
from pathlib import Path
from typing import IO

from hateproto.detector.artifact import check_member_name, verify_files
from hateproto.detector.manifest import MANIFEST_FILE, DetectorManifest
from hateproto.errors import HateprotoError, ModelError
from hateproto.outputs import (
    DETECTOR_FOLDER,
    atomic_output_file,
    check_output_file,
    check_output_folder,
    replace_folder,
)

MAX_MEMBERS = 100_000
"""More entries than this in an archive is refused (no detector holds that many files)."""
_CHUNK = 1 << 20


def export_detector(folder: Path, archive: Path) -> Path:
    """Write the detector ``folder`` (format 2, checked first) to ``archive`` (.tar.gz)."""
    folder = Path(folder).expanduser()
    manifest = DetectorManifest.read(folder)
    if manifest.files is None:
        raise ModelError(
            f"{folder} is a format-1 detector folder (not self-contained); rewrite it first "
            f"with `hateproto detector upgrade {folder}`"
        )
    archive = check_output_file(archive, option="--out")
    if folder.resolve() in archive.resolve().parents:
        raise ModelError(
            f"--out {archive} is inside the detector folder {folder}; put it elsewhere"
        )
    verify_files(folder, manifest.files)
    names = [MANIFEST_FILE, *sorted(manifest.files)]
    with atomic_output_file(archive) as tmp, open(tmp, "wb") as raw:
        _write_archive(raw, folder, names, manifest.files)
    return archive


def _write_archive(raw: IO[bytes], folder: Path, names: list[str], hashes: dict[str, str]) -> None:
    """A gzip-compressed tar of ``names`` (no file name or time in the gzip header either)."""
    with (
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in names:
            _add_file(tar, folder / name, name, hashes.get(name))


def _add_file(tar: tarfile.TarFile, path: Path, name: str, expected: str | None) -> None:
    """Add ``path`` as ``name`` with neutral metadata, checking its sha256 as it is read."""
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mode = 0o644
    with open(path, "rb") as handle:
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    if expected is not None and reader.digest.hexdigest() != expected:
        raise ModelError(f"{path} changed while it was being exported; export it again")


class _HashingReader:
    """A file wrapper that hashes what is read through it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def import_detector(archive: Path, out: Path, overwrite: bool = False) -> Path:
    """Unpack ``archive`` (from :func:`export_detector`) into the detector folder ``out``,
    after every check (see the module docstring). Returns ``out``."""
    archive = Path(archive).expanduser()
    if not archive.is_file():
        raise ModelError(f"{archive}: no such archive file")
    out = check_output_folder(out, DETECTOR_FOLDER, overwrite, inputs=[archive])

    def write(staging: Path) -> None:
        staging.mkdir(parents=True)
        try:
            _unpack(archive, staging)
            manifest = DetectorManifest.read(staging)
            if manifest.files is None:
                raise ModelError(f"{MANIFEST_FILE} is format 1; export from an upgraded folder")
            verify_files(staging, manifest.files)
        except HateprotoError as exc:  # name the archive, not the hidden staging folder
            message = str(exc).replace(f"{staging}/", f"{archive}: ").replace(str(staging), "")
            raise ModelError(
                message if str(archive) in message else f"{archive}: {message}"
            ) from None
        except OSError as exc:
            raise ModelError(f"{archive}: cannot unpack into {out} ({exc.strerror})") from None

    return replace_folder(out, write)


def _unpack(archive: Path, staging: Path) -> None:
    """Write every member of ``archive`` into ``staging``, refusing unsafe ones."""
    seen: set[str] = set()
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for count, member in enumerate(tar):
                if count >= MAX_MEMBERS:
                    raise ModelError(f"{archive}: more than {MAX_MEMBERS:,} entries")
                name = check_member_name(member.name.removeprefix("./").rstrip("/"), str(archive))
                if member.isdir():
                    continue
                if not member.isfile():
                    raise ModelError(f"{archive}: {name!r} is a link or special file; refused")
                if name in seen:
                    raise ModelError(f"{archive}: {name!r} appears twice; refused")
                seen.add(name)
                _write_member(tar, member, staging / name)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ModelError(f"{archive}: not a readable .tar.gz detector archive ({exc})") from None


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = tar.extractfile(member)
    if source is None:
        raise ModelError(f"{member.name!r} cannot be read from the archive")
    target.parent.mkdir(parents=True, exist_ok=True)
    with source, open(target, "xb") as sink:
        while chunk := source.read(_CHUNK):
            sink.write(chunk)
