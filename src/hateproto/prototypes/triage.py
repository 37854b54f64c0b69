"""Ambiguity triage: rank unlabelled posts by prototype margin, most ambiguous first.

A small margin (top-1 minus top-2 cosine similarity) means a post sits between the class
prototypes: those are the posts worth a human look.

Example:
    >>> ranked = triage_frame(clf, frame, text_column="text")  # doctest: +SKIP
    >>> ranked[["text", "margin", "label"]].head()               # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from hateproto.data.tables import csv_quoting, table_format
from hateproto.errors import DataError
from hateproto.prototypes.classifier import PrototypeClassifier
from hateproto.prototypes.files import class_name
from hateproto.prototypes.similarity import similarity_margin

SCORE_COLUMNS = ("triage_rank", "margin", "label", "hate_score")


def triage_frame(
    clf: PrototypeClassifier,
    frame: pd.DataFrame,
    text_column: str = "text",
    layer: int | None = None,
    show_progress: bool = False,
) -> pd.DataFrame:
    """Return ``frame`` sorted by margin (smallest first) with ``triage_rank`` (1 = most
    ambiguous), ``margin``, ``label`` (predicted class name) and ``hate_score`` (probability
    of the hate class) added.

    Rows with equal margins keep their input order.
    """
    clash = [c for c in SCORE_COLUMNS if c in frame.columns]
    if clash:
        raise DataError(f"the input already has column(s) {clash}; rename them first")
    vectors = clf.encode(frame[text_column].tolist(), show_progress=show_progress)
    position = clf.layer_position(layer)
    sims = clf.similarities_from_vectors(vectors)[:, position]
    proba = clf.proba_from_similarities(sims)
    classes = [int(c) for c in clf.classes_]
    hate_col = classes.index(1) if 1 in classes else len(classes) - 1
    out = frame.copy()
    out["margin"] = similarity_margin(sims)
    out["label"] = [class_name(classes[i]) for i in proba.argmax(axis=1)]
    out["hate_score"] = proba[:, hate_col]
    order = np.argsort(out["margin"].to_numpy(), kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    out.insert(0, "triage_rank", np.arange(1, len(out) + 1))
    return out


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as CSV, TSV or JSON lines (by suffix), atomically (temp file + rename)."""
    path = Path(path)
    fmt = table_format(path)
    if fmt == "parquet":
        raise DataError(f"{path}: write CSV, TSV or JSONL output (parquet output not supported)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            if fmt == "jsonl":
                for record in frame.to_dict(orient="records"):
                    handle.write(json.dumps(record, ensure_ascii=False, default=_plain) + "\n")
            else:
                sep = "," if fmt == "csv" else "\t"
                frame.to_csv(handle, sep=sep, index=False, quoting=csv_quoting(frame))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
