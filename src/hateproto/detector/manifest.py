"""``detector.json``: the versioned description of a detector folder.

A detector folder (format 2, a self-contained artifact; see ``docs/artifacts.md``) holds::

    detector.json        format_version, base model name and fingerprint, settings, metadata,
                         and ``files``: the sha256 of every other file
    model/               the fine-tuned classifier checkpoint (optional; head weights, or a
                         fully fine-tuned encoder)
    prototypes/          per-layer class prototypes (optional)
    early_exit.json      calibrated early-exit thresholds (optional)
    calibration.json     calibrated hate probability and decision threshold (optional)
    examples.*           stored prototype examples (optional)

Format 1 folders (no ``files``, the model referenced by absolute path, a classifier head
outside the folder) still load, with a warning; ``hateproto detector upgrade DIR`` rewrites
one as format 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hateproto.detector.settings import DetectorSettings
from hateproto.errors import ModelError
from hateproto.outputs import atomic_write_text, read_folder_json

MANIFEST_FILE = "detector.json"
FORMAT_VERSION = 2
"""Version of the detector folder layout written by this hateproto; readers accept <= this."""


class ModelRecord(BaseModel):
    """Which model a detector runs and the facts that identify it.

    ``reference`` names the base model: an alias (``minilm``), a hub id, or
    ``local:<folder name>`` (format 1: an absolute folder path); ``source`` says how it is
    found (``alias``, ``hub``, ``local``, or ``included``: the weights are in ``checkpoint``);
    ``checkpoint`` is the subfolder holding the fine-tuned classifier, if any;
    ``fingerprint`` (see :attr:`Backbone.fingerprint`, a hash of the configuration and the
    weights) guards against loading other weights.
    """

    model_config = ConfigDict(extra="forbid")

    reference: str
    kind: Literal["backbone", "classifier"]
    fingerprint: str
    family: str
    num_layers: int
    hidden_size: int
    source: Literal["alias", "hub", "local", "included"] | None = None
    checkpoint: str | None = None


class DetectorManifest(BaseModel):
    """Contents of ``detector.json``."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = FORMAT_VERSION
    hateproto_version: str
    created_at: str
    model: ModelRecord
    settings: DetectorSettings
    prototypes: str | None = None
    thresholds: str | None = None
    calibration: str | None = None
    attributes: str | None = Field(
        None, description="attribute heads file (attributes.json), when the detector has them"
    )
    routes: dict[str, str] | None = Field(
        None,
        description="language -> folder (inside this one) of the detector that scores the "
        "posts identified as that language (hateproto.detector.routing)",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, str] | None = None

    @property
    def self_contained(self) -> bool:
        """Whether this is a format-2 folder (every file listed with its sha256)."""
        return self.files is not None

    def write(self, folder: Path) -> None:
        """Write ``folder/detector.json`` atomically."""
        atomic_write_text(folder / MANIFEST_FILE, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def read(cls, folder: Path) -> DetectorManifest:
        """Read and validate ``folder/detector.json``; errors name the file and the problem."""
        path = folder / MANIFEST_FILE
        not_ours = (
            f"{folder} is not a detector folder (no {MANIFEST_FILE}); make one with "
            "`hateproto detector build`"
        )
        raw = read_folder_json(folder, MANIFEST_FILE, "detector folder", not_ours)
        version = raw.get("format_version") if isinstance(raw, dict) else None
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ModelError(
                f"{path}: format_version {version!r} is not supported by this hateproto "
                f"(it reads versions 1..{FORMAT_VERSION}); upgrade hateproto"
            )
        try:
            manifest = cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ModelError(f"{path} is invalid: {problems}") from None
        if version >= 2 and manifest.files is None:
            raise ModelError(f"{path} is invalid: format_version {version} needs 'files'")
        return manifest


def artifact_version(folder: Path) -> str:
    """``<folder name>@sha256:<12 hex>``: a detector folder by name and content hash. The
    hash is of ``detector.json``, which lists the sha256 of every other file, so any change to
    any file changes it; a moved or renamed copy keeps the hash."""
    import hashlib

    digest = hashlib.sha256((Path(folder) / MANIFEST_FILE).read_bytes()).hexdigest()
    return f"{Path(folder).name}@sha256:{digest[:12]}"
