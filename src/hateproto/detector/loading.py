"""Load what a :class:`~hateproto.detector.Detector` is made of: its model (a backbone, or a
fine-tuned classifier and its backbone), prototypes, early-exit thresholds and calibration,
from a model reference and folders (:func:`parts_from_model`) or from a detector folder
(:func:`parts_from_folder`).
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hateproto.detector.artifact import remember_base, resolve_base, verify_files
from hateproto.detector.attributes import AttributeHeads
from hateproto.detector.calibration import DetectorCalibration
from hateproto.detector.components import ExitThresholds, load_prototypes, load_thresholds
from hateproto.detector.manifest import DetectorManifest
from hateproto.detector.settings import DetectorSettings
from hateproto.errors import HateprotoError, MismatchError, ModelError
from hateproto.models.backbone import Backbone
from hateproto.models.references import substitute_model
from hateproto.prototypes import PrototypeClassifier
from hateproto.training.loading import load_model

__all__ = ["DetectorParts", "parts_from_folder", "parts_from_model"]


@dataclass
class DetectorParts:
    """The loaded pieces of a detector; ``reference`` is the model reference they came from,
    ``base`` the portable name of the base model a detector folder records (if any)."""

    backbone: Backbone
    reference: str
    prototypes: PrototypeClassifier | None = None
    classifier: Any | None = None
    thresholds: ExitThresholds | None = None
    calibration: DetectorCalibration | None = None
    base: str | None = None
    attribute_heads: AttributeHeads | None = None


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
        with_head = True if prototypes is None else None
        backbone, classifier = load_model(model, settings.dtype, settings.device, with_head)
        protos = load_prototypes(prototypes, backbone) if prototypes is not None else None
    exits = load_thresholds(thresholds, backbone.fingerprint) if thresholds else None
    return DetectorParts(backbone, model, protos, classifier, exits)


def parts_from_folder(
    folder: Path, manifest: DetectorManifest, settings: DetectorSettings, model: str | None
) -> DetectorParts:
    """The pieces a detector folder names in its ``manifest``, on the recorded model (or on
    ``model``, which must have the recorded fingerprint).

    A format-2 folder is checked file by file against its sha256 list before anything is
    loaded, and ``model`` stands for its base model only (the fine-tuned parts are inside);
    a format-1 folder loads its model from the recorded reference, with a warning.
    """
    if manifest.files is None:
        parts = _legacy_model(folder, manifest, settings, model)
    else:
        verify_files(folder, manifest.files)
        parts = _contained_model(folder, manifest, settings, model)
    _check_fingerprint(folder, manifest, parts, model)
    if manifest.files is not None and model is not None:
        remember_base(parts.base, model, manifest.model.fingerprint)
    backbone = parts.backbone
    if manifest.prototypes:
        parts.prototypes = load_prototypes(folder / manifest.prototypes, backbone)
    if manifest.thresholds:
        parts.thresholds = load_thresholds(folder / manifest.thresholds, backbone.fingerprint)
    if manifest.calibration:
        parts.calibration = DetectorCalibration.load(folder / manifest.calibration)
    if manifest.attributes:
        parts.attribute_heads = AttributeHeads.load(folder)
    return parts


def _contained_model(
    folder: Path, manifest: DetectorManifest, settings: DetectorSettings, model: str | None
) -> DetectorParts:
    """The model of a format-2 folder: its own checkpoint on the named base model."""
    record = manifest.model
    base = None
    if record.source != "included":
        base = resolve_base(folder, record.reference, record.fingerprint, model)
    if record.checkpoint is None:
        if base is None:
            raise ModelError(f"{folder / 'detector.json'}: model.checkpoint is missing")
        backbone, _ = load_model(base, settings.dtype, settings.device, with_head=False)
        return DetectorParts(backbone, base, base=record.reference)
    checkpoint = folder / record.checkpoint
    substitute = (
        substitute_model(record.reference, base) if base is not None else contextlib.nullcontext()
    )
    with substitute, damaged_checkpoint(checkpoint):
        backbone, classifier = load_model(checkpoint, settings.dtype, settings.device)
    modules = [getattr(classifier, "head", None)]
    if record.source == "included":
        modules.append(backbone.model)
    _check_finite(checkpoint, [m for m in modules if m is not None])
    return DetectorParts(backbone, str(checkpoint), classifier=classifier, base=record.reference)


def _check_finite(folder: Path, modules: list[Any]) -> None:
    """Refuse weights holding NaN or infinity (they would answer NaN for every text)."""
    import torch

    for module in modules:
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise ModelError(f"{folder}: the weights {name} hold NaN or infinite values")


@contextlib.contextmanager
def damaged_checkpoint(folder: Path) -> Any:
    """Turn any failure while loading a detector's own classifier copy into one line naming
    it: its files passed their sha256 check, so a failure means they were edited."""
    try:
        yield
    except HateprotoError:
        raise
    except Exception as exc:  # noqa: BLE001 - a deliberately edited file, any library error
        reason = " ".join(str(exc).split())[:200]
        raise ModelError(
            f"{folder}: the classifier checkpoint is damaged ({type(exc).__name__}: {reason})"
        ) from None


def _legacy_model(
    folder: Path, manifest: DetectorManifest, settings: DetectorSettings, model: str | None
) -> DetectorParts:
    """The model of a format-1 folder, from the reference it records."""
    warnings.warn(
        f"{folder} is a format-1 detector folder: not self-contained (its model is read from "
        f"{manifest.model.reference}, which a rebuild may have changed); rewrite it with "
        f"`hateproto detector upgrade {folder}`",
        UserWarning,
        stacklevel=4,
    )
    reference = model or manifest.model.reference
    with_head = True if manifest.prototypes is None else None
    backbone, classifier = load_model(reference, settings.dtype, settings.device, with_head)
    return DetectorParts(backbone, reference, classifier=classifier)


def _check_fingerprint(
    folder: Path, manifest: DetectorManifest, parts: DetectorParts, given: str | None
) -> None:
    if parts.backbone.fingerprint != manifest.model.fingerprint:
        raise MismatchError(
            f"{folder}: the detector was built on weights with fingerprint "
            f"{manifest.model.fingerprint}, but {given or parts.reference} gives "
            f"{parts.backbone.fingerprint}; give the model it was built on"
        )
