"""Labelled data for Perspective's attributes, with Perspective's definitions next to it.

Perspective (``developers.perspectiveapi.com``, "Attributes & Languages") answers six
production attributes. No dataset here was annotated with those definitions, so each attribute
is learnt from the closest labels the releases in ``../shared/datasets`` ship: a **proxy**,
named as such in :data:`ATTRIBUTE_DATA` and in ``docs/perspective.md``.
``IDENTITY_ATTACK`` is the detector's own hate probability (the ``general`` protocol,
:mod:`hateproto.data.general`), so it has no entry here.

Every source keeps its own split (official where the release has one, else the split our
loader already uses), so an attribute's test posts never appear in any attribute's training
posts from the same source.

Example:
    >>> sorted(ATTRIBUTE_DATA)
    ['INSULT', 'PROFANITY', 'SEVERE_TOXICITY', 'THREAT', 'TOXICITY']
    >>> load_attribute("INSULT", "test").name  # doctest: +SKIP
    'INSULT'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hateproto.data.benchmarks import canonical_split, load_benchmark
from hateproto.data.contrast_pairs import generate_contrast_pairs
from hateproto.data.contrast_sources import load_conan, load_davidson
from hateproto.data.general import load_general
from hateproto.data.multilingual_sources import MULTILINGUAL_SOURCES, load_multilingual_source
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError

#: Perspective's own definitions (developers.perspectiveapi.com, "Attributes & Languages").
DEFINITIONS: dict[str, str] = {
    "TOXICITY": "A rude, disrespectful, or unreasonable comment that is likely to make people "
    "leave a discussion.",
    "SEVERE_TOXICITY": "A very hateful, aggressive, disrespectful comment or otherwise very "
    "likely to make a user leave a discussion or give up on sharing their perspective. This "
    "attribute is much less sensitive to more mild forms of toxicity, such as comments that "
    "include positive uses of curse words.",
    "IDENTITY_ATTACK": "Negative or hateful comments targeting someone because of their identity.",
    "INSULT": "Insulting, inflammatory, or negative comment towards a person or a group of people.",
    "PROFANITY": "Swear words, curse words, or other obscene or profane language.",
    "THREAT": "Describes an intention to inflict pain, injury, or violence against an "
    "individual or group.",
}

Relabel = Callable[[LabeledTexts], np.ndarray]
"""Per-row label of one source for one attribute: 1, 0, or -1 (row left out)."""


@dataclass(frozen=True)
class SourceLabels:
    """One source of an attribute: how to load it and how its annotations map to 0/1/-1.

    Attributes:
        source: the loader's name (``olid``, ``davidson``...).
        rule: the mapping, in words (what the proxy is).
        relabel: the mapping, in code.
        repeat: copies of each training row (the generated pairs are few; x4 as in the
            general recipe's mixture).
        language: the language of the source's posts (ISO 639-1); a detector uses the
            sources of the languages it is built for (:func:`load_attribute`).
    """

    source: str
    rule: str
    relabel: Relabel
    repeat: int = 1
    language: str = "en"


def _category(data: LabeledTexts) -> np.ndarray:
    return data.metadata["category"].astype(object).to_numpy()


def _where(condition: np.ndarray, dropped: np.ndarray | None = None) -> np.ndarray:
    labels = np.asarray(condition, dtype=np.int64)
    if dropped is not None:
        labels[np.asarray(dropped, dtype=bool)] = -1
    return labels


def _olid_b(data: LabeledTexts) -> np.ndarray:
    """OLID level B per row (``TIN``, ``UNT`` or ``NOT`` for posts that are not offensive)."""
    return np.array(
        [str(c).split("/")[0] if isinstance(c, str) else "NOT" for c in _category(data)]
    )


def _hate_label(data: LabeledTexts) -> np.ndarray:
    return np.asarray(data.labels, dtype=np.int64)


def _explicit_only(data: LabeledTexts) -> np.ndarray:
    layer = _category(data)
    return _where(layer == "Explicit HS", dropped=layer == "Implicit HS")


def _non_hate_only(data: LabeledTexts) -> np.ndarray:
    return np.where(data.labels == 0, 0, -1).astype(np.int64)


def _ihc_threat(data: LabeledTexts) -> np.ndarray:
    return _where(_category(data) == "threatening")


def _by_kind(ones: set[str], zeros: set[str]) -> Relabel:
    """Our generated minimal pairs (:mod:`hateproto.data.contrast_pairs`) by template kind:
    ``ones`` -> 1, ``zeros`` -> 0, any other kind left out."""

    def relabel(data: LabeledTexts) -> np.ndarray:
        kind = _category(data)
        return np.where(np.isin(kind, list(ones)), 1, np.where(np.isin(kind, list(zeros)), 0, -1))

    return relabel


def _pair_threat(data: LabeledTexts) -> np.ndarray:
    """Generated hate whose template wishes harm (``{harm}``) -> 1; positive, neutral,
    negated and counter-speech posts -> 0; other hate left out."""
    from hateproto.data.contrast_pairs import TEMPLATES

    harm = {
        f"{kind}.{index:02d}"
        for kind, (_, templates) in TEMPLATES.items()
        for index, template in enumerate(templates)
        if "{harm}" in template
    }
    template = data.metadata["template"].astype(str).to_numpy()
    calm = _by_kind(set(), {"positive", "neutral", "negated", "counter_reference"})(data)
    return np.where(np.isin(template, list(harm)), 1, calm)


_NOT_ABUSIVE = {"negated", "counter_reference", "positive", "neutral"}


def _by_category(ones: set[str], zeros: set[str]) -> Relabel:
    """A source's ``category`` (e.g. GermEval's fine label): ``ones`` -> 1, ``zeros`` -> 0,
    the others left out."""

    def relabel(data: LabeledTexts) -> np.ndarray:
        category = _category(data)
        in_ones, in_zeros = np.isin(category, list(ones)), np.isin(category, list(zeros))
        return np.where(in_ones, 1, np.where(in_zeros, 0, -1)).astype(np.int64)

    return relabel


def _mlma_hostile(data: LabeledTexts) -> np.ndarray:
    """MLMA's authors' reading: any hostility type -> 1, a single ``normal`` -> 0."""
    return _where(_category(data) != "normal")


_NON_ENGLISH_TOXICITY = (
    SourceLabels(
        "germeval",
        "German: GermEval 2018 coarse OFFENSE (abuse, insult, profanity) -> 1, OTHER -> 0",
        _by_category({"ABUSE", "INSULT", "PROFANITY"}, {"OTHER"}),
        language="de",
    ),
    *(
        SourceLabels(
            f"mlma_{code}",
            f"{name}: MLMA any hostility type -> 1, a single 'normal' -> 0",
            _mlma_hostile,
            language=code,
        )
        for code, name in (("fr", "French"), ("ar", "Arabic"))
    ),
)

_CALM_GROUP_POSTS = (
    SourceLabels(
        "toxigen", "benign statements about groups -> 0 (hateful ones left out)", _non_hate_only
    ),
    SourceLabels("conan", "counter-speech -> 0 (hate speech left out)", _non_hate_only),
)
"""Posts that name a group without attacking it, as negatives of INSULT and THREAT."""


ATTRIBUTE_DATA: dict[str, tuple[SourceLabels, ...]] = {
    "TOXICITY": (
        SourceLabels(
            "olid",
            "offensive (subtask A OFF) -> 1, NOT -> 0",
            lambda d: _where(_olid_b(d) != "NOT"),
        ),
        SourceLabels(
            "davidson",
            "hate speech or offensive language -> 1, neither -> 0",
            lambda d: _where(_category(d) != "neither"),
        ),
        SourceLabels(
            "hatexplain",
            "majority hatespeech or offensive -> 1, normal -> 0",
            lambda d: _where(_category(d) != "normal"),
        ),
        SourceLabels("toxigen", "hateful -> 1, benign statements about groups -> 0", _hate_label),
        SourceLabels("dynahate", "hate -> 1, not hate (many contrastive posts) -> 0", _hate_label),
        SourceLabels("conan", "hate speech -> 1, counter-speech -> 0", _hate_label),
        SourceLabels(
            "contrast_pairs",
            "our generated pairs: hate, negated-positive hate and insults of non-protected "
            "targets -> 1; the same groups named neutrally, positively, in negated insults and "
            "in counter-speech -> 0; quoted hate and venting profanity left out",
            _by_kind({"hate", "hate_negated_positive", "nonprotected"}, _NOT_ABUSIVE),
            repeat=4,
        ),
        *_NON_ENGLISH_TOXICITY,
    ),
    "SEVERE_TOXICITY": (
        SourceLabels(
            "hatexplain",
            "majority hatespeech -> 1, offensive and normal -> 0",
            lambda d: _where(_category(d) == "hatespeech"),
        ),
        SourceLabels(
            "davidson",
            "hate speech -> 1, offensive language and neither -> 0",
            lambda d: _where(_category(d) == "hate"),
        ),
        SourceLabels(
            "olid",
            "not severe: every post -> 0 except targeted group offence (OFF/TIN/GRP, "
            "left out), so profanity and personal insults count as mild",
            lambda d: np.where(d.labels == 1, -1, 0).astype(np.int64),
        ),
        SourceLabels(
            "ihc",
            "explicit hate -> 1, not hate -> 0, implicit hate left out",
            _explicit_only,
        ),
        SourceLabels(
            "dynahate", "explicit hate -> 1, not hate -> 0, implicit left out", _explicit_only
        ),
        SourceLabels(
            "toxigen", "explicit hate -> 1, benign -> 0, implicit left out", _explicit_only
        ),
        SourceLabels(
            "contrast_pairs",
            "our generated pairs: hate -> 1; insults of non-protected targets, venting "
            "profanity, neutral, positive, negated and counter-speech posts -> 0",
            _by_kind(
                {"hate", "hate_negated_positive"}, _NOT_ABUSIVE | {"nonprotected", "profanity"}
            ),
            repeat=4,
        ),
    ),
    "INSULT": (
        SourceLabels(
            "olid",
            "targeted offence (subtask B TIN: individual, group or other) -> 1; not offensive "
            "and untargeted profanity (UNT) -> 0",
            lambda d: _where(_olid_b(d) == "TIN"),
        ),
        *_CALM_GROUP_POSTS,
        SourceLabels(
            "contrast_pairs",
            "our generated pairs: insults of groups and of non-protected targets -> 1; "
            "neutral, positive, negated, counter-speech and venting profanity -> 0",
            _by_kind(
                {"hate", "hate_negated_positive", "nonprotected"}, _NOT_ABUSIVE | {"profanity"}
            ),
            repeat=4,
        ),
        SourceLabels(
            "germeval",
            "German: GermEval 2018 fine INSULT -> 1, OTHER and PROFANITY -> 0, ABUSE left out",
            _by_category({"INSULT"}, {"OTHER", "PROFANITY"}),
            language="de",
        ),
    ),
    "PROFANITY": (
        SourceLabels(
            "olid",
            "untargeted offence (subtask B UNT: 'non-targeted profanity and swearing') -> 1, "
            "not offensive -> 0, targeted offence left out (it may or may not swear)",
            lambda d: _where(_olid_b(d) == "UNT", dropped=_olid_b(d) == "TIN"),
        ),
        SourceLabels(
            "davidson",
            "offensive language (mostly swearing and slurs, not hate) -> 1, neither -> 0, "
            "hate speech left out",
            lambda d: _where(_category(d) == "offensive", dropped=_category(d) == "hate"),
        ),
        SourceLabels(
            "contrast_pairs",
            "our generated pairs: venting profanity -> 1; neutral, positive and negated posts -> 0",
            _by_kind({"profanity"}, {"positive", "neutral", "negated"}),
            repeat=4,
        ),
        SourceLabels(
            "germeval",
            "German: GermEval 2018 fine PROFANITY -> 1, OTHER -> 0, ABUSE and INSULT left out",
            _by_category({"PROFANITY"}, {"OTHER"}),
            language="de",
        ),
    ),
    "THREAT": (
        SourceLabels(
            "ihc_stage2",
            "stage-2 implicit class 'threatening' -> 1; every other IHC post (not hate and "
            "the other implicit classes) -> 0; explicit hate is not in this protocol",
            _ihc_threat,
        ),
        *_CALM_GROUP_POSTS,
        SourceLabels(
            "contrast_pairs",
            "our generated pairs: hate that wishes harm ({harm} templates) -> 1; neutral, "
            "positive, negated and counter-speech posts -> 0; other hate left out",
            _pair_threat,
            repeat=4,
        ),
    ),
}
"""Per attribute, its sources and their label mappings (every one a proxy)."""


def _load_source(name: str, split: str, data_dir: str | Path | None) -> LabeledTexts:
    """One split of a source with the metadata the mappings read."""
    if name == "davidson":
        return load_davidson(split, data_dir)
    if name == "conan":
        return load_conan(split, data_dir)
    if name == "olid":
        return load_general("olid", split, data_dir)  # level B/C labels in ``category``
    if name == "hatexplain":
        return load_benchmark("hatexplain", split, "hateprototypes", data_dir)
    if name == "contrast_pairs":
        return generate_contrast_pairs(split)
    if name == "ihc_stage2":  # ``category`` = the stage-2 implicit class
        return load_benchmark("ihc", split, "hateprototypes", data_dir)
    if name in MULTILINGUAL_SOURCES:
        return load_multilingual_source(name, split, data_dir)
    return load_general(name, split, data_dir)  # ocampo2023: ``category`` = implicit_layer


def load_attribute(
    attribute: str,
    split: str = "train",
    data_dir: str | Path | None = None,
    max_per_source: int | None = None,
    seed: int = 0,
    repeats: dict[str, int] | None = None,
    languages: tuple[str, ...] = ("en",),
) -> LabeledTexts:
    """One split of ``attribute``'s proxy data: every source in ``languages``, its split
    relabelled, rows a
    source leaves out dropped, texts that also occur in a later split (dev, test) dropped
    from the earlier one (some releases repeat posts across their splits), at most
    ``max_per_source`` rows per source (stratified by label); training rows repeated as
    :attr:`SourceLabels.repeat` says, or as ``repeats`` (source -> copies) overrides.
    Metadata: ``source``, ``category``, ``target``.

    Raises:
        DataError: an unknown attribute, or a source's release file missing (named).
    """
    if attribute not in ATTRIBUTE_DATA:
        raise DataError(
            f"no data for attribute {attribute!r}; known: {', '.join(sorted(ATTRIBUTE_DATA))} "
            "(IDENTITY_ATTACK is the detector's hate probability)"
        )
    split = canonical_split(split)
    held_out: set[str] = set()
    for later in _LATER_SPLITS[split]:  # test first: dev leaves out test's texts, and so on
        later_data = _relabelled(attribute, later, data_dir, None, seed, None, held_out, languages)
        held_out |= set(later_data.texts)
    return _relabelled(
        attribute, split, data_dir, max_per_source, seed, repeats, held_out, languages
    )


_LATER_SPLITS = {"train": ("test", "dev"), "dev": ("test",), "test": ()}
"""The splits whose texts each split leaves out, each loaded once, the latest first."""


def _relabelled(
    attribute: str,
    split: str,
    data_dir: str | Path | None,
    max_per_source: int | None,
    seed: int,
    repeats: dict[str, int] | None,
    held_out: set[str],
    languages: tuple[str, ...] = ("en",),
) -> LabeledTexts:
    """:func:`load_attribute` of one split, leaving out the texts ``held_out``."""
    texts: list[str] = []
    labels: list[np.ndarray] = []
    frames: list[pd.DataFrame] = []
    counts: dict[str, dict[str, int]] = {}
    for spec in ATTRIBUTE_DATA[attribute]:
        if spec.language not in languages:
            continue
        data = _load_source(spec.source, split, data_dir)
        if len(data) == 0:  # the generated pairs have no test split
            continue
        mapped = spec.relabel(data)
        keep = np.array([text not in held_out for text in data.texts], dtype=bool)
        rows = np.flatnonzero((mapped >= 0) & keep)
        rows = _stratified(rows, mapped[rows], max_per_source, seed)
        if split == "train":
            rows = np.repeat(rows, (repeats or {}).get(spec.source, spec.repeat))
        texts.extend(data.texts[i] for i in rows)
        labels.append(mapped[rows])
        meta = data.metadata.iloc[rows] if len(data.metadata) else pd.DataFrame(index=rows)
        frames.append(
            pd.DataFrame(
                {
                    "source": spec.source,
                    "category": meta.get("category", pd.Series([None] * len(rows))).to_numpy(),
                    "target": meta.get("target", pd.Series([None] * len(rows))).to_numpy(),
                }
            )
        )
        counts[spec.source] = {"1": int(mapped[rows].sum()), "0": int((mapped[rows] == 0).sum())}
    return LabeledTexts(
        texts=texts,
        labels=np.concatenate(labels) if labels else np.zeros(0, np.int64),
        name=attribute,
        protocol="perspective",
        split=split,
        metadata=pd.concat(frames, ignore_index=True),
        notes={"per_source": counts, "max_per_source": max_per_source},
    )


def _stratified(rows: np.ndarray, labels: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """At most ``n`` of ``rows``, each label in proportion (seeded), in their order."""
    if n is None or len(rows) <= n:
        return rows
    rng = np.random.default_rng(seed)
    keep = []
    for value in (0, 1):
        members = rows[labels == value]
        take = round(n * len(members) / len(rows))
        keep.append(rng.choice(members, size=min(take, len(members)), replace=False))
    return np.sort(np.concatenate(keep))


def attribute_sources(attribute: str, languages: tuple[str, ...] = ("en",)) -> list[dict[str, str]]:
    """``[{"source", "rule"}]`` of ``attribute`` in ``languages`` (for reports and
    ``detector info``)."""
    specs = [s for s in ATTRIBUTE_DATA[attribute] if s.language in languages]
    return [{"source": s.source, "rule": s.rule} for s in specs]
