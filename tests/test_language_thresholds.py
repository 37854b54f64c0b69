"""A decision threshold per language (issue 25): chosen on each language's own dev sets by
the best mean macro-F1, stored in ``calibration.json``, and applied to each post by its
identified language; posts of other languages keep the pooled threshold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hateproto.data.types import LabeledTexts
from hateproto.detector import Detector
from hateproto.detector.calibration import (
    CALIBRATION_FILE,
    DetectorCalibration,
    choose_language_thresholds,
)
from hateproto.detector.recipe import GeneralRecipe, language_dev_sets
from hateproto.errors import ModelError
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
        chosen = choose_language_thresholds(detector, sets)
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
    sets = language_dev_sets(recipe, dev)
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
