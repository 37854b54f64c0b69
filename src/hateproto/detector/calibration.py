"""A detector's calibrated hate probability and decision threshold (``calibration.json``).

Without calibration, a detector's ``hate_probability`` is the softmax of its raw scores (head
logits, or prototype similarities over a fixed temperature) and its decision is the larger of
the two. :func:`calibrate_detector` fits a :class:`~hateproto.evaluation.calibration.
ProbabilityCalibrator` on a dev split and picks the decision threshold on the calibrated
probability (best dev macro-F1, or a target precision or recall), so that a probability of 0.8
means that about 80 % of such posts are hateful, and "which threshold?" has an answer.

A multilingual detector can also carry a **threshold per language**
(:func:`choose_language_thresholds`, chosen on that language's own dev sets): its
probabilities rank each language's posts well, but one threshold chosen on dev data that is
mostly English sits too high or too low for the others. Posts of a language without its own
threshold use the pooled one, or ``other_languages_threshold`` where one was adopted
(:func:`choose_other_languages_threshold`: the median of the per-language thresholds, kept
only if it beats the pooled threshold on each language's dev sets when that language is left
out of the median).

Example:
    >>> cal = calibrate_detector(detector, dev, target_precision=0.9)  # doctest: +SKIP
    >>> detector.calibration = cal                                     # doctest: +SKIP
    >>> detector.score(["a post"])[0].hate_probability                 # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError, model_validator

from hateproto.data.types import LabeledTexts
from hateproto.errors import ModelError
from hateproto.evaluation.calibration import (
    ProbabilityCalibrator,
    choose_shared_threshold,
    choose_threshold,
    expected_calibration_error,
    mean_macro_f1_at,
    reliability_curve,
)
from hateproto.outputs import atomic_write_text

CALIBRATION_FILE = "calibration.json"
_PROBE = np.linspace(0.0, 1.0, 101)


class _Platt(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    a: FiniteFloat
    b: FiniteFloat


class _Isotonic(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    x: list[FiniteFloat] = Field(min_length=1)
    y: list[Annotated[FiniteFloat, Field(ge=0.0, le=1.0)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _knots(self) -> _Isotonic:
        if len(self.x) != len(self.y):
            raise ValueError(f"x has {len(self.x)} knots but y has {len(self.y)}")
        if any(b < a for a, b in zip(self.x, self.x[1:], strict=False)):
            raise ValueError("x must be non-decreasing")
        return self


class _Calibrator(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    method: Literal["platt", "isotonic"]
    params: dict[str, Any]

    @model_validator(mode="after")
    def _params(self) -> _Calibrator:
        (_Platt if self.method == "platt" else _Isotonic).model_validate(self.params)
        return self


class CalibrationFile(BaseModel):
    """The checked contents of ``calibration.json``: a Platt (finite ``a``, ``b``) or
    isotonic (finite knots, ``y`` in 0..1) calibrator and a finite threshold in 0..1."""

    model_config = ConfigDict(extra="forbid", strict=True)
    calibrator: _Calibrator
    threshold: Annotated[FiniteFloat, Field(ge=0.0, le=1.0)]
    language_thresholds: dict[
        Annotated[str, Field(pattern="^[a-z]{2,3}$")],
        Annotated[FiniteFloat, Field(ge=0.0, le=1.0)],
    ] = Field(default_factory=dict)
    other_languages_threshold: Annotated[FiniteFloat, Field(ge=0.0, le=1.0)] | None = None
    dev: dict[str, Any] = Field(default_factory=dict)


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
    )


@dataclass
class DetectorCalibration:
    """Calibrator, threshold (pooled, and per language where chosen) and the dev figures
    they were chosen on."""

    calibrator: ProbabilityCalibrator
    threshold: float
    dev: dict[str, Any] = field(default_factory=dict)
    language_thresholds: dict[str, float] = field(default_factory=dict)
    other_languages_threshold: float | None = None

    def __post_init__(self) -> None:
        self.check("calibration")

    def check(self, where: str) -> None:
        """Refuse a calibration that cannot give sound decisions (a NaN, infinite or
        out-of-range threshold or parameter): a :class:`ModelError` naming ``where``."""
        value = {
            "calibrator": self.calibrator.to_dict(),
            "threshold": self.threshold,
            "language_thresholds": self.language_thresholds,
            "other_languages_threshold": self.other_languages_threshold,
        }
        try:
            CalibrationFile.model_validate(value)
        except ValidationError as exc:
            raise ModelError(f"{where} is invalid: {_problems(exc)}") from None
        probe = self.calibrator.transform(_PROBE)
        if not np.all(np.isfinite(probe)) or probe.min() < 0 or probe.max() > 1:
            raise ModelError(f"{where} is invalid: its calibrator gives values outside 0..1")

    def thresholds_for(self, languages: Sequence[str] | None, n: int) -> np.ndarray:
        """The decision threshold of each of ``n`` posts: its language's; for a language
        without one, ``other_languages_threshold`` where set, else the pooled threshold."""
        if not self.language_thresholds or languages is None:
            return np.full(n, self.threshold)
        fallback = self.other_languages_threshold
        if fallback is None:
            fallback = self.threshold
        return np.array([self.language_thresholds.get(code, fallback) for code in languages])

    def apply(
        self, raw_hate: np.ndarray, languages: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(labels, proba [N, 2])`` from raw hate scores; ``languages`` (one code per post)
        selects the per-language thresholds."""
        hate = self.calibrator.transform(raw_hate)
        labels = hate >= self.thresholds_for(languages, len(hate))
        return labels.astype(np.int64), np.stack([1 - hate, hate], axis=1)

    def save(self, folder: Path) -> str:
        """Write ``calibration.json`` into ``folder``; returns the file name."""
        value = {
            "calibrator": self.calibrator.to_dict(),
            "threshold": self.threshold,
            "language_thresholds": self.language_thresholds,
            "other_languages_threshold": self.other_languages_threshold,
            "dev": self.dev,
        }
        atomic_write_text(folder / CALIBRATION_FILE, json.dumps(value, indent=2))
        return CALIBRATION_FILE

    @classmethod
    def load(cls, path: Path) -> DetectorCalibration:
        """Read and check a ``calibration.json`` (see :class:`CalibrationFile`); any problem
        is a one-line :class:`ModelError` naming the file."""
        try:
            value = CalibrationFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise ModelError(f"{path}: cannot read the calibration ({exc.strerror})") from None
        except (ValueError, RecursionError) as exc:
            problem = _problems(exc) if isinstance(exc, ValidationError) else "not valid JSON"
            raise ModelError(f"{path} is invalid: {problem}") from None
        calibrator = ProbabilityCalibrator.from_dict(value.calibrator.model_dump())
        calibration = cls.__new__(cls)
        calibration.calibrator, calibration.threshold, calibration.dev = (
            calibrator,
            float(value.threshold),
            value.dev,
        )
        calibration.language_thresholds = {
            k: float(v) for k, v in value.language_thresholds.items()
        }
        other = value.other_languages_threshold
        calibration.other_languages_threshold = None if other is None else float(other)
        calibration.check(str(path))
        return calibration


def calibrate_detector(
    detector: Any,
    dev: LabeledTexts,
    method: str = "platt",
    target_precision: float | None = None,
    target_recall: float | None = None,
) -> DetectorCalibration:
    """Fit the calibration of ``detector`` (uncalibrated scores) on ``dev``."""
    previous, detector.calibration = detector.calibration, None
    try:
        raw = detector.score_arrays(dev.texts).proba[:, 1]
    finally:
        detector.calibration = previous
    calibrator = ProbabilityCalibrator(method).fit(raw, dev.labels)  # type: ignore[arg-type]
    calibrated = calibrator.transform(raw)
    pick = choose_threshold(dev.labels, calibrated, target_precision, target_recall)
    figures = {
        "dataset": dev.name,
        "split": dev.split,
        "n": len(dev),
        "method": method,
        "target_precision": target_precision,
        "target_recall": target_recall,
        "ece_uncalibrated": expected_calibration_error(dev.labels, raw),
        "ece": expected_calibration_error(dev.labels, calibrated),
        **{f"dev_{k}": v for k, v in pick.items() if k != "threshold"},
        "reliability": reliability_curve(dev.labels, calibrated),
    }
    return DetectorCalibration(calibrator, pick["threshold"], figures)


ScoredSets = Mapping[str, Sequence[tuple[LabeledTexts, np.ndarray]]]
"""Language code -> its dev sets, each with the detector's calibrated hate probabilities
(:func:`score_language_dev_sets`)."""


def score_language_dev_sets(
    detector: Any, dev_sets: Mapping[str, Sequence[LabeledTexts]]
) -> dict[str, list[tuple[LabeledTexts, np.ndarray]]]:
    """Each language's dev sets that hold both classes, with a calibrated ``detector``'s hate
    probabilities (scored once, for :func:`choose_language_thresholds` and
    :func:`choose_other_languages_threshold`); languages with no such set are left out."""
    if detector.calibration is None:
        raise ModelError("per-language thresholds need a calibrated detector")
    scored: dict[str, list[tuple[LabeledTexts, np.ndarray]]] = {}
    for language, sets in dev_sets.items():
        usable = [s for s in sets if len(set(np.asarray(s.labels).tolist())) == 2]
        if usable:
            scored[language] = [(s, detector.score_arrays(s.texts).proba[:, 1]) for s in usable]
    return scored


def _pairs(sets: Sequence[tuple[LabeledTexts, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(s.labels, proba) for s, proba in sets]


def choose_language_thresholds(scored: ScoredSets, pooled: float) -> dict[str, dict[str, Any]]:
    """A decision threshold per language: for each language, the one with the best mean
    macro-F1 over that language's ``scored`` dev sets (each set counting once; the nearest to
    the ``pooled`` threshold among equals). Returns, per language, the threshold, the mean
    dev macro-F1 there and at the pooled threshold, and the sets' names and sizes; set
    ``calibration.language_thresholds`` from it."""
    chosen: dict[str, dict[str, Any]] = {}
    for language, sets in scored.items():
        pairs = _pairs(sets)
        pick = choose_shared_threshold(pairs, prefer=pooled)
        chosen[language] = {
            "threshold": pick["threshold"],
            "dev_mean_macro_f1": pick["mean_macro_f1"],
            "dev_mean_macro_f1_at_pooled_threshold": mean_macro_f1_at(pairs, pooled),
            "dev_sets": {f"{s.name}/{s.split}": len(s) for s, _ in sets},
        }
    return chosen


def choose_other_languages_threshold(
    scored: ScoredSets, chosen: Mapping[str, Mapping[str, Any]], pooled: float
) -> dict[str, Any] | None:
    """A threshold for languages with no dev data of their own, checked by leaving each
    language out in turn.

    The candidate is the median of the per-language thresholds in ``chosen`` (from
    :func:`choose_language_thresholds`). For each language, the median of the *other*
    languages' thresholds is scored on its ``scored`` dev sets (mean macro-F1) beside the
    ``pooled`` threshold. ``adopted`` is true when that gain, averaged over the languages, is
    above 0. ``None`` with fewer than three languages (a median of one is no check)."""
    if len(chosen) < 3:
        return None
    left_out: dict[str, dict[str, float]] = {}
    for language in chosen:
        if language not in scored:
            continue
        pairs = _pairs(scored[language])
        others = float(np.median([chosen[o]["threshold"] for o in chosen if o != language]))
        left_out[language] = {
            "threshold_from_the_others": others,
            "dev_mean_macro_f1": mean_macro_f1_at(pairs, others),
            "dev_mean_macro_f1_at_pooled_threshold": mean_macro_f1_at(pairs, pooled),
        }
    gains = [
        r["dev_mean_macro_f1"] - r["dev_mean_macro_f1_at_pooled_threshold"]
        for r in left_out.values()
    ]
    gain = float(np.mean(gains)) if gains else 0.0
    return {
        "threshold": float(np.median([facts["threshold"] for facts in chosen.values()])),
        "adopted": gain > 0,
        "mean_gain_leaving_one_language_out": gain,
        "leave_one_language_out": left_out,
    }
