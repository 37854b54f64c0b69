"""Per-layer class prototypes (HatePrototypes), the classifier built on them, and its files."""

from hateproto.prototypes.classifier import (
    PrototypeClassifier,
    class_prototypes,
    cosine_similarities,
    similarity_margin,
)
from hateproto.prototypes.files import PrototypeSpec

__all__ = [
    "PrototypeClassifier",
    "PrototypeSpec",
    "class_prototypes",
    "cosine_similarities",
    "similarity_margin",
]
