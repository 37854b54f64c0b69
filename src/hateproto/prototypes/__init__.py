"""Per-layer class prototypes (HatePrototypes) and the classifier built on them."""

from hateproto.prototypes.classifier import (
    PrototypeClassifier,
    class_prototypes,
    cosine_similarities,
    similarity_margin,
)

__all__ = ["PrototypeClassifier", "class_prototypes", "cosine_similarities", "similarity_margin"]
