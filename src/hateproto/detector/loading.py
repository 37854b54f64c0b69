"""Load what a :class:`~hateproto.detector.Detector` is made of: its model (a backbone, or a
fine-tuned classifier and its backbone), prototypes, early-exit thresholds and calibration,
from a model reference and folders (:func:`parts_from_model`) or from a detector folder
(:func:`parts_from_folder`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hateproto.detector.calibration import DetectorCalibration
from hateproto.detector.components import (
    ExitThresholds,
    load_classifier,
    load_prototypes,
    load_thresholds,
)
from hateproto.detector.manifest import DetectorManifest
from hateproto.detector.settings import DetectorSettings
from hateproto.early_exit.loading import is_classifier_checkpoint
from hateproto.errors import MismatchError, ModelError
from hateproto.models.backbone import Backbone
from hateproto.models.device import place
from hateproto.prototypes import PrototypeClassifier

__all__ = ["DetectorParts", "load_model", "parts_from_folder", "parts_from_model"]


@dataclass
class DetectorParts:
    """The loaded pieces of a detector; ``reference`` is the model reference they came from."""

    backbone: Backbone
    reference: str
    prototypes: PrototypeClassifier | None = None
    classifier: Any | None = None
    thresholds: ExitThresholds | None = None
    calibration: DetectorCalibration | None = None


def load_model(
    reference: str, dtype: str, with_head: bool, device: str | None = None
) -> tuple[Backbone, Any | None]:
    """Load ``reference`` as a backbone, or as a classifier (and its backbone) if asked, on
    ``device`` (default: ``$HATEPROTO_DEVICE`` or ``auto``)."""
    if with_head:
        if not is_classifier_checkpoint(reference):
            raise ModelError(
                f"{reference} has no classification head (hateproto_classifier.json); give "
                "prototypes too (--prototypes DIR) or use a fine-tuned classifier checkpoint"
            )
        classifier = place(load_classifier(reference, dtype), device)
        return classifier.backbone, classifier
    return Backbone.load(reference, dtype=dtype, device=device), None


def parts_from_model(
    model: str | None,
    prototypes: str | Path | None,
    settings: DetectorSettings,
    thresholds: str | Path | None = None,
) -> DetectorParts:
    """The model ``model`` and/or the prototypes folder ``prototypes`` (see
    :meth:`Detector.from_model`), plus early-exit ``thresholds`` from a folder if given."""
    if model is None and prototypes is None:
        raise ModelError("give a model, a prototypes folder, or both")
    if model is None:
        protos = load_prototypes(prototypes, None, settings.device)
        backbone, classifier = protos.backbone, None
        model = protos.backbone.info.name_or_path
    else:
        with_head = prototypes is None or is_classifier_checkpoint(model)
        backbone, classifier = load_model(model, settings.dtype, with_head, settings.device)
        protos = load_prototypes(prototypes, backbone) if prototypes is not None else None
    exits = load_thresholds(thresholds, backbone.fingerprint) if thresholds else None
    return DetectorParts(backbone, model, protos, classifier, exits)


def parts_from_folder(
    folder: Path, manifest: DetectorManifest, settings: DetectorSettings, model: str | None
) -> DetectorParts:
    """The pieces a detector folder names in its ``manifest``, on the recorded model (or on
    ``model``, which must have the recorded fingerprint)."""
    reference = model or manifest.model.reference
    with_head = manifest.prototypes is None or is_classifier_checkpoint(reference)
    backbone, classifier = load_model(
        reference, settings.dtype, with_head=with_head, device=settings.device
    )
    if backbone.fingerprint != manifest.model.fingerprint:
        raise MismatchError(
            f"{folder}: the detector was built on weights with fingerprint "
            f"{manifest.model.fingerprint}, but {reference} has {backbone.fingerprint}"
        )
    parts = DetectorParts(backbone, reference, classifier=classifier)
    if manifest.prototypes:
        parts.prototypes = load_prototypes(folder / manifest.prototypes, backbone)
    if manifest.thresholds:
        parts.thresholds = load_thresholds(folder / manifest.thresholds, backbone.fingerprint)
    if manifest.calibration:
        parts.calibration = DetectorCalibration.load(folder / manifest.calibration)
    return parts
