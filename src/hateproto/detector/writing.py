"""Write a :class:`~hateproto.detector.Detector` as a self-contained folder (format 2,
``docs/artifacts.md``): the one writer of detector folders, and of the two descriptions made
from the same facts (``detector.json``'s manifest and the JSON summary ``info()`` gives).

``detector.json`` (:class:`~.manifest.DetectorManifest`), the fine-tuned classifier in
``model/`` (written from memory, so the folder holds exactly what the detector runs, wherever
its checkpoint came from), ``prototypes/``, ``early_exit.json``, ``calibration.json``, stored
examples, and the sha256 of every file. Only the base model's weights are not copied: they are
named (alias, hub id or ``local:<folder name>``) with their fingerprint.

The folder is assembled beside its destination and swapped in atomically
(:func:`hateproto.outputs.replace_folder`), so a reader sees the old detector or the new one,
complete, never a mix. :mod:`.loading` reads what this writes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hateproto.detector.artifact import (
    MODEL_DIR,
    file_hashes,
    model_source,
    remember_base,
    write_classifier_copy,
)
from hateproto.detector.attributes import ATTRIBUTES_FILE
from hateproto.detector.calibration import CALIBRATION_FILE
from hateproto.detector.components import THRESHOLDS_FILE, save_prototypes, set_prototype_backbone
from hateproto.detector.manifest import FORMAT_VERSION, DetectorManifest, ModelRecord
from hateproto.detector.policy import policy_info
from hateproto.detector.routing import ROUTES_DIR
from hateproto.errors import ModelError
from hateproto.models.references import portable_name

Detector = Any
"""A :class:`~hateproto.detector.Detector` (not imported: the detector imports this module)."""

__all__ = [
    "PROTOTYPES_DIR",
    "base_reference",
    "describe",
    "detector_manifest",
    "write_detector",
]

PROTOTYPES_DIR = "prototypes"


def write_detector(detector: Detector, folder: str | Path) -> Path:
    """Write ``detector`` into ``folder`` atomically; returns the folder."""
    from hateproto.outputs import replace_folder

    base = base_reference(detector)
    written = replace_folder(folder, lambda staging: _write_parts(detector, staging, base))
    remember_base(base, _local_base_folder(detector), detector.backbone.fingerprint)
    return written


def _write_parts(detector: Detector, staging: Path, base: str | None) -> None:
    staging.mkdir(parents=True)
    if detector.classifier is not None:
        write_classifier_copy(detector.classifier, staging / MODEL_DIR, base)
    if detector.prototypes is not None:
        save_prototypes(detector.prototypes, staging / PROTOTYPES_DIR)
        name = base or portable_name(detector.model_reference)
        set_prototype_backbone(staging / PROTOTYPES_DIR, name)
    if detector.thresholds is not None:
        detector.thresholds.save(staging)
    if detector.calibration is not None:
        detector.calibration.save(staging)
    if detector.attribute_heads is not None:
        detector.attribute_heads.save(staging)
    if detector.neighbours is not None:
        detector.neighbours.save(staging)
    for language, routed in detector.routes.items():
        (staging / ROUTES_DIR).mkdir(exist_ok=True)
        write_detector(routed, staging / ROUTES_DIR / language)
    manifest = detector_manifest(detector)
    manifest.files = file_hashes(staging)
    manifest.write(staging)


def base_reference(detector: Detector) -> str | None:
    """The portable name of the base model ``detector``'s folder must name, or ``None`` when
    the folder holds all the weights (a fully fine-tuned or LoRA classifier)."""
    base = _base_source(detector)
    if base is None:
        return None
    return detector.base_model or portable_name(base)


def _base_source(detector: Detector) -> str | None:
    """The reference the base weights were loaded from (``None``: none is needed)."""
    extra = detector.backbone.info.extra
    if detector.classifier is not None:
        if getattr(detector.classifier.config, "mode", "full") in ("full", "lora"):
            return None
        return extra.get("base") if "checkpoint" in extra else detector.model_reference
    if "checkpoint" in extra:
        raise ModelError(
            f"{detector.model_reference} is a hateproto checkpoint without a classifier head; "
            "a detector folder can hold only a classifier checkpoint"
        )
    return detector.model_reference


def _local_base_folder(detector: Detector) -> str | None:
    """The local folder the base model was loaded from, if it is one (for this machine's
    index of local models, :mod:`hateproto.models.local_index`)."""
    source = _base_source(detector)
    path = Path(source).expanduser() if source else None
    return str(path.resolve()) if path is not None and path.is_dir() else None


def detector_manifest(detector: Detector) -> DetectorManifest:
    """The ``detector.json`` contents describing ``detector`` (without ``files``, which
    :func:`write_detector` adds)."""
    from hateproto.provenance import hateproto_version

    info = detector.backbone.info
    base = base_reference(detector)
    classifier = detector.classifier
    name = base or portable_name(str(getattr(classifier.config, "backbone", "model")))
    return DetectorManifest(
        format_version=FORMAT_VERSION,
        hateproto_version=hateproto_version(),
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        model=ModelRecord(
            reference=name,
            kind="classifier" if classifier is not None else "backbone",
            fingerprint=detector.backbone.fingerprint,
            family=info.family,
            num_layers=info.num_layers,
            hidden_size=info.hidden_size,
            source=model_source(base),
            checkpoint=MODEL_DIR if classifier is not None else None,
        ),
        settings=detector.settings,
        prototypes=PROTOTYPES_DIR if detector.prototypes is not None else None,
        thresholds=THRESHOLDS_FILE if detector.thresholds is not None else None,
        calibration=CALIBRATION_FILE if detector.calibration is not None else None,
        attributes=ATTRIBUTES_FILE if detector.attribute_heads is not None else None,
        routes={code: f"{ROUTES_DIR}/{code}" for code in detector.routes} or None,
        metadata=detector.metadata,
    )


def describe(detector: Detector) -> dict[str, Any]:
    """A JSON-ready summary of ``detector`` (``Detector.info``, ``/v1/info``, ``detector
    info``): model, prototypes, thresholds, settings, versions."""
    manifest = detector_manifest(detector)
    protos = None
    if detector.prototypes is not None:
        protos = {
            "layers": detector.prototypes.layers,
            "per_class": detector.prototypes.n_per_class_,
            "pooling": detector.prototypes.pooling,
            "temperature": detector.prototypes.temperature,
        }
    exits = detector.exit_thresholds()
    return {
        "format_version": manifest.format_version,
        "hateproto_version": manifest.hateproto_version,
        "model": manifest.model.model_dump(),
        "decision_layer": detector.decision_layer,
        "prototypes": protos,
        "early_exit": detector.settings.early_exit,
        "decides_with": detector.decides_with,
        "thresholds": None if exits is None else {str(k): v for k, v in exits.items()},
        "calibration": None
        if detector.calibration is None
        else {
            "threshold": detector.calibration.threshold,
            "language_thresholds": detector.calibration.language_thresholds or None,
            "other_languages_threshold": detector.calibration.other_languages_threshold,
            **{k: v for k, v in detector.calibration.dev.items() if k != "reliability"},
        },
        "attributes": None if detector.attribute_heads is None else detector.attribute_heads.info(),
        "languages": list(detector.facts().languages),
        "routes": {code: routed.version for code, routed in detector.routes.items()} or None,
        "settings": detector.settings.model_dump(),
        "metadata": detector.metadata,
        **policy_info(detector.metadata, detector.threshold, detector.calibration),
    }
