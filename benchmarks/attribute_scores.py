"""Every score a detector gives each distinct text, and the threshold of each: shared by the
benchmarks that score many sets at once (``perspective_attributes.py``, ``multilingual.py``).

Run as scripts, those benchmarks import this module from their own folder.
"""

from __future__ import annotations

from hateproto.detector import Detector
from hateproto.detector.results import HATE_ATTRIBUTE

HATE = "hate"
"""The key of the calibrated hate probability (``Prediction.hate_probability``)."""
HATE_LABEL = "hate_label"
"""The key of the detector's own hate decision (``Prediction.label_id``): 1 or 0. It is the
probability against the detector's threshold, or against the threshold of the post's
language where the detector has per-language thresholds."""


def attribute_scores(
    detector: Detector, texts: list[str], batch_size: int = 2048
) -> dict[str, dict[str, float]]:
    """``{text: {"hate": p, "hate_label": 0/1, ATTRIBUTE: p, ...}}`` for every distinct text
    of ``texts`` and every attribute the detector answers (``Prediction.attribute``)."""
    unique = sorted(set(texts))
    names = detector.facts().attributes
    out: dict[str, dict[str, float]] = {}
    for start in range(0, len(unique), batch_size):
        batch = unique[start : start + batch_size]
        for text, prediction in zip(batch, detector.score(batch), strict=True):
            row = {HATE: prediction.hate_probability, HATE_LABEL: prediction.label_id}
            row.update({name: prediction.attribute(name) for name in names})
            out[text] = row
    return out


def score_threshold(detector: Detector, name: str) -> float:
    """The decision threshold of the score ``name``: the detector's own for the hate
    probability (``hate`` or ``IDENTITY_ATTACK``), else the attribute head's."""
    if name in (HATE, HATE_ATTRIBUTE):
        return detector.threshold
    return next(r.threshold for r in detector.attribute_heads.records if r.name == name)
