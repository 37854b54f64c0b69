"""Property tests: the fast metrics used in threshold searches agree with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from hateproto.early_exit.thresholds import fast_macro_f1
from hateproto.evaluation import classification_metrics


@st.composite
def labelled(draw: st.DrawFn, max_classes: int = 6) -> tuple[np.ndarray, np.ndarray, int]:
    """(labels, predictions, number of classes); predictions use a random subset of the
    classes (possibly one), so some labels are often absent from the predictions."""
    k = draw(st.integers(2, max_classes))
    n = draw(st.integers(1, 40))
    labels = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    used = draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True))
    pred = draw(st.lists(st.sampled_from(used), min_size=n, max_size=n))
    return np.array(labels), np.array(pred), k


def sklearn_macro_f1(labels: np.ndarray, pred: np.ndarray, classes=None) -> float:
    return float(f1_score(labels, pred, labels=classes, average="macro", zero_division=0))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_binary_fast_macro_f1_equals_sklearn(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 40))
    labels = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    pred = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    expected = sklearn_macro_f1(labels, pred, [0, 1])
    assert fast_macro_f1(labels, pred) == pytest.approx(expected, abs=1e-12)
    # the hateproto report metric agrees too (it is what calibration's budget is measured in)
    assert classification_metrics(labels, pred)["macro_f1"] == pytest.approx(expected, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(labelled())
def test_multiclass_fast_macro_f1_equals_sklearn(case: tuple[np.ndarray, np.ndarray, int]) -> None:
    labels, pred, k = case
    classes = list(range(k))
    got = fast_macro_f1(labels, pred, classes)
    assert got == pytest.approx(sklearn_macro_f1(labels, pred, classes), abs=1e-12)
    # over the classes that occur (scikit-learn's default label set)
    present = sorted(set(labels.tolist()) | set(pred.tolist()))
    got = fast_macro_f1(labels, pred, present)
    assert got == pytest.approx(sklearn_macro_f1(labels, pred), abs=1e-12)


def test_known_values_with_absent_classes() -> None:
    labels, pred = np.array([0, 1, 2, 2]), np.array([0, 0, 0, 0])
    # class 0: P = 1/4, R = 1, F1 = 0.4; classes 1 and 2 never predicted: 0 (zero_division=0)
    assert fast_macro_f1(labels, pred, (0, 1, 2)) == pytest.approx(0.4 / 3)
    assert fast_macro_f1(labels, pred, (0, 1, 2, 3)) == pytest.approx(0.4 / 4)  # 3: nowhere
    assert sklearn_macro_f1(labels, pred, [0, 1, 2, 3]) == pytest.approx(0.1)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=2, max_size=6))
def test_paired_seed_test_pairs_by_seed(pairs: list[tuple[float, float]]) -> None:
    import itertools

    from scipy import stats

    from hateproto.evaluation.significance import paired_seed_test

    a = {seed: x for seed, (x, _) in enumerate(pairs)}
    b = {seed: y for seed, (_, y) in reversed(list(enumerate(pairs)))}  # order must not matter
    r = paired_seed_test(a, b)
    diffs = np.array([x - y for x, y in pairs])
    assert r["n"] == len(pairs) and r["p_min"] == 2 / 2 ** len(pairs)
    assert r["diffs"] == pytest.approx(diffs.tolist()) and r["mean_diff"] == pytest.approx(
        diffs.mean()
    )
    flips = [
        abs(np.mean(np.array(s) * diffs)) for s in itertools.product((1, -1), repeat=len(pairs))
    ]
    exact = np.mean([f >= abs(diffs.mean()) - 1e-12 for f in flips])
    assert r["p_exact"] == pytest.approx(exact) and r["p_exact"] >= r["p_min"]
    if not np.allclose(diffs, diffs[0]):
        expected = stats.ttest_rel([x for x, _ in pairs], [y for _, y in pairs]).pvalue
        assert r["p_value"] == pytest.approx(expected, nan_ok=True)
