"""Per-layer class prototypes (HatePrototypes), the classifier built on them, and its files.

* :mod:`~hateproto.prototypes.similarity`: class means and cosine similarities (the maths);
* :class:`PrototypeClassifier`: the scikit-learn-style estimator built on them;
* :mod:`~hateproto.prototypes.files`: ``prototypes.json`` + ``prototypes.safetensors``.
"""

from hateproto.prototypes.classifier import PrototypeClassifier
from hateproto.prototypes.files import PrototypeSpec
from hateproto.prototypes.similarity import (
    class_prototypes,
    cosine_similarities,
    similarity_margin,
)

__all__ = [
    "PrototypeClassifier",
    "PrototypeSpec",
    "class_prototypes",
    "cosine_similarities",
    "similarity_margin",
]
