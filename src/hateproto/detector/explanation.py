"""Per-layer explanations of one text: similarity to each class prototype, margin, label and
the early-exit threshold at every prototype layer (behind :meth:`Detector.explain`).

The numbers come from the :class:`~hateproto.prototypes.PrototypeClassifier` itself
(:meth:`~hateproto.prototypes.PrototypeClassifier.similarities_from_vectors` and
:func:`~hateproto.prototypes.classifier.similarity_margin`).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from hateproto.data.types import LABEL_NAMES
from hateproto.detector.results import LayerExplanation
from hateproto.prototypes import PrototypeClassifier
from hateproto.prototypes.classifier import similarity_margin

__all__ = ["layer_explanations"]


def layer_explanations(
    prototypes: PrototypeClassifier,
    vectors: torch.Tensor,
    exits: Mapping[int, float] | None,
) -> list[LayerExplanation]:
    """One :class:`LayerExplanation` per prototype layer for the first row of ``vectors``
    (``[N, len(prototypes.layers), H]``); ``exits`` are the early-exit thresholds in use
    (``None``: early exit is off)."""
    sims = prototypes.similarities_from_vectors(vectors)[0]
    margins = similarity_margin(sims)
    names = [LABEL_NAMES[int(c)] for c in prototypes.classes_]
    return [
        LayerExplanation(
            layer=layer,
            similarities={n: float(v) for n, v in zip(names, sims[position].tolist(), strict=True)},
            margin=float(margins[position]),
            label=names[int(sims[position].argmax())],
            threshold=None if exits is None else exits.get(layer),
        )
        for position, layer in enumerate(prototypes.layers)
    ]
