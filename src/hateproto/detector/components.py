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

import numpy as np
import torch

from hateproto.errors import ModelError
from hateproto.experiments import atomic_write_text
from hateproto.models.backbone import Backbone
from hateproto.prototypes import PrototypeClassifier

CLASSIFIER_FILE = "hateproto_classifier.json"
"""A checkpoint folder holding this file has a fine-tuned classification head."""


# ---------------------------------------------------------------------- prototypes
_PROTO_TENSORS = "prototypes.safetensors"
_PROTO_META = "prototypes.json"


def save_prototypes(classifier: PrototypeClassifier, folder: str | Path) -> None:
    """Write a fitted :class:`PrototypeClassifier` into ``folder``."""
    from safetensors.torch import save_file

    if classifier.prototypes_ is None or classifier.classes_ is None:
        raise ModelError("cannot save prototypes that are not fitted yet")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / (_PROTO_TENSORS + ".partial")
    save_file({"prototypes": classifier.prototypes_.contiguous()}, str(partial))
    partial.replace(folder / _PROTO_TENSORS)
    meta = {
        "layers": classifier.layers,
        "classes": [int(c) for c in classifier.classes_],
        "pooling": classifier.pooling,
        "layer_norm": classifier.layer_norm,
        "normalize": classifier.normalize,
        "temperature": classifier.temperature,
        "n_per_class": {str(k): v for k, v in classifier.n_per_class_.items()},
        "backbone_fingerprint": classifier.backbone.fingerprint,
        "metadata": classifier.metadata,
    }
    atomic_write_text(folder / _PROTO_META, json.dumps(meta, indent=2, default=str))


def load_prototypes(folder: str | Path, backbone: Backbone) -> PrototypeClassifier:
    """Read prototypes written by :func:`save_prototypes` and attach them to ``backbone``.

    Raises :class:`~hateproto.errors.MismatchError` if they were built from other weights.
    """
    from safetensors.torch import load_file

    from hateproto.errors import MismatchError

    folder = Path(folder)
    meta_path, tensor_path = folder / _PROTO_META, folder / _PROTO_TENSORS
    if not meta_path.is_file() or not tensor_path.is_file():
        raise ModelError(
            f"{folder}: no prototypes here (expected {_PROTO_META} and {_PROTO_TENSORS})"
        )
    meta = json.loads(meta_path.read_text())
    if meta["backbone_fingerprint"] != backbone.fingerprint:
        raise MismatchError(
            f"{folder}: prototypes were built from a model with fingerprint "
            f"{meta['backbone_fingerprint']}, but {backbone.info.name_or_path} has "
            f"{backbone.fingerprint}"
        )
    clf = PrototypeClassifier(
        backbone,
        layers=meta["layers"],
        pooling=meta["pooling"],
        layer_norm=meta["layer_norm"],
        normalize=meta["normalize"],
        temperature=meta["temperature"],
    )
    clf.prototypes_ = load_file(str(tensor_path))["prototypes"].float()
    clf.classes_ = np.asarray(meta["classes"], dtype=np.int64)
    clf.n_per_class_ = {int(k): int(v) for k, v in meta["n_per_class"].items()}
    clf.metadata = dict(meta.get("metadata") or {})
    return clf


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
    """Load a fine-tuned ``HateClassifier`` checkpoint (it exposes ``.backbone`` and
    ``predict_proba(texts)``)."""
    try:
        from hateproto.training import HateClassifier  # type: ignore[attr-defined]
    except ImportError as exc:
        raise ModelError(
            f"{reference} is a fine-tuned classifier checkpoint, but this hateproto has no "
            f"training module to load it ({exc})"
        ) from None
    return HateClassifier.from_pretrained(str(reference))
