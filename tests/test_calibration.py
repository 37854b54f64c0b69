"""Calibrated probabilities, ECE and the chosen threshold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import precision_score, recall_score

from hateproto.errors import HateprotoError
from hateproto.evaluation.calibration import (
    ProbabilityCalibrator,
    choose_threshold,
    expected_calibration_error,
    reliability_curve,
)


def _overconfident(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn with probability p, reported as p sharpened towards 0/1."""
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    labels = (rng.random(n) < p).astype(int)
    raw = 1 / (1 + np.exp(-3 * np.log(p / (1 - p))))  # logit x3: far too confident
    return np.clip(raw, 1e-4, 1 - 1e-4), labels


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_reduces_ece_on_held_out_data(method: str) -> None:
    raw, labels = _overconfident(seed=0)
    held_raw, held_labels = _overconfident(seed=1)
    cal = ProbabilityCalibrator(method).fit(raw, labels)
    before = expected_calibration_error(held_labels, held_raw)
    after = expected_calibration_error(held_labels, cal.transform(held_raw))
    assert before > 0.1 and after < 0.04 and after < before / 3
    again = ProbabilityCalibrator.from_dict(cal.to_dict())
    np.testing.assert_allclose(again.transform(held_raw), cal.transform(held_raw))


def test_platt_recovers_the_temperature() -> None:
    raw, labels = _overconfident(20000, seed=2)
    cal = ProbabilityCalibrator().fit(raw, labels)
    assert cal.params["a"] == pytest.approx(1 / 3, abs=0.03)
    assert cal.params["b"] == pytest.approx(0.0, abs=0.05)


def test_ece_by_hand() -> None:
    labels = np.array([1, 0, 1, 1])
    proba = np.array([0.9, 0.9, 0.1, 0.1])  # bins 0.0-0.067 and 0.867-0.933
    # each bin: half the examples; |mean label - mean proba| = |0.5-0.9| and |1.0-0.1|
    assert expected_calibration_error(labels, proba) == pytest.approx(0.5 * 0.4 + 0.5 * 0.9)
    rows = reliability_curve(labels, proba, bins=10)
    assert [r["n"] for r in rows] == [2, 2]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.3, 0.95))
def test_target_precision_threshold_reaches_it(seed: int, target: float) -> None:
    raw, labels = _overconfident(600, seed)
    try:
        pick = choose_threshold(labels, raw, target_precision=target)
    except HateprotoError:
        return  # no threshold reaches it: reported, not silently relaxed
    pred = (raw >= pick["threshold"]).astype(int)
    assert precision_score(labels, pred) >= target
    assert pick["precision"] == pytest.approx(precision_score(labels, pred))


def test_target_recall_and_default() -> None:
    raw, labels = _overconfident(2000, seed=3)
    pick = choose_threshold(labels, raw, target_recall=0.9)
    assert recall_score(labels, (raw >= pick["threshold"]).astype(int)) >= 0.9
    best = choose_threshold(labels, raw)
    assert 0 < best["threshold"] < 1 and best["macro_f1"] > 0.6
    with pytest.raises(HateprotoError, match="not both"):
        choose_threshold(labels, raw, 0.9, 0.9)
    with pytest.raises(HateprotoError, match="both classes"):
        ProbabilityCalibrator().fit(raw, np.zeros_like(labels))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_binary_scores_match_scikit_learn(pairs: list[tuple[bool, bool]]) -> None:
    from sklearn.metrics import f1_score

    from hateproto.evaluation.calibration import _binary_scores

    labels = np.array([a for a, _ in pairs])
    pred = np.array([b for _, b in pairs])
    precision, recall, macro = _binary_scores(labels, pred)
    assert precision == pytest.approx(precision_score(labels, pred, zero_division=0))
    assert recall == pytest.approx(recall_score(labels, pred, zero_division=0))
    expected = f1_score(labels, pred, average="macro", labels=[False, True], zero_division=0)
    assert macro == pytest.approx(expected)
