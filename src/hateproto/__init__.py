"""hateproto: implicit and explicit hate speech detection with transformer representations.

The public API:

* data: :func:`load_benchmark`, :func:`load_table`, :class:`LabeledTexts`,
  :func:`sample_per_class`
* models: :class:`Backbone`
* prototypes: :class:`PrototypeClassifier`
* fine-tuning: :class:`HateClassifier`, :class:`TrainingConfig`
* early exit: :class:`EarlyExitClassifier`
* production: :class:`Detector` (model + prototypes + early-exit thresholds, saved as a
  versioned folder; what ``hateproto classify`` and ``hateproto serve`` load)
* evaluation: :func:`classification_metrics`

The three classifiers share the scikit-learn estimator contract: hyper-parameters in
``__init__``, ``fit(X, y)`` on texts and labels, ``predict`` / ``predict_proba``,
``get_params`` / ``set_params``, ``classes_``, ``save_pretrained`` / ``from_pretrained``.
"""

from __future__ import annotations

from hateproto.errors import HateprotoError
from hateproto.lazy import lazy_exports
from hateproto.provenance import hateproto_version

__version__ = hateproto_version()  # from the package metadata; its one source is pyproject.toml

# The public API is imported on first use, so that `import hateproto` (and the CLI's start)
# does not load torch, scikit-learn or pandas until a model or dataset is needed.
_LAZY = {
    "Backbone": "hateproto.models",
    "Detector": "hateproto.detector",
    "EarlyExitClassifier": "hateproto.early_exit",
    "HateClassifier": "hateproto.training",
    "LabeledTexts": "hateproto.data",
    "PrototypeClassifier": "hateproto.prototypes",
    "TrainingConfig": "hateproto.training",
    "classification_metrics": "hateproto.evaluation",
    "load_benchmark": "hateproto.data",
    "load_table": "hateproto.data",
    "sample_per_class": "hateproto.data",
}


__getattr__ = lazy_exports("hateproto", _LAZY)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "Backbone",
    "Detector",
    "EarlyExitClassifier",
    "HateClassifier",
    "HateprotoError",
    "LabeledTexts",
    "PrototypeClassifier",
    "TrainingConfig",
    "__version__",
    "classification_metrics",
    "load_benchmark",
    "load_table",
    "sample_per_class",
]
