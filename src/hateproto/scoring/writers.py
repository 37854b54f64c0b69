"""Write scored chunks so that a killed run can resume and the output is never half-written.

Chunks go to a temporary file (CSV, TSV, JSON lines: ``OUTPUT.partial``, appended and synced
after every chunk) or folder (Parquet: ``OUTPUT.parts/part-000000.parquet``, one file per
chunk). :meth:`ChunkWriter.state` says how much is durably written; a resumed writer cuts away
anything after that state. :meth:`ChunkWriter.finish` turns the temporary data into ``OUTPUT``
with one rename.

Example:
    >>> writer = open_writer("scored.csv")                  # doctest: +SKIP
    >>> writer.write(frame); state = writer.state()          # doctest: +SKIP
    >>> writer.finish()                                      # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pandas as pd

from hateproto.data.tables import csv_quoting, table_format
from hateproto.errors import DataError


class ChunkWriter(ABC):
    """Appends DataFrames to a temporary file or folder, then renames it to ``output``."""

    def __init__(self, output: Path) -> None:
        self.output = output

    @abstractmethod
    def open(self, state: dict[str, Any] | None = None) -> None:
        """Start fresh (``state=None``) or continue from a :meth:`state` of an earlier run."""

    @abstractmethod
    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame`` durably (synced to disk before returning)."""

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """What has been written so far (JSON-ready), for :meth:`open` of a resumed run."""

    @abstractmethod
    def finish(self) -> None:
        """Move the complete output into place (one rename) and remove temporary data."""

    @abstractmethod
    def discard(self) -> None:
        """Remove temporary data without producing an output."""

    def close(self) -> None:
        """Stop writing but keep the temporary data (a failed run that ``--resume`` can
        continue from its last recorded state)."""
        handle = getattr(self, "_handle", None)
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()

    @property
    @abstractmethod
    def temporary(self) -> Path:
        """The temporary file or folder (beside ``output``)."""


class TextWriter(ChunkWriter):
    """CSV, TSV or JSON lines, appended to ``OUTPUT.partial``."""

    def __init__(self, output: Path, fmt: str) -> None:
        super().__init__(output)
        self.format = fmt
        self._handle: Any = None
        self._header_written = False

    @property
    def temporary(self) -> Path:
        return self.output.with_name(self.output.name + ".partial")

    def open(self, state: dict[str, Any] | None = None) -> None:
        if state is None:
            self._handle = self.temporary.open("wb")
            self._header_written = False
            return
        if not self.temporary.is_file() or self.temporary.stat().st_size < state["bytes"]:
            raise DataError(
                f"cannot resume: {self.temporary} is missing or shorter than recorded; "
                "run again without --resume"
            )
        self._handle = self.temporary.open("r+b")
        self._handle.truncate(state["bytes"])
        self._handle.seek(state["bytes"])
        self._header_written = bool(state["header"])

    def write(self, frame: pd.DataFrame) -> None:
        if self.format == "jsonl":
            text = (
                frame.to_json(orient="records", lines=True, force_ascii=False) if len(frame) else ""
            )
            if text and not text.endswith("\n"):
                text += "\n"
        else:
            sep = "\t" if self.format == "tsv" else ","
            text = frame.to_csv(
                sep=sep,
                index=False,
                header=not self._header_written,
                quoting=csv_quoting(frame),
            )
            self._header_written = True
        self._handle.write(text.encode("utf-8"))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def state(self) -> dict[str, Any]:
        return {"bytes": self._handle.tell(), "header": self._header_written}

    def finish(self) -> None:
        self._handle.close()
        os.replace(self.temporary, self.output)

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self.temporary.unlink(missing_ok=True)


class ParquetWriter(ChunkWriter):
    """Parquet: one part file per chunk in ``OUTPUT.parts/``, merged into one file at the end
    (one part in memory at a time; column types unified across parts)."""

    def __init__(self, output: Path) -> None:
        super().__init__(output)
        self._parts = 0

    @property
    def temporary(self) -> Path:
        return self.output.with_name(self.output.name + ".parts")

    def _part(self, index: int) -> Path:
        return self.temporary / f"part-{index:06d}.parquet"

    def open(self, state: dict[str, Any] | None = None) -> None:
        if state is None:
            shutil.rmtree(self.temporary, ignore_errors=True)
            self.temporary.mkdir(parents=True)
            self._parts = 0
            return
        self._parts = int(state["parts"])
        missing = [i for i in range(self._parts) if not self._part(i).is_file()]
        if missing:
            raise DataError(
                f"cannot resume: part {missing[0]} is missing from {self.temporary}; "
                "run again without --resume"
            )
        for extra in self.temporary.glob("part-*.parquet*"):
            if extra.name.endswith(".tmp") or int(extra.name[5:11]) >= self._parts:
                extra.unlink()

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        part = self._part(self._parts)
        partial = part.with_name(part.name + ".tmp")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), partial)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, part)
        self._parts += 1

    def state(self) -> dict[str, Any]:
        return {"parts": self._parts}

    def finish(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = [self._part(i) for i in range(self._parts)]
        schema = (
            pa.unify_schemas([pq.read_schema(p) for p in parts], promote_options="permissive")
            if parts
            else pa.schema([])
        )
        merged = self.output.with_name(self.output.name + ".partial")
        with pq.ParquetWriter(merged, schema) as writer:
            for part in parts:
                writer.write_table(_conform(pq.read_table(part), schema))
        os.replace(merged, self.output)
        shutil.rmtree(self.temporary, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.temporary, ignore_errors=True)
        self.output.with_name(self.output.name + ".partial").unlink(missing_ok=True)


def _conform(table: Any, schema: Any) -> Any:
    """Add missing columns as nulls, order and cast them as in ``schema``."""
    import pyarrow as pa

    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(len(table), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def open_writer(output: str | Path) -> ChunkWriter:
    """The writer for ``output``'s format (from its suffix); not opened yet."""
    output = Path(output)
    fmt = table_format(output)
    if not output.parent.is_dir():
        raise DataError(f"{output}: the folder {output.parent} does not exist")
    return ParquetWriter(output) if fmt == "parquet" else TextWriter(output, fmt)
