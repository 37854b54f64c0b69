"""Seams between the detector and the pieces built elsewhere in hateproto.

The detector uses three parts that other modules own; each is reached only through a function
here, so that the detector does not depend on their internals:

* prototypes on disk: :func:`save_prototypes` / :func:`load_prototypes`;
* early-exit thresholds: :class:`ExitThresholds` and :func:`first_confident_layer`;
* fine-tuned classifier heads: :func:`is_classifier_checkpoint` / :func:`load_classifier`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from hateproto.errors import ModelError
from hateproto.experiments import atomic_write_text
from hateproto.models.backbone import Backbone
from hateproto.prototypes import PrototypeClassifier
from hateproto.training.classifier import CLASSIFIER_FILE


# ---------------------------------------------------------------------- prototypes
def save_prototypes(classifier: PrototypeClassifier, folder: str | Path) -> None:
    """Write a fitted :class:`PrototypeClassifier` into ``folder`` (its own file format)."""
    if classifier.prototypes_ is None:
        raise ModelError("cannot save prototypes that are not fitted yet")
    classifier.save_pretrained(folder)


def load_prototypes(folder: str | Path, backbone: Backbone | None) -> PrototypeClassifier:
    """Read prototypes from ``folder`` and attach them to ``backbone`` (``None``: load the
    backbone the prototypes record).

    Raises :class:`~hateproto.errors.MismatchError` if they were built from other weights.
    """
    return PrototypeClassifier.from_pretrained(folder, backbone=backbone)


# ---------------------------------------------------------------------- early exit
THRESHOLDS_FILE = "thresholds.json"


@dataclass
class ExitThresholds:
    """Per-layer margin thresholds for early exit (``{layer: threshold}``).

    Example:
        >>> ExitThresholds({2: 0.1, 4: 0.05}).for_layer(4)
        0.05
    """

    by_layer: dict[int, float]
    metadata: dict[str, Any] | None = None

    def for_layer(self, layer: int) -> float | None:
        """The threshold of ``layer``, or ``None`` if that layer may not exit."""
        return self.by_layer.get(int(layer))

    @classmethod
    def uniform(cls, delta: float, layers: list[int]) -> ExitThresholds:
        """One threshold ``delta`` for every layer in ``layers``."""
        return cls({int(layer): float(delta) for layer in layers}, {"delta": delta})

    def save(self, folder: str | Path) -> None:
        """Write ``thresholds.json`` into ``folder``."""
        payload = {
            "by_layer": {str(k): v for k, v in self.by_layer.items()},
            "metadata": self.metadata or {},
        }
        atomic_write_text(Path(folder) / THRESHOLDS_FILE, json.dumps(payload, indent=2))

    @classmethod
    def load(cls, folder: str | Path) -> ExitThresholds:
        """Read ``thresholds.json`` from ``folder``."""
        path = Path(folder) / THRESHOLDS_FILE
        if not path.is_file():
            raise ModelError(f"{path}: early-exit thresholds not found")
        payload = json.loads(path.read_text())
        by_layer = {int(k): float(v) for k, v in payload["by_layer"].items()}
        return cls(by_layer, payload.get("metadata") or {})


def first_confident_layer(
    margins: torch.Tensor, layers: list[int], thresholds: ExitThresholds, min_layer: int
) -> torch.Tensor:
    """Position (index into ``layers``) of the first layer whose margin clears its threshold.

    ``margins`` is ``[N, len(layers)]``; rows that never clear a threshold get the last layer.

    Example:
        >>> m = torch.tensor([[0.01, 0.3], [0.2, 0.4]])
        >>> first_confident_layer(m, [1, 2], ExitThresholds.uniform(0.1, [1, 2]), 1).tolist()
        [1, 0]
    """
    allowed = torch.tensor(
        [thresholds.for_layer(layer) is not None and layer >= min_layer for layer in layers]
    )
    limits = torch.tensor([thresholds.for_layer(layer) or 0.0 for layer in layers])
    confident = (margins >= limits) & allowed
    confident[:, -1] = True
    return confident.to(torch.int64).argmax(dim=1)


# ---------------------------------------------------------------------- classifier heads
def is_classifier_checkpoint(reference: str | Path) -> bool:
    """True if ``reference`` is a fine-tuned checkpoint folder with a classification head."""
    path = Path(str(reference)).expanduser()
    return path.is_dir() and (path / CLASSIFIER_FILE).is_file()


def load_classifier(reference: str | Path, dtype: str) -> Any:
    """Load a fine-tuned :class:`~hateproto.training.HateClassifier` checkpoint (it exposes
    ``.backbone`` and ``predict_proba(texts)``)."""
    from hateproto.training import HateClassifier

    return HateClassifier.from_pretrained(str(reference), dtype=dtype)
