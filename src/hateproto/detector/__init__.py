"""The detector: a model, optional prototypes and early-exit thresholds, as one object.

Example:
    >>> from hateproto.detector import Detector
    >>> detector = Detector.from_pretrained("detectors/ihc-minilm")  # doctest: +SKIP
    >>> [p.label for p in detector.score(["they are vermin"])]       # doctest: +SKIP
    ['hate']
"""

from hateproto.detector.build import build_detector
from hateproto.detector.components import ExitThresholds
from hateproto.detector.detector import Detector, Scores
from hateproto.detector.manifest import FORMAT_VERSION, MANIFEST_FILE, DetectorManifest
from hateproto.detector.results import Explanation, LayerExplanation, Prediction
from hateproto.detector.settings import DetectorSettings
from hateproto.detector.spec import DetectorSpec

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "Detector",
    "DetectorManifest",
    "DetectorSettings",
    "DetectorSpec",
    "ExitThresholds",
    "Explanation",
    "LayerExplanation",
    "Prediction",
    "Scores",
    "build_detector",
]
