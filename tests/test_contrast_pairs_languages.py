"""Native German, French and Spanish minimal pairs: labels, kinds, template splits,
determinism, filled placeholders, disjointness from the non-English audit, and loading as
named mixture sources in their languages."""

from __future__ import annotations

import re
from functools import cache

import pytest

from hateproto.audit import build_suite
from hateproto.audit.languages import SUITES
from hateproto.data import LabeledTexts
from hateproto.data.contrast_pairs import template_split
from hateproto.data.contrast_pairs_languages import (
    CONTRAST_PAIR_SOURCES,
    KINDS,
    LANGUAGES,
    ROW_KINDS,
    TWIN_KIND,
    generate_language_contrast_pairs,
    language_templates,
    language_twins,
    twin_template_id,
)
from hateproto.data.keys import normalise_text
from hateproto.data.mixture import NAMED_SOURCES, load_mixture, parse_sources
from hateproto.data.multilingual_sources import source_language
from hateproto.errors import DataError

CODES = ("de", "fr", "es")


@cache
def _pairs(language: str, split: str) -> LabeledTexts:
    return generate_language_contrast_pairs(language, split)


def test_the_three_languages_are_generated() -> None:
    assert tuple(sorted(LANGUAGES)) == tuple(sorted(CODES))
    with pytest.raises(DataError, match="no contrast pairs"):
        generate_language_contrast_pairs("it", "train")


@pytest.mark.parametrize("language", CODES)
def test_labels_kinds_and_classes(language: str) -> None:
    train, dev = _pairs(language, "train"), _pairs(language, "dev")
    assert len(train) > 2000 and len(dev) > 200
    assert len(generate_language_contrast_pairs(language, "test")) == 0
    templates = language_templates(language)
    assert tuple(templates) == KINDS
    for data in (train, dev):
        assert set(data.labels.tolist()) == {0, 1}
        assert data.notes["language"] == language
        assert {"kind", "template", "target", "group", "category"} <= set(data.metadata)
    assert set(train.metadata["kind"]) == set(ROW_KINDS) and TWIN_KIND not in KINDS
    assert set(dev.metadata["kind"]) <= set(ROW_KINDS)
    for kind, (label, _) in templates.items():
        rows = train.metadata["kind"].to_numpy() == kind
        assert rows.any() and (train.labels[rows] == label).all(), kind
    meta = train.metadata
    for kind in ("hate", "negated", "counter_quote", "positive"):
        assert meta.loc[meta["kind"] == kind, "target"].nunique() >= 10, kind
    assert meta.loc[meta["kind"].isin(["nonprotected", "profanity"]), "target"].isna().all()


@pytest.mark.parametrize("language", CODES)
def test_split_by_template_and_deterministic(language: str) -> None:
    train = generate_language_contrast_pairs(language, "train", per_template=4, seed=3)
    again = generate_language_contrast_pairs(language, "train", per_template=4, seed=3)
    dev = generate_language_contrast_pairs(language, "dev", per_template=4, seed=3)
    assert train.texts == again.texts and (train.labels == again.labels).all()
    assert not set(train.metadata["template"]) & set(dev.metadata["template"])
    assert not {normalise_text(t) for t in train.texts} & {normalise_text(t) for t in dev.texts}
    other = generate_language_contrast_pairs(language, "train", per_template=4, seed=4)
    assert other.texts != train.texts


@pytest.mark.parametrize("language", CODES)
def test_every_placeholder_is_filled(language: str) -> None:
    for split in ("train", "dev"):
        for text in _pairs(language, split).texts:
            assert not re.search(r"[{}\[\]|]", text), text
            assert text[:1] == text[:1].upper(), text


@pytest.mark.parametrize("language", CODES)
def test_disjoint_from_the_audit(language: str) -> None:
    audit = [c.text for split in ("dev", "test") for c in build_suite(split, language=language)]
    assert audit
    keys = {normalise_text(t) for t in audit}
    squashed = {k.replace(" ", "") for k in keys}
    for split in ("train", "dev"):
        for text in _pairs(language, split).texts:
            key = normalise_text(text)
            assert key not in keys and key.replace(" ", "") not in squashed, text
    # no filler value is one of the audit's fillers
    ours = {normalise_text(alt) for values in LANGUAGES[language].fillers.values()
            for value in values for alt in value.split("|")}  # fmt: skip
    theirs = {normalise_text(v) for values in SUITES[language].fillers.values() for v in values}
    assert not ours & theirs

    # no template shares a run of five words with an audit case
    def grams(text: str) -> set[tuple[str, ...]]:
        words = normalise_text(re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)).split()
        return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}

    theirs_grams = set().union(*(grams(t) for t in audit))
    for kind, (_, templates) in language_templates(language).items():
        for template in templates:
            assert not grams(template) & theirs_grams, (kind, template)
    for mirrored, twins in language_twins(language).items():
        for template in twins:
            assert not grams(template) & theirs_grams, (mirrored, template)


@pytest.mark.parametrize("language", CODES)
def test_named_source_loads_through_the_mixture(language: str) -> None:
    name = f"contrast_pairs_{language}"
    assert name in NAMED_SOURCES and CONTRAST_PAIR_SOURCES[name] == language
    assert source_language(name) == language
    mixture = load_mixture(parse_sources(f"{name}:0.5"))
    assert mixture.report[name]["train"] > 1000 and mixture.report[name]["test"] == 0
    assert set(mixture.train.metadata["source"]) == {name}
    assert set(mixture.train.labels.tolist()) == {0, 1} and len(mixture.dev) > 0
    assert mixture.train.metadata["group"].notna().any()


@pytest.mark.parametrize("language", CODES)
def test_pairs_and_twins_sources_split_the_rows(language: str) -> None:
    every = generate_language_contrast_pairs(language, "train")
    pairs = generate_language_contrast_pairs(language, "train", include="pairs")
    twins = generate_language_contrast_pairs(language, "train", include="twins")
    assert TWIN_KIND not in set(pairs.metadata["kind"])
    assert set(twins.metadata["kind"]) == {TWIN_KIND} and set(twins.labels.tolist()) == {0}
    assert set(pairs.texts) | set(twins.texts) == set(every.texts)
    assert twins.name == f"contrast_twins_{language}"
    name = f"contrast_twins_{language}"
    assert name in NAMED_SOURCES and source_language(name) == language
    mixture = load_mixture(parse_sources(f"contrast_pairs_{language},{name}"))
    kinds = set(mixture.train.metadata["source"])
    assert kinds == {f"contrast_pairs_{language}", name}
    with pytest.raises(DataError, match="include"):
        generate_language_contrast_pairs(language, "train", include="some")


def test_recipe_accepts_the_sources_in_their_languages() -> None:
    from hateproto.detector.recipe import GeneralRecipe

    with pytest.raises(Exception, match="contrast_pairs_fr.*not among languages"):
        GeneralRecipe(data="ihc,contrast_pairs_fr")
    recipe = GeneralRecipe(
        data="ihc,contrast_pairs,contrast_pairs_de:2,contrast_pairs_fr,contrast_pairs_es",
        languages=["en", "de", "fr", "es"],
    )
    assert recipe.languages == ["en", "de", "fr", "es"]


HATEFUL = ("hate", "hate_negated_positive")


def _words(template: str) -> set[str]:
    """The words of ``template`` outside its placeholders and gendered alternatives."""
    return set(re.findall(r"\w+", re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", template).lower()))


@pytest.mark.parametrize("language", CODES)
def test_every_hateful_template_has_a_frame_twin(language: str) -> None:
    templates, twins = language_templates(language), language_twins(language)
    assert set(twins) == {(k, i) for k in HATEFUL for i in range(len(templates[k][1]))}
    for (kind, index), these in twins.items():
        assert 1 <= len(these) <= 2 and len(set(these)) == len(these), (kind, index)
        hate = templates[kind][1][index]
        for twin in these:
            assert twin != hate and twin not in templates["positive"][1], twin
            # the frame: a twin keeps some of the hateful template's words
            assert _words(hate) & _words(twin), (hate, twin)
            # no hateful filler in a twin
            assert not re.search(r"\{(insult|dehum|harm|harm_inf|scheiss|putos)\}", twin), twin
    with pytest.raises(DataError):
        language_twins("it")


@pytest.mark.parametrize("language", CODES)
def test_twins_are_label_0_and_in_the_split_of_their_template(language: str) -> None:
    twins = language_twins(language)
    seen = set()
    for split in ("train", "dev"):
        data = _pairs(language, split)
        meta = data.metadata
        rows = (meta["kind"] == TWIN_KIND).to_numpy()
        assert rows.any() and (data.labels[rows] == 0).all()
        assert meta.loc[~rows, "mirrors"].isna().all()
        assert meta.loc[rows, "target"].notna().all()
        pairs = zip(meta.loc[rows, "template"], meta.loc[rows, "mirrors"], strict=True)
        for template_id, mirrored in pairs:
            _, kind, index = mirrored.split(".")
            assert kind in HATEFUL, mirrored
            number = int(template_id.rsplit(".", 1)[1])
            assert template_id == twin_template_id(language, kind, int(index), number)
            assert template_split(f"{language}:{kind}", int(index)) == split, template_id
            seen.add(template_id)
        # the mirrored template is rendered in the same split (as hate)
        hateful = set(meta.loc[meta["kind"].isin(HATEFUL), "template"])
        assert set(meta.loc[rows, "mirrors"]) <= hateful
    expected = {
        twin_template_id(language, kind, index, number)
        for (kind, index), these in twins.items()
        for number in range(len(these))
    }
    assert seen == expected
