"""A decision threshold per language (issue 25): chosen on each language's own dev sets by
the best mean macro-F1, stored in ``calibration.json``, and applied to each post by its
identified language; posts of other languages keep the pooled threshold, or get the
threshold for other languages where leaving each language out showed it pays."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hateproto.audit import audit_dev_texts
from hateproto.data.types import LabeledTexts
from hateproto.detector import Detector
from hateproto.detector.calibration import (
    CALIBRATION_FILE,
    DetectorCalibration,
    choose_language_thresholds,
    choose_other_languages_threshold,
    score_language_dev_sets,
)
from hateproto.detector.recipe import (
    GeneralRecipe,
    adopt_other_languages_threshold,
    language_dev_sets,
)
from hateproto.errors import ConfigError, ModelError
from hateproto.evaluation.calibration import (
    ProbabilityCalibrator,
    choose_shared_threshold,
    choose_threshold,
    mean_macro_f1_at,
)

GERMAN = "Das ist eine ganz normale Nachricht über das Wetter in Berlin heute."
ENGLISH = "This is a perfectly normal message about the weather in London today."
IDENTITY = ProbabilityCalibrator("platt", {"a": 1.0, "b": 0.0})


def test_each_set_counts_once_whatever_its_size() -> None:
    # a big set best cut above 0.5 and a small one separable only in (0.1, 0.4]: pooled,
    # the big set decides; by the mean of the two macro-F1s the small one counts as much
    big = (np.array([0] * 500 + [1] * 500), np.array([0.2] * 400 + [0.5] * 100 + [0.9] * 500))
    small = (np.array([0] * 10 + [1] * 10), np.array([0.1] * 10 + [0.4] * 10))
    pooled = choose_threshold(
        np.concatenate([big[0], small[0]]), np.concatenate([big[1], small[1]])
    )
    shared = choose_shared_threshold([big, small])
    assert pooled["threshold"] > 0.5
    assert 0.1 < shared["threshold"] <= 0.4
    assert shared["mean_macro_f1"] == pytest.approx(mean_macro_f1_at([big, small], 0.3))
    assert shared["mean_macro_f1"] > mean_macro_f1_at([big, small], pooled["threshold"]) + 0.2


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=4, max_size=40),
    st.floats(0.05, 0.95),
)
def test_the_shared_threshold_is_never_worse_than_any_other(
    rows: list[tuple[int, float]], other: float
) -> None:
    labels, proba = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    sets = [(labels, proba), (labels[::-1], proba)]
    chosen = choose_shared_threshold(sets)
    assert chosen["mean_macro_f1"] >= mean_macro_f1_at(sets, other) - 1e-9


def test_language_thresholds_round_trip_and_are_checked(tmp_path: Path) -> None:
    calibration = DetectorCalibration(IDENTITY, 0.5, language_thresholds={"de": 0.2})
    calibration.save(tmp_path)
    loaded = DetectorCalibration.load(tmp_path / CALIBRATION_FILE)
    assert loaded.language_thresholds == {"de": 0.2}
    labels, _ = loaded.apply(np.array([0.3, 0.3, 0.3]), ["de", "en", ""])
    assert labels.tolist() == [1, 0, 0]
    assert loaded.apply(np.array([0.3]))[0].tolist() == [0]  # no languages: pooled
    for bad in ({"de": 1.5}, {"German": 0.2}, {"de": float("nan")}):
        with pytest.raises(ModelError, match="language_thresholds"):
            DetectorCalibration(IDENTITY, 0.5, language_thresholds=bad)
        value = json.loads((tmp_path / CALIBRATION_FILE).read_text())
        value["language_thresholds"] = bad
        broken = tmp_path / "broken.json"
        broken.write_text(json.dumps(value))
        with pytest.raises(ModelError, match="broken.json"):
            DetectorCalibration.load(broken)


def test_a_detector_decides_each_post_at_its_languages_threshold(
    detector: Detector, tmp_path: Path
) -> None:
    previous = detector.calibration
    try:
        # pooled 1.0: nothing is hateful; German 0.0: every German post is
        detector.calibration = DetectorCalibration(IDENTITY, 1.0, language_thresholds={"de": 0.0})
        scores = detector.score_arrays([GERMAN, ENGLISH])
        assert scores.labels.tolist() == [1, 0]
        assert scores.languages.tolist() == ["de", "en"]
        loaded = Detector.from_pretrained(detector.save_pretrained(tmp_path / "det"))
        assert loaded.calibration.language_thresholds == {"de": 0.0}
        assert [p.label for p in loaded.score([GERMAN, ENGLISH])] == [
            p.label for p in detector.score([GERMAN, ENGLISH])
        ]
    finally:
        detector.calibration = previous


def test_thresholds_are_chosen_on_each_languages_sets(detector: Detector) -> None:
    previous = detector.calibration
    try:
        detector.calibration = DetectorCalibration(IDENTITY, 0.5)
        texts = [GERMAN, GERMAN + " Wirklich.", GERMAN + " Ja.", GERMAN + " Nein."]
        raw = detector.score_arrays(texts).proba[:, 1]
        labels = (raw >= np.median(raw)).astype(int)  # separable at the median
        one_class = LabeledTexts(texts, np.zeros(4, dtype=int), "one", "table", "dev")
        sets = {"de": [LabeledTexts(texts, labels, "de_dev", "table", "dev"), one_class]}
        chosen = choose_language_thresholds(score_language_dev_sets(detector, sets), 0.5)
        assert list(chosen) == ["de"]
        assert chosen["de"]["dev_sets"] == {"de_dev/dev": 4}  # the one-class set is skipped
        assert chosen["de"]["dev_mean_macro_f1"] == pytest.approx(1.0)
        picked = (raw >= chosen["de"]["threshold"]).astype(int)
        assert picked.tolist() == labels.tolist()
    finally:
        detector.calibration = previous


def test_a_languages_dev_sets_are_its_sources_and_its_audit() -> None:
    recipe = GeneralRecipe.default(
        "multilingual", language_thresholds=["de", "ar"], threshold_dev_sets=["sources", "audit"]
    )
    import pandas as pd

    sources = ["germeval", "ihc", "contrast_pairs_de", "mlma_ar", "germeval"]
    dev = LabeledTexts(
        [f"post {i}" for i in range(5)],
        np.array([0, 1, 1, 0, 1]),
        "mixture",
        "general",
        "dev",
        pd.DataFrame({"source": sources}),
    )
    sets = language_dev_sets(recipe, dev, audit_dev_texts)
    assert [(s.name, len(s)) for s in sets["de"][:2]] == [
        ("germeval", 2),
        ("contrast_pairs_de", 1),
    ]
    assert sets["de"][-1].name == "audit_de" and len(sets["de"][-1]) > 100
    assert set(sets["de"][-1].labels.tolist()) == {0, 1}
    assert [s.name for s in sets["ar"]] == ["mlma_ar"]  # no Arabic audit
    only_sources = recipe.model_copy(update={"threshold_dev_sets": ["sources"]})
    assert [s.name for s in language_dev_sets(only_sources, dev)["de"]] == [
        "germeval",
        "contrast_pairs_de",
    ]
    with pytest.raises(ConfigError, match="audit_dev"):
        language_dev_sets(recipe, dev)  # the audit is asked for but not given


def test_other_languages_get_their_threshold_and_validated_ones_keep_theirs(
    tmp_path: Path,
) -> None:
    calibration = DetectorCalibration(
        IDENTITY, 0.5, language_thresholds={"de": 0.2, "en": 0.5}, other_languages_threshold=0.3
    )
    calibration.save(tmp_path)
    loaded = DetectorCalibration.load(tmp_path / CALIBRATION_FILE)
    assert loaded.other_languages_threshold == 0.3
    assert loaded.thresholds_for(["de", "en", "pt"], 3).tolist() == [0.2, 0.5, 0.3]
    labels, _ = loaded.apply(np.array([0.4, 0.4, 0.4]), ["de", "en", "pt"])
    assert labels.tolist() == [1, 0, 1]
    with pytest.raises(ModelError, match="other_languages_threshold"):
        DetectorCalibration(IDENTITY, 0.5, {}, {"de": 0.2}, other_languages_threshold=1.5)


class _FixedScores:
    """A stand-in detector whose calibrated hate probability of each text is given."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table
        self.calibration = DetectorCalibration(IDENTITY, 0.5)

    def score_arrays(self, texts: list[str]) -> SimpleNamespace:
        hate = np.array([self.table[t] for t in texts])
        return SimpleNamespace(proba=np.stack([1 - hate, hate], axis=1))


def _dev_sets(hateful: float, other: float) -> tuple[dict[str, float], dict]:
    table, sets = {}, {}
    for code in ("de", "fr", "es"):
        texts = [f"{code} {i}" for i in range(8)]
        labels = np.array([1] * 4 + [0] * 4)
        table.update({t: hateful if y else other for t, y in zip(texts, labels, strict=True)})
        sets[code] = [LabeledTexts(texts, labels, f"{code}_dev", "table", "dev")]
    return table, sets


def test_the_other_languages_threshold_is_adopted_only_when_leaving_one_out_pays() -> None:
    chosen = {"de": {"threshold": 0.2}, "fr": {"threshold": 0.25}, "es": {"threshold": 0.3}}
    # every language's posts separate at 0.1 | 0.35: any of the others' thresholds beats 0.5
    table, sets = _dev_sets(hateful=0.35, other=0.1)
    scored = score_language_dev_sets(_FixedScores(table), sets)
    choice = choose_other_languages_threshold(scored, chosen, 0.5)
    assert choice["adopted"] and choice["threshold"] == pytest.approx(0.25)
    assert choice["leave_one_language_out"]["de"]["threshold_from_the_others"] == 0.275
    assert choice["leave_one_language_out"]["de"]["dev_mean_macro_f1"] == pytest.approx(1.0)
    # posts that separate only above the others' thresholds: the pooled 0.5 stays
    table, sets = _dev_sets(hateful=0.9, other=0.4)
    scored = score_language_dev_sets(_FixedScores(table), sets)
    choice = choose_other_languages_threshold(scored, chosen, 0.5)
    assert not choice["adopted"] and choice["mean_gain_leaving_one_language_out"] < 0
    two = {code: chosen[code] for code in ("de", "fr")}
    assert choose_other_languages_threshold(scored, two, 0.5) is None


def test_adopting_it_lists_the_validated_languages_at_the_pooled_threshold() -> None:
    table, sets = _dev_sets(hateful=0.35, other=0.1)
    detector = _FixedScores(table)
    chosen = {"de": {"threshold": 0.2}, "fr": {"threshold": 0.25}, "es": {"threshold": 0.3}}
    detector.calibration.language_thresholds = {k: v["threshold"] for k, v in chosen.items()}
    recipe = GeneralRecipe.default("multilingual")  # validated: en de fr ar it es
    said: list[str] = []
    scored = score_language_dev_sets(detector, sets)
    adopt_other_languages_threshold(detector.calibration, recipe, scored, chosen, said.append)
    calibration = detector.calibration
    assert calibration.other_languages_threshold == pytest.approx(0.25)
    # the validated languages without a threshold of their own keep the pooled one
    assert {code: calibration.language_thresholds[code] for code in ("en", "ar", "it")} == {
        "en": 0.5,
        "ar": 0.5,
        "it": 0.5,
    }
    assert calibration.thresholds_for(["en", "pt"], 2).tolist() == [0.5, 0.25]
    assert calibration.dev["other_languages_threshold_choice"]["adopted"]
    assert "adopted" in said[0]
