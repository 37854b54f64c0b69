"""Labelled posts in languages other than English: GermEval 2018, MLMA and CONAN fr/it.

============= ================================================================================
``germeval``  German tweets (GermEval 2018, official train/test; dev = 10% of the training
              file by the hash of the normalised text). Hate (``labels``): the fine label
              ``ABUSE`` -> 1 (identity-based abuse: "the target is ascribed a social identity
              that is judged negatively"); ``INSULT``, ``PROFANITY`` and ``OTHER`` -> 0, as
              Davidson's offensive-but-not-hate tweets are. ``category`` keeps the fine label
              and ``coarse`` the shared task's OFFENSE/OTHER (the TOXICITY proxy, see
              :mod:`hateproto.data.attributes`).
``mlma_fr``   French, Arabic and English tweets of MLMA (Ousidhoum et al. 2019), no official
``mlma_ar``   split: 80/10/10 by the hash of the normalised text. Every MLMA tweet was
``mlma_en``   collected for hostility; ``category`` keeps the annotators' ``sentiment``
              (hostility types joined by ``_``). Hate: a ``hateful`` vote, or hostility
              (anything but a single ``normal``) aimed at a protected group (``group`` not
              ``individual``, ``other`` or ``left_wing_people``) -> 1; otherwise 0 (hostility at
              individuals or political camps is offence, not hate).
``conan_fr``  CONAN's French and Italian pairs: hate speech 1, NGO counter-speech 0, split by
``conan_it``  connected components as the English CONAN (:mod:`.contrast_sources`).
============= ================================================================================

:data:`SOURCE_LANGUAGES` says which language each named source is in (English for the rest);
:func:`source_language` also knows the generated pairs ``contrast_pairs_de``/``_fr``/``_es``
and their frame twins ``contrast_twins_de``/``_fr``/``_es``
(:mod:`hateproto.data.contrast_pairs_languages`).

Example:
    >>> SOURCE_LANGUAGES["germeval"], SOURCE_LANGUAGES["mlma_ar"]
    ('de', 'ar')
    >>> load_multilingual_source("germeval", "test").name  # doctest: +SKIP
    'germeval'
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from hateproto.data.benchmarks import canonical_split, data_root
from hateproto.data.contrast_pairs_languages import CONTRAST_PAIR_SOURCES, CONTRAST_TWIN_SOURCES
from hateproto.data.contrast_sources import load_conan
from hateproto.data.groups import canonical_group
from hateproto.data.keys import hash_fraction, normalise_text, split_of
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError

SOURCE_LANGUAGES: dict[str, str] = {
    "germeval": "de",
    "mlma_fr": "fr",
    "mlma_ar": "ar",
    "mlma_en": "en",
    "conan_fr": "fr",
    "conan_it": "it",
}
MULTILINGUAL_SOURCES: tuple[str, ...] = tuple(SOURCE_LANGUAGES)
"""Source names :func:`load_multilingual_source` knows."""

_GERMEVAL_FILES = {"train": "germeval2018.training.txt", "test": "germeval2018.test.txt"}
_MLMA_NOT_PROTECTED = {"individual", "other", "left_wing_people"}
_MLMA_GROUPS = {
    "african_descent": "black",
    "arabs": "muslim",
    "muslims": "muslim",
    "jews": "jewish",
    "women": "women",
    "gay": "lgbtq",
    "special_needs": "disabled",
    "immigrants": "immigrant",
    "refugees": "immigrant",
    "asians": "asian",
    "hispanics": "latino",
}


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"{path} not found (see ../shared/datasets/README.md for the release)")
    return path


def _germeval_frame(split: str, data_dir: str | Path | None) -> pd.DataFrame:
    """The rows of GermEval's file for ``split`` (train and dev share the training file)."""
    name = _GERMEVAL_FILES["test" if split == "test" else "train"]
    path = _require(data_root(data_dir) / "germeval2018" / name)
    frame = pd.read_csv(
        path,
        sep="\t",
        header=None,
        names=["text", "coarse", "fine"],
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        dtype=str,
    )
    if split == "test":
        return frame
    draws = frame["text"].map(lambda t: hash_fraction("germeval:" + normalise_text(t)))
    return frame[(draws >= 0.9) == (split == "dev")]


def load_germeval(split: str = "train", data_dir: str | Path | None = None) -> LabeledTexts:
    """One split of GermEval 2018 (German): ``ABUSE`` -> 1, the other fine labels -> 0.
    Metadata: ``category`` (fine label), ``coarse`` (OFFENSE/OTHER), ``target`` (none)."""
    split = canonical_split(split)
    frame = _germeval_frame(split, data_dir).reset_index(drop=True)
    return LabeledTexts(
        texts=frame["text"].tolist(),
        labels=(frame["fine"] == "ABUSE").to_numpy(np.int64),
        name="germeval",
        protocol="general",
        split=split,
        metadata=pd.DataFrame(
            {"category": frame["fine"], "coarse": frame["coarse"], "target": None}
        ),
        notes={"language": "de", "split": "official test; dev = 10% of train by hash"},
    )


def mlma_is_hate(sentiment: str, group: str) -> bool:
    """MLMA's hate rule (see the module docstring).

    Example:
        >>> mlma_is_hate("offensive", "women"), mlma_is_hate("offensive", "individual")
        (True, False)
        >>> mlma_is_hate("hateful_normal", "other"), mlma_is_hate("normal", "jews")
        (True, False)
    """
    kinds = set(sentiment.split("_"))
    hostile = kinds != {"normal"}
    return "hateful" in kinds or (hostile and group not in _MLMA_NOT_PROTECTED)


def load_mlma(
    language: str, split: str = "train", data_dir: str | Path | None = None
) -> LabeledTexts:
    """One split of MLMA in ``language`` (``fr``, ``ar`` or ``en``). Metadata: ``category``
    (sentiment), ``target`` (canonical group or ``None``), ``mlma_group``, ``directness``."""
    if language not in ("fr", "ar", "en"):
        raise DataError(f"MLMA: unknown language {language!r}; known: fr, ar, en")
    split = canonical_split(split)
    path = _require(data_root(data_dir) / "mlma" / "hate_speech_mlma" / f"{language}_dataset.csv")
    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    frame = frame[frame["tweet"].str.strip().astype(bool)]
    keys = frame["tweet"].map(lambda t: f"mlma:{language}:{normalise_text(t)}")
    frame = frame[keys.map(lambda k: split_of(hash_fraction(k))) == split]
    frame = frame.reset_index(drop=True)
    hate = [mlma_is_hate(s, g) for s, g in zip(frame["sentiment"], frame["group"], strict=True)]
    return LabeledTexts(
        texts=frame["tweet"].tolist(),
        labels=np.array(hate, dtype=np.int64),
        name=f"mlma_{language}",
        protocol="general",
        split=split,
        metadata=pd.DataFrame(
            {
                "category": frame["sentiment"],
                "target": [_MLMA_GROUPS.get(g, canonical_group(g)) for g in frame["group"]],
                "mlma_group": frame["group"],
                "directness": frame["directness"],
            }
        ),
        notes={"language": language, "split": "80/10/10 by hash of the normalised text"},
    )


def load_multilingual_source(
    name: str, split: str = "train", data_dir: str | Path | None = None
) -> LabeledTexts:
    """A split of one of :data:`MULTILINGUAL_SOURCES` by name."""
    if name == "germeval":
        return load_germeval(split, data_dir)
    if name.startswith("mlma_") and name in SOURCE_LANGUAGES:
        return load_mlma(SOURCE_LANGUAGES[name], split, data_dir)
    if name in ("conan_fr", "conan_it"):
        return load_conan(split, data_dir, language=SOURCE_LANGUAGES[name])
    raise DataError(f"unknown source {name!r}; known: {', '.join(MULTILINGUAL_SOURCES)}")


def source_language(name: str) -> str:
    """The language of a named source (``en`` for every source not listed here or among the
    generated non-English pairs)."""
    generated = CONTRAST_PAIR_SOURCES | CONTRAST_TWIN_SOURCES
    return SOURCE_LANGUAGES.get(name) or generated.get(name, "en")
