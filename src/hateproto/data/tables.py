"""Read user files (CSV, TSV, JSON lines, Parquet) into :class:`LabeledTexts`.

Every problem is reported as a :class:`~hateproto.errors.DataError` that names the file, the
column and the 1-based data row (the header line is not counted), so that a user can open the
file and fix it.

Example:
    >>> from hateproto.data import load_table
    >>> data = load_table("posts.csv", text_column="post", label_column="class",
    ...                   label_map={"hate": 1, "not_hate": 0})  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError

#: Suffixes :func:`read_table` understands, mapped to the reader used.
TABLE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".parquet.gzip": "parquet",
}

_TRUE = {"1", "true"}
_FALSE = {"0", "false"}


def table_format(path: str | Path) -> str:
    """Return the format of ``path`` (``csv``, ``tsv``, ``jsonl`` or ``parquet``) from its name.

    Example:
        >>> table_format("train.parquet.gzip")
        'parquet'
    """
    name = Path(path).name.lower()
    for suffix, fmt in sorted(TABLE_FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return fmt
    known = ", ".join(TABLE_FORMATS)
    raise DataError(f"{path}: unsupported file type; use one of {known}")


def _table_stem(path: Path) -> str:
    """Return the file name without its table suffix (``a.parquet.gzip`` -> ``a``)."""
    name = path.name
    for suffix in sorted(TABLE_FORMATS, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return path.stem


def _check_utf8(path: Path) -> None:
    """Raise a :class:`DataError` giving the byte offset and line of the first bad UTF-8 byte."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise DataError(
            f"{path}: byte 0x{bad} at offset {exc.start} (line {line}) is not valid UTF-8; "
            "save the file as UTF-8"
        ) from None


def _read_delimited(path: Path, sep: str, text_column: str) -> pd.DataFrame:
    """Read a CSV/TSV file; only empty cells count as missing, so a post "NA" stays text."""
    try:
        return pd.read_csv(
            path,
            sep=sep,
            dtype={text_column: object},
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8",
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (expected a header line and rows)") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: cannot parse the file as {sep!r}-separated: {exc}") from None


def _read_json_lines(path: Path) -> pd.DataFrame:
    """Read JSON lines (one object per line) or a JSON array of objects."""
    content = path.read_text(encoding="utf-8")
    if content.lstrip().startswith("["):
        try:
            records = json.loads(content)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    else:
        records = []
        # split on "\n" only: str.splitlines() also splits on U+0085 and U+2028 inside strings
        for line_no, line in enumerate(content.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: invalid JSON on line {line_no}: {exc.msg}") from None
    for row, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise DataError(f"{path}: row {row} is not a JSON object: {str(record)[:60]!r}")
    return pd.DataFrame.from_records(records)


def _read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file (``.parquet`` or ``.parquet.gzip``)."""
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataError(f"{path}: cannot read the file as Parquet: {exc}") from None


def _read_raw(path: Path, text_column: str) -> pd.DataFrame:
    """Read ``path`` into a DataFrame according to its suffix, with clear errors."""
    fmt = table_format(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    if fmt in ("csv", "tsv", "jsonl"):
        _check_utf8(path)
    if fmt == "csv":
        return _read_delimited(path, ",", text_column)
    if fmt == "tsv":
        return _read_delimited(path, "\t", text_column)
    if fmt == "jsonl":
        return _read_json_lines(path)
    return _read_parquet(path)


def _require_columns(frame: pd.DataFrame, path: Path, columns: list[str]) -> None:
    """Raise if any of ``columns`` is missing, listing the columns the file has."""
    existing = [str(c) for c in frame.columns]
    for column in columns:
        if column not in frame.columns:
            raise DataError(
                f"{path}: no column {column!r}; the file has columns: {', '.join(existing)}"
            )


def _check_texts(frame: pd.DataFrame, path: Path, text_column: str) -> None:
    """Raise on the first text that is not a string, or is empty or only whitespace."""
    for row, value in enumerate(frame[text_column].tolist(), start=1):
        where = f"{path}: column {text_column!r}, row {row}"
        if not isinstance(value, str):
            shown = "missing (NaN)" if _is_missing(value) else f"{value!r} ({type(value).__name__})"
            raise DataError(f"{where}: text must be a string, got {shown}")
        if not value.strip():
            raise DataError(f"{where}: text is empty or only whitespace")


def _is_missing(value: object) -> bool:
    """True for ``None`` and float NaN (and pandas' NA)."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def read_table(
    path: str | Path, text_column: str = "text", label_column: str | None = None
) -> pd.DataFrame:
    """Read a table and check its text column (and that ``label_column`` exists, if given).

    Use this for unlabelled input (e.g. posts to classify). Texts must be non-empty strings.

    Args:
        path: a ``.csv``, ``.tsv``, ``.jsonl``/``.json`` (JSON lines or an array) or
            ``.parquet``/``.parquet.gzip`` file.
        text_column: the column holding the posts.
        label_column: if given, this column must exist too (its values are not checked here).

    Returns:
        The whole table as a DataFrame with a fresh 0..N-1 index.

    Example:
        >>> frame = read_table("to_classify.csv", text_column="post")  # doctest: +SKIP
    """
    path = Path(path)
    frame = _read_raw(path, text_column)
    if frame.empty:
        raise DataError(f"{path}: the file has no data rows")
    _require_columns(frame, path, [text_column] + ([label_column] if label_column else []))
    _check_texts(frame, path, text_column)
    return frame.reset_index(drop=True)


def _as_binary(value: object) -> int | None:
    """Return 0/1 for values that already are binary labels (0, 1, "0", "1", bools), else None."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return int(value)
    if isinstance(value, (float, np.floating)) and value in (0.0, 1.0):
        return int(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return 1
        if lowered in _FALSE:
            return 0
    return None


def _map_key(value: object) -> str:
    """Normalise a label value or map key for lookup (``1``, ``1.0`` and ``"1"`` agree)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return str(value).strip()


def _convert_labels(
    values: list[object],
    path: Path,
    label_column: str,
    label_map: Mapping[object, int | None] | None,
) -> list[int | None]:
    """Turn raw label values into 0/1 (or None = drop, for map entries set to None)."""
    lookup = None if label_map is None else {_map_key(k): v for k, v in label_map.items()}
    out: list[int | None] = []
    for row, value in enumerate(values, start=1):
        where = f"{path}: column {label_column!r}, row {row}"
        if lookup is None:
            label = _as_binary(value)
            if label is None:
                raise DataError(
                    f"{where}: label {value!r} is not 0/1; pass a label map "
                    "(e.g. {'hate': 1, 'not_hate': 0}) to convert other values"
                )
        else:
            key = _map_key(value)
            if _is_missing(value) or key not in lookup:
                keys = ", ".join(repr(k) for k in label_map)
                raise DataError(f"{where}: label {value!r} is not in the label map (keys: {keys})")
            label = lookup[key]
        out.append(label)
    return out


def _check_map(label_map: Mapping[object, int | None] | None) -> None:
    """Raise if a label map sends a value to something other than 0, 1 or None."""
    for key, value in (label_map or {}).items():
        if value not in (0, 1, None) or isinstance(value, float):
            raise DataError(f"label map: {key!r} -> {value!r}; targets must be 0, 1 or None")


def load_table(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    label_map: Mapping[object, int | None] | None = None,
    name: str | None = None,
    split: str = "all",
    metadata_columns: list[str] | None = None,
) -> LabeledTexts:
    """Load a labelled table as :class:`LabeledTexts`.

    Args:
        path: ``.csv``, ``.tsv``, ``.jsonl``/``.json``, ``.parquet`` or ``.parquet.gzip``.
        text_column: column with the posts (non-empty strings).
        label_column: column with the labels.
        label_map: raw label -> 0/1. A value of ``None`` drops rows with that label (counted in
            ``notes["dropped_by_label_map"]``). Without a map, labels must already be binary:
            ints 0/1, strings ``"0"``/``"1"`` or booleans.
        name: dataset name (default: the file name without its suffix).
        split: split name recorded on the result.
        metadata_columns: extra columns to keep as :attr:`LabeledTexts.metadata`.

    Example:
        >>> data = load_table("my.tsv", label_map={"OFF": 1, "NOT": 0})  # doctest: +SKIP
        >>> data.hate_fraction  # doctest: +SKIP
        0.33
    """
    path = Path(path)
    _check_map(label_map)
    frame = read_table(path, text_column=text_column, label_column=label_column)
    metadata_columns = list(metadata_columns or [])
    _require_columns(frame, path, metadata_columns)
    labels = _convert_labels(frame[label_column].tolist(), path, label_column, label_map)
    keep = np.array([label is not None for label in labels], dtype=bool)
    kept = frame.loc[keep].reset_index(drop=True)
    metadata = kept[metadata_columns].copy() if metadata_columns else pd.DataFrame()
    notes: dict[str, object] = {"source_files": [str(path)], "rows_read": len(frame)}
    if label_map is not None:
        notes["dropped_by_label_map"] = int((~keep).sum())
    return LabeledTexts(
        texts=kept[text_column].tolist(),
        labels=np.array([label for label in labels if label is not None], dtype=np.int64),
        name=name or _table_stem(path),
        protocol="table",
        split=split,
        metadata=metadata,
        notes=notes,
    )


def csv_quoting(frame: pd.DataFrame) -> int:
    """The ``csv`` quoting for writing ``frame``: every cell quoted when a text cell holds a
    carriage return (pandas quotes only cells with a ``\\n``, and an unquoted ``\\r`` reads
    back as the end of a row), else the minimal quoting."""
    import csv

    for column in frame.columns:
        values = frame[column]
        textual = values.dtype == object or pd.api.types.is_string_dtype(values)
        if textual and values.map(lambda v: isinstance(v, str) and "\r" in v).any():
            return csv.QUOTE_ALL
    return csv.QUOTE_MINIMAL
