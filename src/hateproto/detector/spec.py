"""How to load a detector, as a small picklable value (sent to Ray workers, used by the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hateproto.detector.detector import Detector
from hateproto.detector.settings import DetectorSettings
from hateproto.errors import ModelError


@dataclass(frozen=True)
class DetectorSpec:
    """A detector folder, or a model plus a prototypes folder, and settings to override.

    With a folder, ``model`` is the base model's folder on this machine (for a detector
    moved here whose base model is a local folder; see ``docs/artifacts.md``).

    Example:
        >>> spec = DetectorSpec(folder="detectors/ihc", overrides={"early_exit": True})
        >>> spec.load()  # doctest: +SKIP
    """

    folder: str | None = None
    model: str | None = None
    prototypes: str | None = None
    thresholds: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.folder is None and self.model is None and self.prototypes is None:
            raise ModelError(
                "give either a detector folder (--detector DIR), or a prototypes folder "
                "(--prototypes DIR, optionally with --model M), or a fine-tuned classifier "
                "checkpoint (--model DIR)"
            )
        if self.folder is not None and (self.prototypes or self.thresholds):
            raise ModelError("--prototypes/--thresholds go with --model, not with --detector")

    def load(self) -> Detector:
        """Load the detector this spec names."""
        overrides = {k: v for k, v in self.overrides.items() if v is not None}
        if self.folder is not None:
            return Detector.from_pretrained(self.folder, self.model, **overrides)
        settings = DetectorSettings.from_dict(overrides, source="detector options")
        return Detector.from_model(self.model, self.prototypes, settings, self.thresholds)
