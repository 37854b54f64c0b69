"""hateproto: implicit and explicit hate speech detection with transformer representations.

The public API:

* data: :func:`load_benchmark`, :func:`load_table`, :class:`LabeledTexts`,
  :func:`sample_per_class`
* models: :class:`Backbone`
* prototypes: :class:`PrototypeClassifier`
* early exit: :class:`EarlyExitClassifier`
* production: :class:`Detector` (model + prototypes + early-exit thresholds, saved as a
  versioned folder; what ``hateproto classify`` and ``hateproto serve`` load)
* evaluation: :func:`classification_metrics`
"""

from hateproto.data import LabeledTexts, load_benchmark, load_table, sample_per_class
from hateproto.detector import Detector
from hateproto.early_exit import EarlyExitClassifier
from hateproto.errors import HateprotoError
from hateproto.evaluation import classification_metrics
from hateproto.models import Backbone
from hateproto.prototypes import PrototypeClassifier
from hateproto.provenance import hateproto_version

__version__ = hateproto_version()  # from the package metadata; its one source is pyproject.toml

__all__ = [
    "Backbone",
    "Detector",
    "EarlyExitClassifier",
    "HateprotoError",
    "LabeledTexts",
    "PrototypeClassifier",
    "__version__",
    "classification_metrics",
    "load_benchmark",
    "load_table",
    "sample_per_class",
]
