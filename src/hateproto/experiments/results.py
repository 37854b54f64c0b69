"""Shared writers for experiment results: resumable JSON rows, Markdown tables, figures.

Results rows are flat JSON objects. A :class:`ResultStore` keeps them in one JSON list file,
rewritten atomically after every added row, so an interrupted experiment resumes by skipping
the rows that are already there.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.errors import ConfigError, HateprotoError
from hateproto.outputs import atomic_write_text, remove_stale_temporaries
from hateproto.paths import home_dir
from hateproto.provenance import provenance

Row = dict[str, Any]


def with_provenance(rows: Iterable[Row], dtype: str | None = None) -> list[Row]:
    """``rows`` with the provenance fields (:func:`hateproto.provenance.provenance`) added
    under ``"provenance"`` to each, for result files written without a :class:`ResultStore`."""
    record = provenance(dtype=dtype)
    return [{**row, "provenance": record} for row in rows]


class ResultStore:
    """A JSON list of result rows on disk, with resume support.

    Args:
        path: the JSON file (created on the first :meth:`add`).
        key_fields: the fields that identify a run; :meth:`has` looks them up.
        settings: run-wide settings (e.g. examples per class) written into every row. A file
            whose rows were written with other settings is refused with a :class:`ConfigError`
            instead of being resumed, so that results of two configurations never mix.
        dtype: the models' dtype, recorded with the other provenance fields
            (:func:`hateproto.provenance.provenance`) under ``"provenance"`` in every new row.

    Example:
        >>> store = ResultStore("/tmp/demo.json", key_fields=("train", "seed"))  # doctest: +SKIP
        >>> if not store.has(train="ihc", seed=0):                                # doctest: +SKIP
        ...     store.add({"train": "ihc", "seed": 0, "macro_f1": 0.7})
    """

    def __init__(
        self,
        path: str | Path,
        key_fields: Sequence[str],
        settings: Mapping[str, Any] | None = None,
        dtype: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.key_fields = tuple(key_fields)
        self.settings = dict(settings or {})
        self.provenance = provenance(dtype=dtype)
        remove_stale_temporaries(self.path)  # left by a run killed while saving a row
        self.rows: list[Row] = self._load()
        self._check_settings()

    def _check_settings(self) -> None:
        for row in self.rows:
            for name, value in self.settings.items():
                if row.get(name) != value:
                    raise ConfigError(
                        f"results file {self.path} holds rows written with {name}="
                        f"{row.get(name)!r}, but this run has {name}={value!r}; give this run "
                        "another name (or results path), or delete the file to start over"
                    )

    def _load(self) -> list[Row]:
        if not self.path.is_file():
            return []
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise HateprotoError(f"results file {self.path} is not valid JSON: {exc}") from None
        if not isinstance(rows, list):
            raise HateprotoError(f"results file {self.path} must hold a JSON list of objects")
        return rows

    def _key(self, values: dict[str, Any]) -> tuple[Any, ...]:
        missing = [f for f in self.key_fields if f not in values]
        if missing:
            raise HateprotoError(f"result row lacks the key field(s) {missing}")
        return tuple(values[f] for f in self.key_fields)

    def has(self, **key: Any) -> bool:
        """Whether a row with these key-field values is already stored."""
        wanted = self._key(key)
        return any(self._key(row) == wanted for row in self.rows)

    def add(self, row: Row) -> None:
        """Add (or replace, if its key exists) a row and rewrite the file atomically."""
        self.extend([row])

    def extend(self, rows: Iterable[Row]) -> None:
        """Add (or replace) many rows with a single rewrite of the file."""
        rows = [{**row, **self.settings, "provenance": self.provenance} for row in rows]
        keys = {self._key(row) for row in rows}
        self.rows = [r for r in self.rows if self._key(r) not in keys] + rows
        atomic_write_text(self.path, json.dumps(self.rows, indent=1, default=_json_default))


@contextmanager
def locked(results: str | Path) -> Iterator[None]:
    """An exclusive lock per results file, so that several runs (e.g. one per model) can add
    rows to the same file without losing each other's."""
    import fcntl
    import hashlib

    digest = hashlib.sha256(str(Path(results).resolve()).encode()).hexdigest()[:16]
    path = home_dir() / "locks" / f"{digest}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _fmt(value: Any, digits: int) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def markdown_table(rows: Iterable[Row], columns: Sequence[str], digits: int = 4) -> str:
    """A Markdown table of ``rows`` with the given ``columns`` (missing cells are blank).

    Example:
        >>> print(markdown_table([{"a": 1, "b": 0.5}], ["a", "b"], digits=2))
        | a | b |
        | --- | --- |
        | 1 | 0.50 |
    """
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c, ""), digits) for c in columns) + " |")
    return "\n".join(lines)


def markdown_matrix(
    rows: Iterable[Row],
    row_field: str,
    column_field: str,
    value_field: str,
    digits: int = 3,
    scale: float = 100.0,
    filter_fn: Callable[[Row], bool] | None = None,
) -> str:
    """Mean ± std (over the remaining fields, e.g. seeds) of ``value_field`` in a matrix with
    one row per ``row_field`` value and one column per ``column_field`` value.

    Values are multiplied by ``scale`` (percentages by default).
    """
    cells: dict[tuple[Any, Any], list[float]] = defaultdict(list)
    row_keys: list[Any] = []
    col_keys: list[Any] = []
    for row in rows:
        if filter_fn is not None and not filter_fn(row):
            continue
        r, c = row[row_field], row[column_field]
        row_keys += [r] if r not in row_keys else []
        col_keys += [c] if c not in col_keys else []
        cells[(r, c)].append(float(row[value_field]) * scale)
    header = f"| {row_field} \\ {column_field} | " + " | ".join(str(c) for c in col_keys) + " |"
    lines = [header, "| " + " | ".join("---" for _ in range(len(col_keys) + 1)) + " |"]
    for r in row_keys:
        values = []
        for c in col_keys:
            v = cells.get((r, c))
            if not v:
                values.append("")
            elif len(v) == 1:
                values.append(f"{v[0]:.{digits - 2}f}")
            else:
                values.append(f"{np.mean(v):.{digits - 2}f} ± {np.std(v, ddof=1):.{digits - 2}f}")
        lines.append(f"| {r} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def matrix_section(
    title: str, rows: Iterable[Row], row_field: str, column_field: str, value_field: str
) -> list[str]:
    """Report lines: a ``## title`` heading, the :func:`markdown_matrix` of the rows whose
    ``value_field`` is known (not ``None``), and a blank line."""
    known = [r for r in rows if r[value_field] is not None]
    return [f"## {title}", markdown_matrix(known, row_field, column_field, value_field), ""]


def save_figure(fig: Any, path: str | Path, dpi: int = 120) -> None:
    """Save a matplotlib figure atomically as PNG and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
