"""Seams between the detector and the pieces other hateproto modules own.

The detector reaches each part only through a function here, so it does not depend on their
internals:

* prototypes on disk: :func:`save_prototypes` / :func:`load_prototypes`
  (:meth:`PrototypeClassifier.save_pretrained` / ``from_pretrained``);
* early exit: :func:`fixed_layer_engine` and :func:`early_exit_engine` build an
  :class:`~hateproto.early_exit.EarlyExitClassifier` (layer-by-layer execution; rows leave
  the batch when they exit, so the layers above are not computed); thresholds are
  :class:`~hateproto.early_exit.ExitThresholds` (``early_exit.json``);
* models and fine-tuned classifier heads: :func:`hateproto.training.loading.load_model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hateproto.early_exit import (
    EarlyExitClassifier,
    ExitThresholds,
    FixedLayerPolicy,
    PrototypeScorer,
)
from hateproto.early_exit.thresholds import THRESHOLDS_FILE
from hateproto.errors import ModelError
from hateproto.models.backbone import Backbone
from hateproto.prototypes import PrototypeClassifier

__all__ = [
    "THRESHOLDS_FILE",
    "ExitThresholds",
    "early_exit_engine",
    "fixed_layer_engine",
    "load_prototypes",
    "load_thresholds",
    "save_prototypes",
]


# ---------------------------------------------------------------------- prototypes
def save_prototypes(classifier: PrototypeClassifier, folder: str | Path) -> None:
    """Write a fitted :class:`PrototypeClassifier` into ``folder`` (its own file format)."""
    if classifier.prototypes_ is None:
        raise ModelError("cannot save prototypes that are not fitted yet")
    classifier.save_pretrained(folder)


def set_prototype_backbone(folder: Path, reference: str) -> None:
    """Record ``reference`` (a portable model name) as the backbone of the prototypes saved in
    ``folder``, instead of the path they were built from."""
    import json

    from hateproto.outputs import atomic_write_text
    from hateproto.prototypes.files import SPEC_FILE

    path = folder / SPEC_FILE
    spec = json.loads(path.read_text(encoding="utf-8"))
    spec["backbone"] = reference
    atomic_write_text(path, json.dumps(spec, indent=1, ensure_ascii=False) + "\n")


def load_prototypes(
    folder: str | Path, backbone: Backbone | None, device: str | None = None
) -> PrototypeClassifier:
    """Read prototypes from ``folder`` and attach them to ``backbone`` (``None``: load the
    backbone the prototypes record, on ``device``).

    Raises :class:`~hateproto.errors.MismatchError` if they were built from other weights.
    """
    return PrototypeClassifier.from_pretrained(
        folder, backbone=backbone, device=device if backbone is None else None
    )


# ---------------------------------------------------------------------- early exit
def load_thresholds(folder: str | Path, fingerprint: str) -> ExitThresholds:
    """Calibrated per-layer thresholds from ``folder`` (refused if made for other weights)."""
    return ExitThresholds.load(folder, fingerprint=fingerprint)


def fixed_layer_engine(
    prototypes: PrototypeClassifier, layer: int, batch_size: int, max_length: int
) -> EarlyExitClassifier:
    """Every text decided by the prototypes of ``layer``; layers above it are not run."""
    backbone = prototypes.backbone
    policy = FixedLayerPolicy(PrototypeScorer(prototypes), layer, backbone.num_layers)
    return EarlyExitClassifier(backbone, policy, batch_size=batch_size, max_length=max_length)


def early_exit_engine(
    prototypes: PrototypeClassifier,
    thresholds: float | Mapping[int, float] | ExitThresholds,
    head: Any | None,
    batch_size: int,
    max_length: int,
    min_layer: int,
    refill: bool = False,
    exit_policy: str = "margin",
) -> EarlyExitClassifier:
    """Early exit by ``exit_policy`` (default the prototype margin); rows that never exit
    take ``head`` (a fine-tuned classifier) or the deepest prototypes; ``refill`` keeps
    batches full as rows exit."""
    return EarlyExitClassifier.from_prototypes(
        prototypes,
        thresholds,
        head=head,
        batch_size=batch_size,
        max_length=max_length,
        min_layer=min_layer,
        refill=refill,
        exit_policy=exit_policy,
    )
