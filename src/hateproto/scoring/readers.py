"""Read CSV, TSV, JSON lines and Parquet files in chunks, with constant memory.

Every reader yields :class:`Chunk` objects (a DataFrame of consecutive rows and the position of
its first row) and can start after a number of rows (for ``--resume``). CSV/TSV cells are read
as strings (empty cells are missing), so the other columns pass through unchanged.

Example:
    >>> reader = TableReader("posts.csv", text_column="text", chunk_size=1000)  # doctest: +SKIP
    >>> for chunk in reader.chunks(skip=0): ...                                  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hateproto.data.tables import table_format
from hateproto.errors import DataError

MAX_COLUMNS = 10_000
"""A table with more columns is refused before any row is read."""


@dataclass
class Chunk:
    """Consecutive input rows: ``frame`` starts at input row ``start`` (0-based).

    ``errors`` maps positions within the chunk to a reason, for rows the reader could not
    parse at all (a JSON line that is not valid JSON, bytes that are not UTF-8).
    """

    frame: pd.DataFrame
    start: int
    errors: dict[int, str] = field(default_factory=dict)


class TableReader:
    """Chunked reader of one table file, chosen by its suffix.

    Args:
        path: ``.csv``, ``.tsv``, ``.jsonl``/``.json`` (JSON lines) or ``.parquet``.
        text_column: the column with the texts; checked when the reader is created.
        chunk_size: rows per chunk.

    Raises:
        DataError: the file is missing or empty, its type is unknown, or it has no
            ``text_column`` (the message lists the columns it has).
    """

    def __init__(self, path: str | Path, text_column: str = "text", chunk_size: int = 1000):
        self.path = Path(path)
        self.format = table_format(self.path)
        self.text_column = text_column
        self.chunk_size = max(1, int(chunk_size))
        if not self.path.is_file():
            raise DataError(f"{self.path}: file not found")
        if self.path.stat().st_size == 0:
            raise DataError(f"{self.path}: the file is empty")
        self.columns = self._columns()
        if len(self.columns) > MAX_COLUMNS:
            raise DataError(
                f"{self.path}: {len(self.columns):,} columns; at most {MAX_COLUMNS:,} are read "
                "(keep only the columns you need)"
            )
        if text_column not in self.columns:
            raise DataError(
                f"{self.path}: no column {text_column!r}; the file has columns: "
                f"{', '.join(map(str, self.columns)) or '(none)'} (choose one with --text-column)"
            )

    # ------------------------------------------------------------------ facts
    def _columns(self) -> list[str]:
        """Column names (CSV/TSV header, Parquet schema, keys of the first JSON object)."""
        if self.format == "parquet":
            return list(_parquet_file(self.path).schema_arrow.names)
        if self.format == "jsonl":
            for chunk in self.chunks(0):
                return [str(c) for c in chunk.frame.columns]
            raise DataError(f"{self.path}: the file has no data rows")
        try:
            header = pd.read_csv(self.path, sep=self._sep, nrows=0, encoding="utf-8")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DataError(f"{self.path}: cannot read the header line: {exc}") from None
        return [str(c) for c in header.columns]

    def count_rows(self) -> int:
        """Number of data rows: exact for Parquet and JSON lines; for CSV/TSV the number of
        lines after the header (more than the rows if quoted cells hold line breaks)."""
        if self.format == "parquet":
            return int(_parquet_file(self.path).metadata.num_rows)
        lines = 0
        last = b"\n"
        with self.path.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
        lines += last != b"\n"
        return max(0, lines - (1 if self.format in ("csv", "tsv") else 0))

    @property
    def _sep(self) -> str:
        return "\t" if self.format == "tsv" else ","

    # ------------------------------------------------------------------ chunks
    def chunks(self, skip: int = 0) -> Iterator[Chunk]:
        """Yield chunks of up to ``chunk_size`` rows, starting after the first ``skip`` rows."""
        if self.format == "parquet":
            yield from self._parquet_chunks(skip)
        elif self.format == "jsonl":
            yield from self._jsonl_chunks(skip)
        else:
            yield from self._delimited_chunks(skip)

    def _delimited_chunks(self, skip: int) -> Iterator[Chunk]:
        try:
            reader = pd.read_csv(
                self.path,
                sep=self._sep,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8",
                chunksize=self.chunk_size,
            )
            start = 0
            with reader:
                for frame in reader:
                    end = start + len(frame)
                    if end > skip:
                        cut = max(0, skip - start)
                        yield Chunk(frame.iloc[cut:].reset_index(drop=True), start + cut)
                    start = end
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{self.path}: bytes that are not UTF-8 near byte {exc.start} of a block; save "
                "the file as UTF-8"
            ) from None
        except pd.errors.ParserError as exc:
            raise DataError(f"{self.path}: cannot parse the file: {exc}") from None

    def _jsonl_chunks(self, skip: int) -> Iterator[Chunk]:
        records: list[dict] = []
        errors: dict[int, str] = {}
        row = 0
        start = skip
        with self.path.open("rb") as handle:
            for line_no, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                row += 1
                if row <= skip:
                    continue
                record, error = _parse_json_line(raw, line_no)
                if error:
                    errors[len(records)] = error
                records.append(record)
                if len(records) == self.chunk_size:
                    yield _records_chunk(records, start, errors)
                    start += len(records)
                    records, errors = [], {}
        if records:
            yield _records_chunk(records, start, errors)

    def _parquet_chunks(self, skip: int) -> Iterator[Chunk]:
        parquet = _parquet_file(self.path)
        groups, first = [], 0
        for index in range(parquet.metadata.num_row_groups):
            rows = parquet.metadata.row_group(index).num_rows
            if first + rows > skip or groups:
                groups.append(index)
            else:
                first += rows
        if not groups:
            return
        start = first
        for batch in parquet.iter_batches(batch_size=self.chunk_size, row_groups=groups):
            frame = batch.to_pandas()
            end = start + len(frame)
            if end > skip:
                cut = max(0, skip - start)
                yield Chunk(frame.iloc[cut:].reset_index(drop=True), start + cut)
            start = end


def _parquet_file(path: Path):  # -> pyarrow.parquet.ParquetFile
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataError(f"{path}: cannot read the file as Parquet: {exc}") from None


def _parse_json_line(raw: bytes, line_no: int) -> tuple[dict, str | None]:
    """One JSON-lines record, or an empty record and the reason it could not be read."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return {}, f"line {line_no} is not valid UTF-8"
    except json.JSONDecodeError as exc:
        return {}, f"line {line_no} is not valid JSON ({exc.msg})"
    if not isinstance(value, dict):
        return {}, f"line {line_no} is not a JSON object"
    return value, None


def _records_chunk(records: list[dict], start: int, errors: dict[int, str]) -> Chunk:
    return Chunk(pd.DataFrame(records, dtype=object), start, dict(errors))
