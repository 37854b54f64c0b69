"""Shared pieces of the benchmark readers: finding files, seeded splits, building results.

Used by :mod:`hateproto.data.benchmark_readers`; :mod:`hateproto.data.benchmarks` is the
public entry point (:func:`~hateproto.data.benchmarks.load_benchmark`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError

#: A per-benchmark reader: ``(data root, canonical split, seed) -> LabeledTexts``.
Loader = Callable[[Path, str, int], LabeledTexts]


def require_file(root: Path, relative: str) -> Path:
    """Return ``root / relative`` or raise a :class:`DataError` saying where it is expected."""
    path = root / relative
    if path.is_file():
        return path
    hint = "" if root.is_dir() else f" (the data directory {root} does not exist)"
    raise DataError(
        f"expected file {path} was not found{hint}; point hateproto at the datasets folder "
        "with --data-dir DIR or the HATEPROTO_DATA environment variable"
    )


def most_common_value(values: list[object]) -> object | None:
    """Most frequent non-missing value (first seen wins ties), or ``None`` if there is none."""
    present = [v for v in values if isinstance(v, str) and v]
    return Counter(present).most_common(1)[0][0] if present else None


def none_if_missing(series: pd.Series) -> list[object]:
    """Return ``series`` as a list with NaN/NA replaced by ``None``."""
    return [None if pd.isna(v) else v for v in series.tolist()]


def labeled_frame(
    frame: pd.DataFrame, name: str, protocol: str, split: str, notes: dict[str, object]
) -> LabeledTexts:
    """Build a :class:`LabeledTexts` from a frame with text, label, category, target columns."""
    metadata = pd.DataFrame(
        {
            "category": none_if_missing(frame["category"]),
            "target": none_if_missing(frame["target"]),
        },
        dtype=object,
    )
    return LabeledTexts(
        texts=frame["text"].tolist(),
        labels=frame["label"].to_numpy(dtype=np.int64),
        name=name,
        protocol=protocol,
        split=split,
        metadata=metadata,
        notes=notes,
    )


def file_mtime(path: Path) -> float:
    """Modification time of ``path`` (part of the readers' cache keys)."""
    return path.stat().st_mtime


def seeded_split(n: int, seed: int, train: float, test: float) -> dict[str, np.ndarray]:
    """Split ``range(n)`` with a seeded permutation: floor(train*n) / rest / round(test*n).

    Indices inside each split are sorted, so examples keep their file order.

    Example:
        >>> {k: len(v) for k, v in seeded_split(10, 0, 0.7, 0.15).items()}
        {'train': 7, 'dev': 1, 'test': 2}
    """
    perm = np.random.default_rng(seed).permutation(n)
    n_train = math.floor(train * n)
    n_test = int(round(test * n))
    n_dev = n - n_train - n_test
    return {
        "train": np.sort(perm[:n_train]),
        "dev": np.sort(perm[n_train : n_train + n_dev]),
        "test": np.sort(perm[n_train + n_dev :]),
    }


def select_rows(frame: pd.DataFrame, indices: np.ndarray) -> pd.DataFrame:
    """Rows ``indices`` of ``frame``, renumbered from 0."""
    return frame.iloc[indices].reset_index(drop=True)
