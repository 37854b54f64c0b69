"""The stored labels as a CSV file, and as examples for ``detector adapt --from-feedback``.

The CSV is written to a temporary file beside the output and renamed when complete, so an
error leaves no half-written file. A cell that a spreadsheet would run as a formula (it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with ``'``:
posts are hostile text. ``raw=True`` keeps every text exactly as stored.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.data.types import LABEL_NAMES, LabeledTexts
from hateproto.errors import DataError
from hateproto.outputs.files import atomic_output_file

COLUMNS = (
    "label_id",
    "post_id",
    "text",
    "label",
    "moderator",
    "labelled_at",
    "hate_probability",
    "threshold",
    "reason",
    "model",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """``value`` made inert for a spreadsheet (a leading ``'`` before a formula character).

    Example:
        >>> neutralize("=HYPERLINK(1)"), neutralize("fine"), neutralize(0.5)
        ("'=HYPERLINK(1)", 'fine', 0.5)
    """
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_lines(rows: Any, raw: bool = False) -> Any:
    """The CSV text of ``rows`` (dicts with :data:`COLUMNS`), a line at a time."""
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, extrasaction="ignore")
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row if raw else {k: neutralize(v) for k, v in row.items()})
        yield buffer.getvalue()


def write_labels_csv(store: Any, path: str | Path, raw: bool = False) -> int:
    """Write every label of ``store`` to ``path`` (atomically); the number of labels."""
    count = 0
    with atomic_output_file(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as out:
        for index, line in enumerate(csv_lines(store.label_rows(), raw)):
            out.write(line)
            count = index
    return count


def labelled_examples(store: Any, name: str = "feedback") -> tuple[LabeledTexts, list[int]]:
    """Every stored label as examples (label 1 = hate) and their label ids, oldest first."""
    texts, ids, values = [], [], []
    for row in store.label_rows():
        texts.append(row["text"])
        values.append(LABEL_NAMES.index(row["label"]))
        ids.append(int(row["label_id"]))
    if not texts:
        raise DataError(f"the feedback database {store.describe()} holds no labels yet")
    return LabeledTexts(texts, np.asarray(values, dtype=np.int64), name=name), ids


def split_held_out(
    data: LabeledTexts, share: float, seed: int = 0
) -> tuple[LabeledTexts, LabeledTexts | None]:
    """``data`` split into (examples to adapt with, held-out part) stratified by label with
    ``seed``; ``share`` 0 or a class too small to split → no held-out part."""
    if share <= 0:
        return data, None
    rng = np.random.default_rng(seed)
    held: list[int] = []
    for c in (0, 1):
        rows = rng.permutation(np.flatnonzero(data.labels == c))
        take = int(round(len(rows) * share))
        if len(rows) - take < 1 or take < 1:
            return data, None
        held += rows[:take].tolist()
    mask = np.zeros(len(data), dtype=bool)
    mask[held] = True
    return _subset(data, ~mask, "train"), _subset(data, mask, "held_out")


def _subset(data: LabeledTexts, mask: np.ndarray, split: str) -> LabeledTexts:
    rows = np.flatnonzero(mask)
    return LabeledTexts(
        [data.texts[i] for i in rows], data.labels[rows], name=f"{data.name}-{split}", split=split
    )


def feedback_source(data: LabeledTexts, weight: float, database: str, last_label: int) -> Any:
    """An :class:`~hateproto.detector.adapt.ExampleSource` of stored labels, recorded in the
    policy as ``kind: feedback`` with the database (password hidden) and the newest label
    id it includes."""
    from hateproto.detector.adapt import ExampleSource

    class FeedbackSource(ExampleSource):
        def record(self) -> dict[str, Any]:
            return {
                **super().record(),
                "kind": "feedback",
                "database": database,
                "last_label_id": last_label,
            }

    return FeedbackSource(data, weight, None)
