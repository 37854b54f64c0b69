"""Calibrated hate probabilities, their error, and the decision threshold.

A detector's raw score (the softmax of a head's logits, or of prototype cosine similarities
divided by a fixed temperature) ranks posts but is not a probability: among posts scored 0.9,
far fewer or far more than 90 % may be hateful. :class:`ProbabilityCalibrator` maps the raw
score to a calibrated probability, fitted on a dev split:

* ``platt`` (default): logistic regression on the raw score's logit, ``sigmoid(a * z + b)``;
  with ``b = 0`` this is temperature scaling, so it covers heads and prototype margins alike;
* ``isotonic``: a monotone step function (scikit-learn's ``IsotonicRegression``), for large
  dev sets.

:func:`choose_threshold` then answers "which threshold?": the one with the best dev macro-F1,
or the lowest that reaches a target precision (most recall), or the highest that keeps a target
recall; :func:`choose_shared_threshold` picks one threshold for several dev sets at once (the
best mean macro-F1, each set counting once). :func:`expected_calibration_error` and
:func:`reliability_curve` measure the result.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 2000)
    >>> raw = np.clip(0.5 + 0.45 * (2 * y - 1) * rng.random(2000), 0.01, 0.99) ** 0.3
    >>> cal = ProbabilityCalibrator().fit(raw, y)
    >>> bool(expected_calibration_error(y, cal.transform(raw)) < expected_calibration_error(y, raw))
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from hateproto.errors import HateprotoError

Method = Literal["platt", "isotonic"]
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


@dataclass
class ProbabilityCalibrator:
    """Raw hate score -> calibrated probability (scikit-learn style: ``fit``/``transform``).

    Attributes:
        method: ``platt`` or ``isotonic``.
        params: the fitted parameters (``a``, ``b`` for Platt; ``x``, ``y`` knots for isotonic),
            JSON-ready so that a detector folder can store them.
    """

    method: Method = "platt"
    params: dict[str, Any] = field(default_factory=dict)

    def fit(self, raw: np.ndarray, labels: np.ndarray) -> ProbabilityCalibrator:
        """Fit on dev-set raw hate scores in (0, 1) and their 0/1 labels."""
        raw, labels = np.asarray(raw, dtype=np.float64), np.asarray(labels)
        if len(np.unique(labels)) < 2:
            raise HateprotoError("calibration needs dev examples of both classes")
        if self.method == "platt":
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=1e6, max_iter=1000)
            model.fit(_logit(raw).reshape(-1, 1), labels)
            self.params = {"a": float(model.coef_[0, 0]), "b": float(model.intercept_[0])}
        elif self.method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, labels)
            self.params = {
                "x": model.X_thresholds_.tolist(),
                "y": model.y_thresholds_.tolist(),
            }
        else:
            raise HateprotoError(f"unknown calibration method {self.method!r}: platt, isotonic")
        return self

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has run (or parameters were loaded)."""
        return bool(self.params)

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated hate probabilities for raw hate scores."""
        if not self.is_fitted:
            raise HateprotoError("the calibrator is not fitted")
        raw = np.asarray(raw, dtype=np.float64)
        if self.method == "platt":
            z = self.params["a"] * _logit(raw) + self.params["b"]
            return 1.0 / (1.0 + np.exp(-z))
        return np.interp(raw, self.params["x"], self.params["y"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (see :meth:`from_dict`)."""
        return {"method": self.method, "params": self.params}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> ProbabilityCalibrator:
        """The calibrator :meth:`to_dict` wrote."""
        return cls(method=value["method"], params=dict(value["params"]))


def expected_calibration_error(labels: np.ndarray, proba: np.ndarray, bins: int = 15) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width bins of the
    hate probability, weighted by the bin's share of examples (binary, hate class).

    Example:
        >>> expected_calibration_error(np.array([0, 1, 1, 0]), np.array([0.0, 1.0, 1.0, 0.0]))
        0.0
    """
    rows = reliability_curve(labels, proba, bins)
    total = sum(row["n"] for row in rows)
    return float(
        sum(row["n"] / total * abs(row["observed_rate"] - row["mean_predicted"]) for row in rows)
    )


def reliability_curve(
    labels: np.ndarray, proba: np.ndarray, bins: int = 10
) -> list[dict[str, float]]:
    """Per bin of predicted probability: its mean prediction, the observed hate rate, count."""
    labels, proba = np.asarray(labels, dtype=np.float64), np.asarray(proba, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            rows.append(
                {
                    "bin_low": float(edges[b]),
                    "bin_high": float(edges[b + 1]),
                    "mean_predicted": float(proba[mask].mean()),
                    "observed_rate": float(labels[mask].mean()),
                    "n": int(mask.sum()),
                }
            )
    return rows


def choose_threshold(
    labels: np.ndarray,
    proba: np.ndarray,
    target_precision: float | None = None,
    target_recall: float | None = None,
) -> dict[str, float]:
    """The decision threshold on calibrated probabilities, chosen on a dev split.

    Default: the best macro-F1. ``target_precision``: the lowest threshold whose precision
    reaches it (so the most recall at that precision). ``target_recall``: the highest
    threshold whose recall reaches it. Returns the threshold with its dev precision, recall and
    macro-F1; raises :class:`HateprotoError` if no threshold reaches the target.
    """
    if target_precision is not None and target_recall is not None:
        raise HateprotoError("give a target precision or a target recall, not both")
    for name, value in (("precision", target_precision), ("recall", target_recall)):
        if value is not None and not 0 < value <= 1:
            raise HateprotoError(f"target {name} must be in (0, 1], got {value}")
    labels, proba = np.asarray(labels).astype(bool), np.asarray(proba, dtype=np.float64)
    candidates = np.unique(np.concatenate([[0.5], np.quantile(proba, np.linspace(0, 1, 201))]))
    rows = [(float(t), *_binary_scores(labels, proba >= t)) for t in candidates]
    if target_precision is not None:
        ok = [r for r in rows if r[1] >= target_precision and r[2] > 0]
        pick = min(ok, key=lambda r: r[0]) if ok else None
    elif target_recall is not None:
        ok = [r for r in rows if r[2] >= target_recall]
        pick = max(ok, key=lambda r: r[0]) if ok else None
    else:
        pick = max(rows, key=lambda r: (r[3], -abs(r[0] - 0.5)))
    if pick is None:
        target = "precision" if target_precision is not None else "recall"
        raise HateprotoError(f"no threshold reaches the target {target} on the dev set")
    return {"threshold": pick[0], "precision": pick[1], "recall": pick[2], "macro_f1": pick[3]}


def choose_shared_threshold(
    sets: Sequence[tuple[np.ndarray, np.ndarray]], prefer: float = 0.5
) -> dict[str, float]:
    """One decision threshold for several dev sets: the one with the best **mean** macro-F1
    over them (each set counts once, whatever its size), the one nearest ``prefer`` among
    equals. ``sets``: ``(labels, calibrated probabilities)`` pairs. Returns the threshold and
    the mean macro-F1 there."""
    if not sets:
        raise HateprotoError("choosing a shared threshold needs at least one dev set")
    pairs = [(np.asarray(y).astype(bool), np.asarray(p, dtype=np.float64)) for y, p in sets]
    pooled = np.concatenate([p for _, p in pairs])
    candidates = np.unique(
        np.concatenate([[0.5, prefer], np.quantile(pooled, np.linspace(0, 1, 401))])
    )
    rows = [(float(t), mean_macro_f1_at(pairs, float(t))) for t in candidates]
    best = max(rows, key=lambda r: (round(r[1], 9), -abs(r[0] - prefer)))
    return {"threshold": best[0], "mean_macro_f1": best[1]}


def mean_macro_f1_at(sets: Sequence[tuple[np.ndarray, np.ndarray]], threshold: float) -> float:
    """The mean over ``(labels, probabilities)`` sets of the macro-F1 at ``threshold``."""
    return float(
        np.mean(
            [
                _binary_scores(np.asarray(y).astype(bool), np.asarray(p) >= threshold)[2]
                for y, p in sets
            ]
        )
    )


def _binary_scores(labels: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    """Precision and recall of the hate class, and macro-F1 (0 where undefined, as
    scikit-learn's ``zero_division=0``)."""
    tp = float(np.sum(labels & pred))
    fp = float(np.sum(~labels & pred))
    fn = float(np.sum(labels & ~pred))
    tn = float(len(labels)) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1_hate = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    f1_not = 2 * tn / (2 * tn + fn + fp) if tn + fn + fp else 0.0
    return precision, recall, (f1_hate + f1_not) / 2
