"""Data that teaches the contrast: counter-speech (CONAN family) and Davidson et al.'s tweets.

A weak detector flags posts that *talk about* hate -- counter-speech that quotes or rebuts it,
reports of it -- and posts that swear without attacking anyone. Two releases in the data
directory hold such posts with labels:

============== ===========================================================================
``conan``      English hate speech (1) and the counter-speech NGO operators wrote to answer
               it (0): CONAN (EN pairs), Multitarget-CONAN, DIALOCONAN (turns typed HS/CN)
``conan_counter`` the counter-speech only (0)
``conan_hate`` the hate speech only (1)
``davidson``   Davidson et al. (2017): ``hate speech`` (1) vs ``offensive language`` and
               ``neither`` (0): offensive but untargeted is not an identity attack
============== ===========================================================================

Neither release has an official split. **Splits are leak-free by construction**: CONAN
texts are grouped into connected components (a hate speech with its paraphrases and the
counter-speech written for it; every other row with the same normalised text), and whole
components go to train, dev or test (80/10/10, by the SHA-256 of the component key, so the
split does not depend on row order). DIALOCONAN dialogues are recombinations of recurring
turns, so its turns are grouped by text, not by dialogue (grouping whole dialogues joins
most of the corpus into one component).
Davidson is split 80/10/10 by the hash of the normalised text (copies stay together).

French and Italian CONAN pairs are read with ``language="fr"`` / ``"it"`` (their English
translations, ids ending ``T1``, ``T2``..., are left out).

Example:
    >>> test = load_contrast_source("conan_counter", "test")  # doctest: +SKIP
    >>> set(test.labels.tolist())  # doctest: +SKIP
    {0}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hateproto.data.benchmarks import canonical_split, data_root
from hateproto.data.keys import hash_fraction, split_of
from hateproto.data.keys import normalise_text as _key
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError

#: CONAN source names and the roles each keeps.
CONAN_ROLES: dict[str, tuple[str, ...]] = {
    "conan": ("hate", "counter"),
    "conan_counter": ("counter",),
    "conan_hate": ("hate",),
}
CONAN_SOURCES: tuple[str, ...] = tuple(CONAN_ROLES)
CONTRAST_SOURCES: tuple[str, ...] = (*CONAN_SOURCES, "davidson")
"""Source names :func:`load_contrast_source` knows."""

_CONAN_FILES = {
    "conan": "CONAN/CONAN.csv",
    "multitarget": "Multitarget-CONAN/Multitarget-CONAN.csv",
    "dialoconan": "DIALOCONAN/DIALOCONAN.csv",
}
_LANGUAGE_PREFIX = {"en": "EN", "fr": "FR", "it": "IT"}
_TARGETS = {
    "islamophobia": "muslim",
    "muslims": "muslim",
    "jews": "jewish",
    "lgbt+": "lgbtq",
    "lgbt": "lgbtq",
    "migrants": "immigrant",
    "women": "women",
    "disabled": "disabled",
    "poc": "black",
}


def _split_of(key: str) -> str:
    return split_of(hash_fraction(key))


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path} not found (see ../shared/datasets/README.md for the release)")
    return pd.read_csv(path, keep_default_na=False)


def conan_pairs(data_dir: str | Path | None = None, language: str = "en") -> pd.DataFrame:
    """Every CONAN-family post of ``language`` as rows ``text, role, target, corpus, link``:
    ``role`` is ``hate`` or ``counter``; rows sharing ``link`` answer each other."""
    if language not in _LANGUAGE_PREFIX:
        raise DataError(f"CONAN: unknown language {language!r}; known: en, fr, it")
    root = data_root(data_dir) / "conan"
    rows: list[tuple[str, str, str | None, str, str]] = []
    conan = _read_csv(root / _CONAN_FILES["conan"])
    conan = conan[conan["cn_id"].str.startswith(_LANGUAGE_PREFIX[language])]
    # French and Italian pairs come with English translations (ids ending T1, T2...)
    conan = conan[~conan["cn_id"].str.contains(r"T\d+$", regex=True)]
    for record in conan.itertuples(index=False):
        target = _TARGETS.get(str(record.hsType).lower(), "muslim")  # CONAN is islamophobia
        link = f"conan:{record.cn_id[:16]}"
        rows.append((record.hateSpeech, "hate", target, "conan", link))
        rows.append((record.counterSpeech, "counter", target, "conan", link))
    if language == "en":
        multi = _read_csv(root / _CONAN_FILES["multitarget"])
        for record in multi.itertuples(index=False):
            target = _TARGETS.get(str(record.TARGET).lower())
            link = f"multitarget:{record.INDEX}"  # hate and its answer stay together
            rows.append((record.HATE_SPEECH, "hate", target, "multitarget", link))
            rows.append((record.COUNTER_NARRATIVE, "counter", target, "multitarget", link))
        dialogues = _read_csv(root / _CONAN_FILES["dialoconan"])
        for record in dialogues.itertuples(index=False):
            role = "hate" if record.type == "HS" else "counter"
            target = _TARGETS.get(str(record.TARGET).lower())
            link = f"dialoconan:{_key(record.text)}"  # turns recur across dialogues
            rows.append((record.text, role, target, "dialoconan", link))
    frame = pd.DataFrame(rows, columns=["text", "role", "target", "corpus", "link"])
    frame = frame[frame["text"].str.strip().astype(bool)].reset_index(drop=True)
    frame["component"] = _components(frame)
    return frame


def _components(frame: pd.DataFrame) -> list[str]:
    """For every row, a key of its connected component: rows are joined when they share a
    ``link`` or the same normalised text (union-find)."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for text, link in zip(frame["text"], frame["link"], strict=True):
        a, b = find("t:" + _key(text)), find("l:" + link)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [find("l:" + link) for link in frame["link"]]


def load_conan(
    split: str = "train",
    data_dir: str | Path | None = None,
    roles: tuple[str, ...] = ("hate", "counter"),
    language: str = "en",
) -> LabeledTexts:
    """One leak-free split of the CONAN family: hate speech -> 1, counter-speech -> 0.

    Metadata: ``role``, ``target``, ``corpus``, ``category`` (= role). Texts repeated inside
    the split are kept once (counter-speech is often reused for paraphrased hate).
    """
    split = canonical_split(split)
    frame = conan_pairs(data_dir, language)
    frame = frame[frame["component"].map(_split_of) == split]
    frame = frame[frame["role"].isin(roles)]
    frame = frame.drop_duplicates("text").reset_index(drop=True)
    name = "conan" if roles == ("hate", "counter") else f"conan_{roles[0]}"
    return LabeledTexts(
        texts=frame["text"].tolist(),
        labels=(frame["role"] == "hate").to_numpy(np.int64),
        name=name if language == "en" else f"{name}_{language}",
        protocol="general",
        split=split,
        metadata=frame.assign(category=frame["role"])[["role", "target", "corpus", "category"]],
        notes={"language": language, "split": "connected components, 80/10/10 by hash"},
    )


def load_davidson(split: str = "train", data_dir: str | Path | None = None) -> LabeledTexts:
    """One split of Davidson et al. (2017): hate speech -> 1; offensive language and neither
    -> 0 (untargeted offence is not an identity attack). Metadata ``category``."""
    split = canonical_split(split)
    frame = _read_csv(data_root(data_dir) / "davidson" / "labeled_data.csv")
    names = {0: "hate", 1: "offensive", 2: "neither"}
    frame = frame.assign(category=frame["class"].map(names))
    frame = frame[frame["tweet"].map(lambda t: _split_of("davidson:" + _key(t))) == split]
    frame = frame.reset_index(drop=True)
    return LabeledTexts(
        texts=frame["tweet"].tolist(),
        labels=(frame["class"] == 0).to_numpy(np.int64),
        name="davidson",
        protocol="general",
        split=split,
        metadata=frame[["category"]].assign(target=None),
        notes={"split": "80/10/10 by hash of the normalised text"},
    )


def load_contrast_source(
    name: str, split: str = "train", data_dir: str | Path | None = None
) -> LabeledTexts:
    """A split of one of :data:`CONTRAST_SOURCES` by name."""
    if name == "davidson":
        return load_davidson(split, data_dir)
    if name not in CONAN_ROLES:
        raise DataError(f"unknown source {name!r}; known: {', '.join(CONTRAST_SOURCES)}")
    return load_conan(split, data_dir, CONAN_ROLES[name])
