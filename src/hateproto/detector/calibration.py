"""A detector's calibrated hate probability and decision threshold (``calibration.json``).

Without calibration, a detector's ``hate_probability`` is the softmax of its raw scores (head
logits, or prototype similarities over a fixed temperature) and its decision is the larger of
the two. :func:`calibrate_detector` fits a :class:`~hateproto.evaluation.calibration.
ProbabilityCalibrator` on a dev split and picks the decision threshold on the calibrated
probability (best dev macro-F1, or a target precision or recall), so that a probability of 0.8
means that about 80 % of such posts are hateful, and "which threshold?" has an answer.

Example:
    >>> cal = calibrate_detector(detector, dev, target_precision=0.9)  # doctest: +SKIP
    >>> detector.calibration = cal                                     # doctest: +SKIP
    >>> detector.score(["a post"])[0].hate_probability                 # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.data.types import LabeledTexts
from hateproto.errors import ModelError
from hateproto.evaluation.calibration import (
    ProbabilityCalibrator,
    choose_threshold,
    expected_calibration_error,
    reliability_curve,
)
from hateproto.outputs import atomic_write_text

CALIBRATION_FILE = "calibration.json"


@dataclass
class DetectorCalibration:
    """Calibrator, threshold and the dev figures they were chosen on."""

    calibrator: ProbabilityCalibrator
    threshold: float
    dev: dict[str, Any] = field(default_factory=dict)

    def apply(self, raw_hate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(labels, proba [N, 2])`` from raw hate scores."""
        hate = self.calibrator.transform(raw_hate)
        return (hate >= self.threshold).astype(np.int64), np.stack([1 - hate, hate], axis=1)

    def save(self, folder: Path) -> str:
        """Write ``calibration.json`` into ``folder``; returns the file name."""
        value = {
            "calibrator": self.calibrator.to_dict(),
            "threshold": self.threshold,
            "dev": self.dev,
        }
        atomic_write_text(folder / CALIBRATION_FILE, json.dumps(value, indent=2))
        return CALIBRATION_FILE

    @classmethod
    def load(cls, path: Path) -> DetectorCalibration:
        """Read a ``calibration.json``."""
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                ProbabilityCalibrator.from_dict(value["calibrator"]),
                float(value["threshold"]),
                dict(value.get("dev", {})),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: not a valid calibration file ({exc})") from None


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
