"""Checks that several commands share: dataset names, examples per class, loss budgets.

Each raises a :class:`~hateproto.errors.HateprotoError` whose message names an option or a
value the user can type.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from hateproto.cli.options import LabelColumns
from hateproto.data.benchmarks import BENCHMARKS, load_benchmark
from hateproto.data.sampling import check_per_class  # noqa: F401 - re-exported for the commands
from hateproto.data.tables import TABLE_FORMATS, load_table
from hateproto.data.types import LabeledTexts
from hateproto.errors import ConfigError, DataError

#: Largest early-exit loss budget accepted, in macro-F1 points (all of it: any loss).
MAX_BUDGET_POINTS = 100.0


def check_data_source(value: str, known: tuple[str, ...], option: str = "--data") -> str:
    """``value`` if it is a known dataset name or an existing file; otherwise a clear error.

    A name with a table suffix (``posts.csv``) that does not exist is reported as a missing
    file; anything else as an unknown dataset, with the closest names and the file formats.

    Example:
        >>> check_data_source("ihc", ("ihc", "olid"))
        'ihc'
    """
    if value in known and not Path(value).exists():
        return value
    path = Path(value).expanduser()
    if path.exists():
        return value
    if any(value.lower().endswith(suffix) for suffix in TABLE_FORMATS):
        raise DataError(f"{option} {value}: file not found")
    close = difflib.get_close_matches(value.lower(), known, n=2, cutoff=0.6)
    hint = f"did you mean {' or '.join(repr(name) for name in close)}? " if close else ""
    raise DataError(
        f"{option} {value}: unknown dataset {value!r}; {hint}known: {', '.join(known)}; or a "
        "path to a CSV/TSV/JSONL/parquet file"
    )


def load_source(
    data: str,
    split: str,
    protocol: str,
    data_dir: str | None,
    columns: LabelColumns | None = None,
) -> LabeledTexts:
    """What ``--data`` names: a benchmark split (a benchmark name) or a user table (a file,
    read with ``columns``)."""
    check_data_source(data, BENCHMARKS, "--data")
    if data in BENCHMARKS and not Path(data).exists():
        return load_benchmark(data, split, protocol, data_dir)
    return load_table(data, split=split, **(columns or LabelColumns()).load_kwargs())


def budget_points_to_f1(points: float | None, option: str) -> float | None:
    """A macro-F1 loss budget given in points (0.5 = half a point) → F1 units (0.005).

    Example:
        >>> budget_points_to_f1(0.5, "--budget")
        0.005
    """
    if points is None:
        return None
    if not 0 <= points <= MAX_BUDGET_POINTS:
        raise ConfigError(
            f"{option} {points:g} is out of range: it is the macro-F1 loss allowed, in points "
            f"(0.5 = half a point), from 0 to {MAX_BUDGET_POINTS:g}"
        )
    return points / 100
