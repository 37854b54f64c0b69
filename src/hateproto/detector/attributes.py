"""Further attributes from the features the detector already computes (Perspective's
TOXICITY, SEVERE_TOXICITY, INSULT, PROFANITY, THREAT): one two-layer head per attribute on the
detector's pooled features, each with its own Platt calibration and decision threshold.

No attribute costs a second pass of the encoder when the detector decides with its classifier
head: the pooled features that head reads are the heads' input too
(:func:`hateproto.detector.scoring.score_with_head`). A prototype-deciding detector computes
the features once more (the pooled prototype layers, each L2-normalised, concatenated).

Files in a detector folder: ``attributes.safetensors`` (the heads' weights, stacked) and
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

LEAKY_SLOPE = 0.01
"""Negative slope of the hidden layer's activation (``torch.nn.LeakyReLU``'s default, as in
:class:`hateproto.training.heads.MLPHead`, which the heads are trained as)."""

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
    """Two-layer heads, one per attribute, on pooled features: the score of head ``k`` is
    ``z = out_k . leaky_relu(dense_k x + b_k) + c_k`` and its probability
    ``sigmoid(platt_a * z + platt_b)``.

    Args:
        records: one :class:`HeadRecord` per head (name, Platt ``a``/``b``, threshold...).
        tensors: ``dense.weight [K, H, F]``, ``dense.bias [K, H]``, ``out.weight [K, H]``,
            ``out.bias [K]``, heads in ``records`` order.
        features: which features the heads read (``head``: a classifier's pooled features;
            ``prototype_layers``: the prototype layers, pooled, normalised, concatenated).
    """

    TENSORS = ("dense.weight", "dense.bias", "out.weight", "out.bias")

    def __init__(
        self,
        records: list[HeadRecord],
        tensors: dict[str, np.ndarray],
        features: str = "head",
    ) -> None:
        if set(tensors) != set(self.TENSORS):
            raise ModelError(f"attribute heads: expected tensors {', '.join(self.TENSORS)}")
        t = {k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()}
        k = len(records)
        dense = t["dense.weight"]
        if dense.ndim != 3 or dense.shape[0] != k:
            raise ModelError(f"attribute heads: dense.weight {dense.shape} does not fit {k} heads")
        h = dense.shape[1]
        expected = {"dense.bias": (k, h), "out.weight": (k, h), "out.bias": (k,)}
        for key, shape in expected.items():
            if t[key].shape != shape:
                raise ModelError(f"attribute heads: {key} {t[key].shape} does not fit {k} heads")
        names = [r.name for r in records]
        if len(set(names)) != len(names) or HATE_ATTRIBUTE in names:
            raise ModelError(f"attribute heads: names must be distinct and not {HATE_ATTRIBUTE}")
        if not all(np.isfinite(v).all() for v in t.values()):
            raise ModelError("attribute heads: weights must be finite")
        self.records = list(records)
        self.tensors = t
        self.features = features

    @property
    def names(self) -> tuple[str, ...]:
        """The attributes answered, in the order of their heads."""
        return tuple(r.name for r in self.records)

    @property
    def feature_size(self) -> int:
        """Width of the features the heads read."""
        return int(self.tensors["dense.weight"].shape[2])

    def probabilities(self, features: Any) -> dict[str, np.ndarray]:
        """Calibrated probability per attribute, ``[N]`` each, for features ``[N, F]``."""
        x = np.asarray(_as_numpy(features), dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.feature_size:
            raise ModelError(
                f"attribute heads read {self.feature_size} features per text; got {x.shape}"
            )
        z = np.stack([self.score(x, k) for k in range(len(self.records))], axis=1)
        a = np.array([r.platt_a for r in self.records], dtype=np.float64)
        c = np.array([r.platt_b for r in self.records], dtype=np.float64)
        p = 1.0 / (1.0 + np.exp(-(a * z.astype(np.float64) + c)))
        return {name: p[:, k] for k, name in enumerate(self.names)}

    def score(self, x: np.ndarray, k: int) -> np.ndarray:
        """Head ``k``'s uncalibrated score ``[N]`` for features ``x [N, F]`` (before Platt)."""
        t = self.tensors
        hidden = x @ t["dense.weight"][k].T + t["dense.bias"][k]
        hidden = np.where(hidden > 0, hidden, LEAKY_SLOPE * hidden)
        return hidden @ t["out.weight"][k] + t["out.bias"][k]

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
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.tensors.items()}
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
        try:
            heads = cls(record.heads, tensors, record.features)
        except ModelError as exc:
            raise ModelError(f"{folder / WEIGHTS_FILE}: {exc}") from None
        if heads.feature_size != record.feature_size:
            raise ModelError(
                f"{path}: feature_size {record.feature_size} but the weights have "
                f"{heads.feature_size} columns"
            )
        return heads

    @classmethod
    def untrained(
        cls,
        names: tuple[str, ...],
        feature_size: int,
        seed: int = 0,
        features: str = "head",
        hidden: int = 8,
    ) -> AttributeHeads:
        """Heads with random weights (for tests of the plumbing; their scores mean nothing)."""
        rng = np.random.default_rng(seed)
        k = len(names)
        tensors = {
            "dense.weight": rng.normal(0.0, 1.0 / np.sqrt(feature_size), (k, hidden, feature_size)),
            "dense.bias": np.zeros((k, hidden)),
            "out.weight": rng.normal(0.0, 1.0 / np.sqrt(hidden), (k, hidden)),
            "out.bias": np.zeros(k),
        }
        records = [HeadRecord(name=n, definition="untrained (random weights)") for n in names]
        return cls(records, tensors, features)


def _as_numpy(features: Any) -> np.ndarray:
    if hasattr(features, "detach"):
        return features.detach().float().cpu().numpy()
    return np.asarray(features)
