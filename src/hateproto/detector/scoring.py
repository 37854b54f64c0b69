"""How a detector turns texts into arrays of decisions (:class:`~.results.Scores`): the three ways
to compute them without the layer-by-layer engine (a classifier head, the last layer's
prototypes after one plain forward pass) or from the engine's result.

Scoring itself is the classifiers' job: the prototypes path calls
:func:`~hateproto.prototypes.classifier.cosine_similarities`,
:meth:`~hateproto.prototypes.PrototypeClassifier.proba_from_similarities` and
:func:`~hateproto.prototypes.classifier.similarity_margin`, so its numbers are the
:class:`~hateproto.prototypes.PrototypeClassifier`'s (and the early-exit engine's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hateproto.detector.results import Scores
from hateproto.models.backbone import Backbone
from hateproto.prototypes import PrototypeClassifier
from hateproto.prototypes.classifier import cosine_similarities, similarity_margin

__all__ = [
    "as_binary_proba",
    "score_at_last_layer",
    "score_with_head",
    "scores_from_engine",
]


def as_binary_proba(proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Columns (not hate, hate) from columns in ``classes`` order.

    Example:
        >>> as_binary_proba(np.array([[0.75, 0.25]]), np.array([1, 0])).tolist()
        [[0.25, 0.75]]
    """
    out = np.zeros((len(proba), 2), dtype=np.float64)
    for column, cls in enumerate(classes):
        out[:, int(cls)] = proba[:, column]
    return out


def scores_from_engine(result: Any) -> Scores:
    """:class:`Scores` from an :class:`~hateproto.early_exit.ExitResult`."""
    return Scores(
        labels=np.asarray(result.labels),
        proba=as_binary_proba(np.asarray(result.proba), np.asarray(result.classes)),
        margins=np.asarray(result.margins, dtype=np.float64),
        exit_layers=np.asarray(result.exit_layers),
    )


def score_at_last_layer(
    backbone: Backbone,
    prototypes: PrototypeClassifier,
    texts: list[str],
    batch_size: int,
    max_length: int,
) -> Scores:
    """The last layer's prototypes decide, after one plain forward pass of ``backbone``."""
    last = backbone.num_layers
    position = prototypes.layers.index(last)
    vectors = backbone.encode(
        texts,
        layers=[last],
        pooling=prototypes.pooling,
        layer_norm=prototypes.layer_norm,
        batch_size=batch_size,
        max_length=max_length,
    )
    sims = cosine_similarities(vectors, prototypes.prototypes_[position : position + 1])[:, 0]
    classes = np.asarray(prototypes.classes_)
    return Scores(
        labels=classes[sims.argmax(-1).numpy()],
        proba=as_binary_proba(prototypes.proba_from_similarities(sims), classes),
        margins=np.asarray(similarity_margin(sims), dtype=np.float64),
        exit_layers=np.full(len(texts), last),
    )


def score_with_head(
    classifier: Any, texts: list[str], num_layers: int, heads: Any | None = None
) -> Scores:
    """A fine-tuned classifier's head decides (every row runs all ``num_layers`` layers);
    attribute ``heads`` (:class:`~.attributes.AttributeHeads` reading the head's features)
    score the same pooled features: one pass of the encoder for all of them."""
    attributes = None
    if heads is None:
        proba = np.asarray(classifier.predict_proba(texts), dtype=np.float64)
    else:
        pooled = classifier.encode(texts)
        proba = np.asarray(classifier.proba_from_pooled(pooled), dtype=np.float64)
        attributes = heads.probabilities(pooled)
    ordered = np.sort(proba, axis=1)
    return Scores(
        labels=proba.argmax(axis=1),
        proba=proba,
        margins=ordered[:, -1] - ordered[:, -2],
        exit_layers=np.full(len(texts), num_layers),
        attributes=attributes,
    )
