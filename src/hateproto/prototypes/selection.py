"""Choosing the decision layer of a :class:`PrototypeClassifier` on labelled dev data.

One rule, used by ``prototypes build --choose-layer-on``, ``detector build``, the quickstart
and the experiments, so that the same data always gives the same layer:

- the dev set is used whole when it has at most ``limit`` texts (default
  :data:`DEV_LIMIT`); a larger one is cut to ``limit // 2`` random texts per class (fewer where a
  class has fewer), drawn with ``seed``;
- every fitted layer classifies those texts by its nearest prototype;
- the layer with the highest macro-F1 wins; ties go to the shallower layer (cheaper to run).

Example:
    >>> choice = choose_layer(clf, dev_split)        # doctest: +SKIP
    >>> clf.default_layer = choice.chosen            # doctest: +SKIP
    >>> choice.as_metadata()["per_layer"]            # doctest: +SKIP
    {'1': 0.61, '2': 0.64, ...}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hateproto.data.sampling import sample_per_class
from hateproto.data.types import LabeledTexts
from hateproto.errors import HateprotoError
from hateproto.evaluation.metrics import classification_metrics

DEV_LIMIT = 2000
"""Most dev texts the layer choice encodes (a larger dev set is sampled per class)."""


@dataclass(frozen=True)
class LayerChoice:
    """The chosen layer and the dev macro-F1 of every candidate layer."""

    chosen: int
    per_layer: dict[int, float]
    dataset: str
    split: str
    n: int

    def as_metadata(self) -> dict[str, Any]:
        """JSON-ready record of the choice, as stored in prototype and detector folders."""
        return {
            "dataset": self.dataset,
            "split": self.split,
            "n": self.n,
            "metric": "macro_f1",
            "per_layer": {str(layer): round(f1, 4) for layer, f1 in self.per_layer.items()},
            "chosen": self.chosen,
        }


def per_layer_macro_f1(predictions: np.ndarray, labels: Sequence[int]) -> list[float]:
    """Macro-F1 of each column of ``predictions`` ``[N, layers]`` against ``labels``."""
    return [
        classification_metrics(labels, predictions[:, i])["macro_f1"]
        for i in range(predictions.shape[1])
    ]


def best_position(scores: Sequence[float]) -> int:
    """Index of the highest score; the first (shallowest layer) on ties."""
    if len(scores) == 0:
        raise HateprotoError("no prototype layers to choose from")
    return int(np.argmax(scores))


def limit_dev(dev: LabeledTexts, limit: int | None = DEV_LIMIT, seed: int = 0) -> LabeledTexts:
    """``dev`` itself, or ``limit // 2`` random texts per class when it is larger than ``limit``."""
    if limit and len(dev) > limit:
        return sample_per_class(dev, max(1, limit // 2), seed=seed, allow_fewer=True)
    return dev


def choose_layer(
    clf: Any,
    dev: LabeledTexts,
    *,
    limit: int | None = DEV_LIMIT,
    seed: int = 0,
    show_progress: bool = False,
) -> LayerChoice:
    """The fitted layer of ``clf`` with the best macro-F1 on ``dev`` (rule in the module doc).

    ``clf`` is a fitted :class:`~hateproto.prototypes.PrototypeClassifier`; it is not changed.
    """
    dev = limit_dev(dev, limit, seed)
    sims = clf.similarities_from_vectors(clf.encode(dev.texts, show_progress=show_progress))
    predictions = clf.classes_[sims.argmax(-1).cpu().numpy()]
    scores = per_layer_macro_f1(predictions, dev.labels)
    chosen = clf.layers[best_position(scores)]
    per_layer = dict(zip(clf.layers, scores, strict=True))
    return LayerChoice(chosen, per_layer, dev.name, dev.split, len(dev))
