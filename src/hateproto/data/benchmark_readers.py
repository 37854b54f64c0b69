"""Per-benchmark readers: IHC, OLID, HateXplain, SBIC and the Ocampo et al. (2023) files.

Each reader turns the raw release files under the data directory into a
:class:`LabeledTexts` with ``category`` and ``target`` metadata columns; which reader serves
which (protocol, dataset) is decided in :mod:`hateproto.data.benchmarks`.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from hateproto.data.benchmark_files import (
    Loader,
    file_mtime,
    labeled_frame,
    most_common_value,
    require_file,
    seeded_split,
    select_rows,
)
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError

#: HuggingFace encoding of HateXplain's 3-way majority label.
HATEXPLAIN_CLASSES: tuple[str, str, str] = ("hatespeech", "normal", "offensive")


# --------------------------------------------------------------------------- IHC (HatePrototypes)

_IHC_STG1 = "ihc/implicit_hate_v1_stg1_posts.tsv"
_IHC_STG2 = "ihc/implicit_hate_v1_stg2_posts.tsv"
_IHC_STG3 = "ihc/implicit_hate_v1_stg3_posts.tsv"


@functools.lru_cache(maxsize=4)
def _ihc_posts(stg1: str, stg2: str, stg3: str, mtimes: tuple[float, ...]) -> pd.DataFrame:
    """IHC posts without explicit hate, with implicit class and most frequent target."""
    posts = pd.read_csv(stg1, sep="\t")
    posts = posts[posts["class"] != "explicit_hate"].reset_index(drop=True)
    classes = pd.read_csv(stg2, sep="\t").drop_duplicates("post").set_index("post")
    targets = pd.read_csv(stg3, sep="\t").groupby("post", sort=False)["target"]
    top_target = targets.agg(lambda s: most_common_value(s.tolist()))
    category = posts["post"].map(classes["implicit_class"])
    category = category.where(posts["class"] != "not_hate", "not_hate")
    return pd.DataFrame(
        {
            "text": posts["post"],
            "label": (posts["class"] == "implicit_hate").astype(np.int64),
            "category": category,
            "target": posts["post"].map(top_target),
        }
    )


def _load_ihc_hateprototypes(root: Path, split: str, seed: int) -> LabeledTexts:
    """IHC, HatePrototypes protocol: implicit_hate -> 1, not_hate -> 0, explicit_hate dropped.

    Seeded 70/15/15 split of the 20,391 remaining posts (14,273 / 3,059 / 3,059).
    ``category`` is the stage-2 implicit class (``not_hate`` for non-hate posts, ``None`` for
    implicit posts without a stage-2 annotation); ``target`` the most frequent stage-3 target.
    """
    files = [require_file(root, f) for f in (_IHC_STG1, _IHC_STG2, _IHC_STG3)]
    posts = _ihc_posts(*map(str, files), tuple(map(file_mtime, files)))
    indices = seeded_split(len(posts), seed, train=0.7, test=0.15)[split]
    notes = {
        "source_files": list(map(str, files)),
        "seed": seed,
        "posts_after_dropping_explicit": len(posts),
    }
    return labeled_frame(select_rows(posts, indices), "ihc", "hateprototypes", split, notes)


# --------------------------------------------------------------------------- OLID (HatePrototypes)

_OLID_TRAIN = "olid/olid-training-v1.0.tsv"
_OLID_TEST = "olid/testset-levela.tsv"
_OLID_TEST_LABELS = "olid/labels-levela.csv"
_OLID_LABELS = {"OFF": 1, "NOT": 0}


def _olid_frame(texts: pd.Series, labels: pd.Series, category: pd.Series) -> pd.DataFrame:
    """Map OLID's OFF/NOT labels to 1/0 (any other value is an error)."""
    unknown = sorted(set(labels) - set(_OLID_LABELS))
    if unknown:
        raise DataError(f"OLID: unexpected subtask A labels {unknown}; expected OFF or NOT")
    return pd.DataFrame(
        {
            "text": texts.to_numpy(),
            "label": labels.map(_OLID_LABELS).to_numpy(dtype=np.int64),
            "category": category.to_numpy(),
            "target": [None] * len(texts),
        }
    )


def _load_olid_train_dev(root: Path, split: str, seed: int) -> LabeledTexts:
    """OLID train/dev: a seeded 70/30 split of the official training file (9,268 / 3,972).

    ``category`` joins subtask B and C (``TIN/IND``, ``UNT``...) where annotated.
    """
    path = require_file(root, _OLID_TRAIN)
    raw = pd.read_csv(path, sep="\t")
    level_b, level_c = raw["subtask_b"], raw["subtask_c"]
    category = level_b.where(level_c.isna(), level_b + "/" + level_c)
    frame = _olid_frame(raw["tweet"], raw["subtask_a"], category)
    indices = seeded_split(len(frame), seed, train=0.7, test=0.0)[split]
    notes = {"source_files": [str(path)], "seed": seed}
    return labeled_frame(select_rows(frame, indices), "olid", "hateprototypes", split, notes)


def _load_olid_test(root: Path) -> LabeledTexts:
    """OLID test: the official level-A test set joined with its labels by id (860 tweets)."""
    text_path, label_path = require_file(root, _OLID_TEST), require_file(root, _OLID_TEST_LABELS)
    tweets = pd.read_csv(text_path, sep="\t")
    labels = pd.read_csv(label_path, header=None, names=["id", "label"])
    joined = tweets.merge(labels, on="id", how="left", validate="one_to_one")
    if joined["label"].isna().any():
        missing = joined.loc[joined["label"].isna(), "id"].tolist()[:5]
        raise DataError(f"{label_path}: no label for test ids {missing}")
    frame = _olid_frame(joined["tweet"], joined["label"], pd.Series([None] * len(joined)))
    notes = {"source_files": [str(text_path), str(label_path)]}
    return labeled_frame(frame, "olid", "hateprototypes", "test", notes)


def _load_olid_hateprototypes(root: Path, split: str, seed: int) -> LabeledTexts:
    """OLID, HatePrototypes protocol: OFF -> 1, NOT -> 0."""
    return _load_olid_test(root) if split == "test" else _load_olid_train_dev(root, split, seed)


# --------------------------------------------------------------------------- HateXplain

_HATEXPLAIN_FILES = {
    "train": "hatexplain/training_data.csv",
    "dev": "hatexplain/hatexplain_validation.json",
    "test": "hatexplain/hatexplain_test.json",
}


def hatexplain_text(tokens: list[str]) -> str:
    """Join HateXplain ``post_tokens`` exactly as its ``training_data.csv`` was made.

    Example:
        >>> hatexplain_text(["hello", "there", ",", "friend", "."])
        'hello there, friend.'
    """
    return " ".join(tokens).replace(" .", ".").replace(" ,", ",")


def _hatexplain_row(text: str, majority: int, target: object | None) -> dict[str, object]:
    """One HateXplain post: hatespeech/offensive -> 1, normal -> 0."""
    if majority not in (0, 1, 2):
        raise DataError(f"HateXplain: majority label {majority!r} is not 0, 1 or 2")
    category = HATEXPLAIN_CLASSES[majority]
    return {
        "text": text,
        "label": int(category != "normal"),
        "category": category,
        "target": target,
    }


def _first_target(targets: object) -> str | None:
    """First listed target of a ``training_data.csv`` ``targets`` cell, ignoring ``None``."""
    if not isinstance(targets, str):
        return None
    names = [t.strip() for t in targets.split(",") if t.strip() not in ("", "None")]
    return names[0] if names else None


def _hatexplain_train(path: Path) -> tuple[pd.DataFrame, int]:
    """Rows of ``training_data.csv``; ``majority_label`` uses the HF encoding (0 = hatespeech)."""
    raw = pd.read_csv(path, keep_default_na=False, na_values=[""])
    rows = [
        _hatexplain_row(text, int(majority), _first_target(targets))
        for text, majority, targets in zip(
            raw["text"], raw["majority_label"], raw["targets"], strict=True
        )
    ]
    return pd.DataFrame(rows), 0


def _hatexplain_json(path: Path) -> tuple[pd.DataFrame, int]:
    """Rows of an HF-exported JSON-lines split; posts without a 2-of-3 majority are dropped."""
    rows, dropped = [], 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            post = json.loads(line)
            (majority, votes), *_ = Counter(post["annotators"]["label"]).most_common(1)
            if votes < 2:
                dropped += 1
                continue
            targets = [t for group in post["annotators"]["target"] for t in group]
            target = most_common_value([t for t in targets if t != "None"])
            rows.append(_hatexplain_row(hatexplain_text(post["post_tokens"]), majority, target))
    return pd.DataFrame(rows), dropped


@functools.lru_cache(maxsize=8)
def _hatexplain_split(path: str, split: str, mtime: float) -> tuple[pd.DataFrame, int]:
    reader = _hatexplain_train if split == "train" else _hatexplain_json
    return reader(Path(path))


def _load_hatexplain_hateprototypes(root: Path, split: str, seed: int) -> LabeledTexts:
    """HateXplain, official split (15,383 / 1,922 / 1,924): hatespeech or offensive -> 1.

    ``category`` is the 3-way majority (hatespeech/offensive/normal); ``target`` the most
    common annotator target other than ``None`` (train: the first one listed, since
    ``training_data.csv`` stores the targets as an unordered set).
    """
    path = require_file(root, _HATEXPLAIN_FILES[split])
    frame, dropped = _hatexplain_split(str(path), split, file_mtime(path))
    notes = {"source_files": [str(path)], "dropped_no_majority": dropped}
    return labeled_frame(frame, "hatexplain", "hateprototypes", split, notes)


# --------------------------------------------------------------------------- Ocampo et al. files


def _ocampo_path(root: Path, name: str, split: str) -> Path:
    return require_file(root, f"{name}/ocampo2023/{name}_{split}.parquet.gzip")


def _standard_columns(raw: pd.DataFrame) -> pd.DataFrame:
    """Rename ``sanitized_label`` (SBIC train) to ``sanitized_target``."""
    return raw.rename(columns={"sanitized_label": "sanitized_target"})


def _group_mode(keys: np.ndarray, values: pd.Series) -> pd.Series:
    """Most common non-missing value per group key (ties: first seen), indexed by key."""
    frame = pd.DataFrame({"key": keys, "value": values.to_numpy(), "pos": np.arange(len(keys))})
    frame = frame.dropna(subset=["value"])
    counts = frame.groupby(["key", "value"], sort=False).agg(n=("pos", "size"), pos=("pos", "min"))
    best = counts.reset_index().sort_values(["key", "n", "pos"], ascending=[True, False, True])
    return best.drop_duplicates("key").set_index("key")["value"]


@functools.lru_cache(maxsize=8)
def _sbic_posts(path: str, mtime: float) -> tuple[pd.DataFrame, dict[str, int]]:
    """Aggregate SBIC annotation rows to one row per post (first-appearance order).

    label = 1 when the mean of the row labels is >= 0.5, so a tie (half the annotators say
    offensive) counts as offensive, as in the standard ``offensiveYN >= 0.5`` rule.
    """
    raw = _standard_columns(pd.read_parquet(path))
    keys, uniques = pd.factorize(raw["text"], sort=False)
    mean = pd.Series(raw["label"].to_numpy(dtype=float)).groupby(keys).mean()
    label = (mean >= 0.5).astype(np.int64)
    agrees = raw["label"].to_numpy() == label.to_numpy()[keys]
    category = _group_mode(keys[agrees], raw["implicit_layer"][agrees])
    target = _group_mode(keys, raw["sanitized_target"])
    index = np.arange(len(uniques))
    posts = pd.DataFrame(
        {
            "text": np.asarray(uniques, dtype=object),
            "label": label.reindex(index).to_numpy(),
            "category": category.reindex(index).to_numpy(dtype=object),
            "target": target.reindex(index).to_numpy(dtype=object),
        }
    )
    counts = {
        "annotation_rows": len(raw),
        "mixed_label_posts": int(((mean > 0) & (mean < 1)).sum()),
        "tied_posts_labelled_hate": int((mean == 0.5).sum()),
    }
    return posts, counts


def _load_sbic(root: Path, split: str, protocol: str) -> LabeledTexts:
    """SBIC (Ocampo et al. files), one row per post: 35,423 / 4,666 / 4,691 posts.

    Label = 1 if at least half of the post's annotation rows are labelled 1 (ties -> 1).
    ``category`` is the most common ``implicit_layer`` among rows that agree with the post
    label, ``target`` the most common sanitized target.
    """
    path = _ocampo_path(root, "sbic", split)
    posts, counts = _sbic_posts(str(path), file_mtime(path))
    notes: dict[str, object] = {"source_files": [str(path)], **counts}
    return labeled_frame(posts, "sbic", protocol, split, notes)


@functools.lru_cache(maxsize=16)
def _ocampo_frame(path: str, mtime: float) -> tuple[pd.DataFrame, int]:
    """Read one Ocampo split; rows without a label are dropped and counted."""
    raw = _standard_columns(pd.read_parquet(path))
    unlabelled = raw["label"].isna()
    kept = raw.loc[~unlabelled].reset_index(drop=True)
    target = kept["sanitized_target"].where(kept["sanitized_target"].notna(), kept["target"])
    frame = pd.DataFrame(
        {
            "text": kept["text"],
            "label": kept["label"].astype(np.int64),
            "category": kept["implicit_layer"],
            "target": target,
        }
    )
    return frame, int(unlabelled.sum())


def _ocampo_loader(name: str) -> Loader:
    """Loader for ``name`` from the Ocampo et al. (2023) parquet splits, labels as given."""

    def load(root: Path, split: str, seed: int) -> LabeledTexts:
        path = _ocampo_path(root, name, split)
        frame, dropped = _ocampo_frame(str(path), file_mtime(path))
        notes = {"source_files": [str(path)], "dropped_unlabelled": dropped}
        return labeled_frame(frame, name, "ocampo2023", split, notes)

    load.__doc__ = f"{name}, ocampo2023 protocol: label column as is, NaN labels dropped."
    return load


def _load_sbic_hateprototypes(root: Path, split: str, seed: int) -> LabeledTexts:
    """SBIC under the hateprototypes protocol (the Ocampo et al. files, one row per post)."""
    return _load_sbic(root, split, "hateprototypes")


def _load_sbic_ocampo(root: Path, split: str, seed: int) -> LabeledTexts:
    """SBIC under the ocampo2023 protocol (one row per post)."""
    return _load_sbic(root, split, "ocampo2023")


#: The reader of each (protocol, dataset).
LOADERS: dict[tuple[str, str], Loader] = {
    ("hateprototypes", "ihc"): _load_ihc_hateprototypes,
    ("hateprototypes", "olid"): _load_olid_hateprototypes,
    ("hateprototypes", "hatexplain"): _load_hatexplain_hateprototypes,
    ("hateprototypes", "sbic"): _load_sbic_hateprototypes,
    ("ocampo2023", "sbic"): _load_sbic_ocampo,
    ("ocampo2023", "ihc"): _ocampo_loader("ihc"),
    ("ocampo2023", "dynahate"): _ocampo_loader("dynahate"),
    ("ocampo2023", "toxigen"): _ocampo_loader("toxigen"),
}
