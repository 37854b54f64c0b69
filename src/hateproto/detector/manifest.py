"""``detector.json``: the versioned description of a detector folder.

A detector folder holds::

    detector.json        format_version, model reference and facts, settings, metadata
    prototypes/          per-layer class prototypes (optional)
    early_exit.json      calibrated early-exit thresholds (optional)
    calibration.json     calibrated hate probability and decision threshold (optional)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hateproto.detector.settings import DetectorSettings
from hateproto.errors import ModelError
from hateproto.outputs import atomic_write_text, read_folder_json

MANIFEST_FILE = "detector.json"
FORMAT_VERSION = 1
"""Version of the detector folder layout written by this hateproto; readers accept <= this."""


class ModelRecord(BaseModel):
    """Which model a detector runs and the facts that identify it.

    ``reference`` is an alias (``minilm``), a hub id, or an absolute folder path;
    ``fingerprint`` (see :attr:`Backbone.fingerprint`) guards against loading other weights.
    """

    model_config = ConfigDict(extra="forbid")

    reference: str
    kind: Literal["backbone", "classifier"]
    fingerprint: str
    family: str
    num_layers: int
    hidden_size: int


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
    metadata: dict[str, Any] = Field(default_factory=dict)

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
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ModelError(f"{path} is invalid: {problems}") from None
