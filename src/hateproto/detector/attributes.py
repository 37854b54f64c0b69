"""Further attributes from the features the detector already computes (Perspective's
TOXICITY, SEVERE_TOXICITY, INSULT, PROFANITY, THREAT): one linear head per attribute on the
detector's pooled features, each with its own Platt calibration and decision threshold.

No attribute costs a second pass of the encoder when the detector decides with its classifier
head: the pooled features that head reads are the heads' input too
(:func:`hateproto.detector.scoring.score_with_head`). A prototype-deciding detector computes
the features once more (the pooled prototype layers, each L2-normalised, concatenated).

Files in a detector folder: ``attributes.safetensors`` (``weight [K, F]``, ``bias [K]``) and
``attributes.json`` (names, calibration, thresholds, feature width, and what each head was
trained on), both listed with their sha256 in ``detector.json``.

Example:
    >>> heads = AttributeHeads.untrained(("TOXICITY", "INSULT"), feature_size=4, seed=0)
    >>> sorted(heads.probabilities(np.ones((2, 4), dtype=np.float32)))
    ['INSULT', 'TOXICITY']
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError

from hateproto.detector.results import HATE_ATTRIBUTE, PERSPECTIVE_ATTRIBUTES
from hateproto.errors import ModelError

ATTRIBUTES_FILE = "attributes.json"
WEIGHTS_FILE = "attributes.safetensors"

Probability = Annotated[FiniteFloat, Field(ge=0.0, le=1.0)]


class HeadRecord(BaseModel):
    """One attribute head's calibration, threshold and provenance (``attributes.json``)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    platt_a: FiniteFloat = 1.0
    platt_b: FiniteFloat = 0.0
    threshold: Probability = 0.5
    definition: str = ""
    sources: list[dict[str, str]] = Field(default_factory=list)
    dev: dict[str, Any] = Field(default_factory=dict)


class HeadsFile(BaseModel):
    """The checked contents of ``attributes.json``."""

    model_config = ConfigDict(extra="forbid")

    feature_size: int = Field(..., ge=1)
    features: str = Field(..., description="head: the classifier's pooled features")
    heads: list[HeadRecord] = Field(..., min_length=1)


class AttributeHeads:
    """Linear heads ``sigmoid(a * (w . x + b) + c)``, one per attribute, on pooled features.

    Args:
        records: one :class:`HeadRecord` per head (name, Platt ``a``/``c``, threshold...).
        weight: ``[K, F]`` head weights, rows in ``records`` order.
        bias: ``[K]``.
        features: which features the heads read (``head``: a classifier's pooled features;
            ``prototype_layers``: the prototype layers, pooled, normalised, concatenated).
    """

    def __init__(
        self,
        records: list[HeadRecord],
        weight: np.ndarray,
        bias: np.ndarray,
        features: str = "head",
    ) -> None:
        weight = np.asarray(weight, dtype=np.float32)
        bias = np.asarray(bias, dtype=np.float32)
        names = [r.name for r in records]
        if weight.ndim != 2 or weight.shape[0] != len(records) or bias.shape != (len(records),):
            raise ModelError(
                f"attribute heads: weight {weight.shape} and bias {bias.shape} do not fit "
                f"{len(records)} heads"
            )
        if len(set(names)) != len(names) or HATE_ATTRIBUTE in names:
            raise ModelError(f"attribute heads: names must be distinct and not {HATE_ATTRIBUTE}")
        if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
            raise ModelError("attribute heads: weights must be finite")
        self.records = list(records)
        self.weight = weight
        self.bias = bias
        self.features = features

    @property
    def names(self) -> tuple[str, ...]:
        """The attributes answered, in the order of their heads."""
        return tuple(r.name for r in self.records)

    @property
    def feature_size(self) -> int:
        """Width of the features the heads read."""
        return int(self.weight.shape[1])

    def probabilities(self, features: Any) -> dict[str, np.ndarray]:
        """Calibrated probability per attribute, ``[N]`` each, for features ``[N, F]``."""
        x = np.asarray(_as_numpy(features), dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.feature_size:
            raise ModelError(
                f"attribute heads read {self.feature_size} features per text; got {x.shape}"
            )
        z = x @ self.weight.T + self.bias
        a = np.array([r.platt_a for r in self.records], dtype=np.float64)
        c = np.array([r.platt_b for r in self.records], dtype=np.float64)
        p = 1.0 / (1.0 + np.exp(-(a * z.astype(np.float64) + c)))
        return {name: p[:, k] for k, name in enumerate(self.names)}

    def answered(self) -> tuple[str, ...]:
        """Every Perspective attribute a detector with these heads answers (its own hate
        probability as ``IDENTITY_ATTACK``), in Perspective's order."""
        known = {HATE_ATTRIBUTE, *self.names}
        ordered = [a for a in PERSPECTIVE_ATTRIBUTES if a in known]
        return tuple(ordered + sorted(known - set(ordered)))

    def info(self) -> dict[str, Any]:
        """JSON-ready summary (``detector info``): per head, threshold, definition, data,
        dev figures."""
        return {
            "features": self.features,
            "heads": {r.name: r.model_dump(exclude={"name"}) for r in self.records},
        }

    # ------------------------------------------------------------------ files
    def save(self, folder: Path) -> None:
        """Write ``attributes.json`` and ``attributes.safetensors`` into ``folder``."""
        import torch
        from safetensors.torch import save_file

        from hateproto.outputs import atomic_write_text

        record = HeadsFile(
            feature_size=self.feature_size, features=self.features, heads=self.records
        )
        tensors = {"weight": torch.from_numpy(self.weight), "bias": torch.from_numpy(self.bias)}
        save_file(tensors, str(folder / WEIGHTS_FILE))
        atomic_write_text(folder / ATTRIBUTES_FILE, record.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> AttributeHeads:
        """Read the heads of a detector folder; a damaged file is refused in one line."""
        import json

        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        path = folder / ATTRIBUTES_FILE
        try:
            record = HeadsFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
            tensors = load_file(str(folder / WEIGHTS_FILE))
        except (OSError, ValueError, ValidationError, SafetensorError) as exc:
            problem = str(exc).splitlines()[0]
            raise ModelError(f"{path}: not a valid attribute heads file ({problem})") from None
        if set(tensors) != {"weight", "bias"}:
            raise ModelError(f"{folder / WEIGHTS_FILE}: expected tensors weight and bias")
        heads = cls(record.heads, tensors["weight"], tensors["bias"], record.features)
        if heads.feature_size != record.feature_size:
            raise ModelError(
                f"{path}: feature_size {record.feature_size} but the weights have "
                f"{heads.feature_size} columns"
            )
        return heads

    @classmethod
    def untrained(
        cls, names: tuple[str, ...], feature_size: int, seed: int = 0, features: str = "head"
    ) -> AttributeHeads:
        """Heads with random weights (for tests of the plumbing; their scores mean nothing)."""
        rng = np.random.default_rng(seed)
        weight = rng.normal(0.0, 1.0 / np.sqrt(feature_size), (len(names), feature_size))
        records = [HeadRecord(name=n, definition="untrained (random weights)") for n in names]
        return cls(records, weight, np.zeros(len(names)), features)


def _as_numpy(features: Any) -> np.ndarray:
    if hasattr(features, "detach"):
        return features.detach().float().cpu().numpy()
    return np.asarray(features)
