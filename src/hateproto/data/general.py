"""The ``general`` protocol: one definition of hate across all six benchmarks.

The benchmarks disagree on what they call positive: OLID marks any offensive tweet (profanity
included), HateXplain's protocol merges *offensive* with *hatespeech*, and the IHC protocol of
HatePrototypes drops explicit hate. A detector trained on a mix of them learns a blur of those
definitions. The ``general`` protocol relabels each benchmark to one definition -- an attack on
people for who they are (a protected group) -- using the annotations each release ships:

========== ===============================================================================
ihc        ocampo2023 splits: implicit **and explicit** hate -> 1, not hate -> 0
sbic       ocampo2023 splits, labels as given
dynahate   ocampo2023 splits, labels as given (adversarial, with contrastive non-hate)
toxigen    ocampo2023 splits, labels as given (many benign statements about groups)
olid       offensive **and targeted at a group** (subtask C = GRP) -> 1; not offensive,
           untargeted profanity (UNT) and insults of individuals (IND/OTH) -> 0; train/dev:
           the seeded 70/30 split of the training file, test: the official test set with its
           level B and C labels
hatexplain majority ``hatespeech`` -> 1, ``normal`` -> 0; ``offensive`` posts are dropped
           (neither clearly hate nor clearly not); official split
========== ===============================================================================

Each benchmark's own protocols (:func:`~hateproto.data.load_benchmark`) stay as they are; the
papers' experiments use those.

Example:
    >>> test = load_general("olid", "test")  # doctest: +SKIP
    >>> test.protocol, int(test.labels.sum())  # doctest: +SKIP
    ('general', 78)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hateproto.data.benchmarks import BENCHMARKS, canonical_split, data_root, load_benchmark
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError

GENERAL_DATASETS: tuple[str, ...] = BENCHMARKS
"""Every benchmark has a ``general`` version."""

_OCAMPO = ("ihc", "sbic", "dynahate", "toxigen")


def load_general(
    name: str, split: str = "train", data_dir: str | Path | None = None, seed: int = 42
) -> LabeledTexts:
    """One split of a benchmark under the ``general`` protocol (see the module docstring).

    Raises:
        DataError: an unknown name or split, or a missing release file (named).
    """
    if name not in GENERAL_DATASETS:
        raise DataError(
            f"unknown dataset {name!r} for the general protocol; known: "
            f"{', '.join(GENERAL_DATASETS)}"
        )
    split = canonical_split(split)
    if name in _OCAMPO:
        data = load_benchmark(name, split, "ocampo2023", data_dir, seed)
    elif name == "hatexplain":
        data = _hatexplain(split, data_dir, seed)
    elif name == "olid":
        data = _olid(split, data_dir, seed)
    else:  # a benchmark added to BENCHMARKS without a general version
        raise DataError(f"{name!r} has no general version yet (hateproto.data.general)")
    return _renamed(data, data.labels, np.ones(len(data), dtype=bool), data.notes)


def _renamed(
    data: LabeledTexts, labels: np.ndarray, keep: np.ndarray, notes: dict[str, object]
) -> LabeledTexts:
    rows = np.flatnonzero(keep)
    return LabeledTexts(
        texts=[data.texts[i] for i in rows],
        labels=np.asarray(labels)[rows],
        name=data.name,
        protocol="general",
        split=data.split,
        metadata=data.metadata.iloc[rows].reset_index(drop=True)
        if len(data.metadata)
        else data.metadata,
        notes={**data.notes, **notes},
    )


def _hatexplain(split: str, data_dir: str | Path | None, seed: int) -> LabeledTexts:
    data = load_benchmark("hatexplain", split, "hateprototypes", data_dir, seed)
    category = data.metadata["category"].to_numpy()
    keep = category != "offensive"
    labels = (category == "hatespeech").astype(np.int64)
    return _renamed(data, labels, keep, {"dropped_offensive": int((~keep).sum())})


def _olid(split: str, data_dir: str | Path | None, seed: int) -> LabeledTexts:
    data = load_benchmark("olid", split, "hateprototypes", data_dir, seed)
    if split == "test":
        category = _olid_test_categories(data_dir)
        data.metadata["category"] = category
    category = data.metadata["category"].tolist()
    labels = np.array([isinstance(c, str) and c.endswith("/GRP") for c in category], np.int64)
    return _renamed(data, labels, np.ones(len(data), dtype=bool), {"hate": "OFF/TIN/GRP"})


def _olid_test_categories(data_dir: str | Path | None) -> list[str | None]:
    """Subtask B/C labels of the official OLID test set, in the order of ``testset-levela``."""
    root = data_root(data_dir)
    paths = {
        name: root / "olid" / name
        for name in ("testset-levela.tsv", "labels-levelb.csv", "labels-levelc.csv")
    }
    for path in paths.values():
        if not path.is_file():
            raise DataError(f"OLID test labels: {path} not found (the OLIDv1.0 release file)")
    ids = pd.read_csv(paths["testset-levela.tsv"], sep="\t")["id"].tolist()
    level_b = dict(pd.read_csv(paths["labels-levelb.csv"], header=None).itertuples(index=False))
    level_c = dict(pd.read_csv(paths["labels-levelc.csv"], header=None).itertuples(index=False))
    out: list[str | None] = []
    for post in ids:
        if post not in level_b:
            out.append(None)
        elif post in level_c:
            out.append(f"{level_b[post]}/{level_c[post]}")
        else:
            out.append(str(level_b[post]))
    return out
