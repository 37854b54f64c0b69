"""What a :class:`~hateproto.detector.Detector` returns, in one place.

* :class:`Prediction`: the decision on one text. It is *the* per-text result: the HTTP
  service answers it as it is (``/v1/classify``), the Perspective endpoint reads its
  ``hate_probability`` and ``attributes``, and ``classify`` files and Ray datasets get one
  column per field (:meth:`Scores.columns`). A field added here (and filled in
  :class:`Scores`) reaches all of them.
* :class:`Scores`: the same fields for a batch, as arrays (the fast path).
* :class:`DetectorFacts`: what a served detector says about itself (model, threshold,
  attributes, languages), typed, for the service and the Perspective endpoint.
* :class:`Explanation` / :class:`LayerExplanation`: why, per prototype layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from hateproto.data.types import LABEL_NAMES

DEFAULT_THRESHOLD = 0.5
"""The decision threshold on ``hate_probability`` of a detector without a calibration."""

DEFAULT_ATTRIBUTES: tuple[str, ...] = ("IDENTITY_ATTACK",)
"""The Perspective attributes a detector answers unless its metadata lists others."""

DEFAULT_LANGUAGES: tuple[str, ...] = ("en",)
"""The languages a detector answers unless its metadata lists others."""

HATE_ATTRIBUTE = "IDENTITY_ATTACK"
"""The Perspective attribute a detector's own hate probability answers."""

PERSPECTIVE_ATTRIBUTES: tuple[str, ...] = (
    "TOXICITY",
    "SEVERE_TOXICITY",
    "IDENTITY_ATTACK",
    "INSULT",
    "PROFANITY",
    "THREAT",
)
"""Perspective's six production attributes, in its documentation's order."""


class Prediction(BaseModel):
    """The decision on one text.

    Attributes:
        label: ``"hate"`` or ``"not_hate"``.
        hate_probability: probability of the hate class (calibrated when the detector has a
            calibration; else softmax over prototype similarities divided by the
            temperature, or the fine-tuned head's probability).
        margin: top-1 minus top-2 similarity at the exit layer (for a classifier head: top-1
            minus top-2 probability); how sure the decision is.
        exit_layer: the layer the decision was taken at (1..L; L when the whole model ran).
        attributes: probability per further attribute the detector answers (``None``: it
            answers hate only).
        language: the language the text was read as (``None``: not identified).

    Example:
        >>> Prediction.from_scores(1, 0.91, 0.2, 4).to_dict()
        {'label': 'hate', 'hate_probability': 0.91, 'margin': 0.2, 'exit_layer': 4}
    """

    model_config = ConfigDict(frozen=True)

    label: Literal["hate", "not_hate"]
    hate_probability: float = Field(..., ge=0.0, le=1.0)
    margin: float = Field(..., description="Top-1 minus top-2 similarity at the exit layer.")
    exit_layer: int = Field(..., description="Layer the decision was taken at (1..L).")
    attributes: dict[str, float] | None = Field(
        None, description="Probability per further attribute, when the detector has them."
    )
    language: str | None = Field(None, description="Language the text was read as.")

    @property
    def label_id(self) -> int:
        """1 for hate, 0 for not hate."""
        return LABEL_NAMES.index(self.label)

    @classmethod
    def from_scores(
        cls, label_id: int, hate_probability: float, margin: float, exit_layer: int, **more: Any
    ) -> Prediction:
        """A prediction from raw numbers (the label name looked up from ``label_id``); not
        validated, so a model failure (NaN) reaches the caller that can report it."""
        return cls.model_construct(
            label=LABEL_NAMES[int(label_id)],
            hate_probability=float(hate_probability),
            margin=float(margin),
            exit_layer=int(exit_layer),
            attributes=more.get("attributes"),
            language=more.get("language"),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (fields that are ``None`` left out)."""
        return self.model_dump(exclude_none=True)

    def attribute(self, name: str) -> float | None:
        """The probability of the Perspective attribute ``name``: ``hate_probability`` for
        :data:`HATE_ATTRIBUTE` (unless an attribute head answers it), else the attribute
        head's; ``None`` when the detector does not answer ``name``.

        Example:
            >>> p = Prediction.from_scores(0, 0.1, 0.3, 6, attributes={"INSULT": 0.7})
            >>> p.attribute("IDENTITY_ATTACK"), p.attribute("INSULT"), p.attribute("THREAT")
            (0.1, 0.7, None)
        """
        if self.attributes is not None and name in self.attributes:
            return self.attributes[name]
        return self.hate_probability if name == HATE_ATTRIBUTE else None


@dataclass
class Scores:
    """Decisions on a batch as arrays: the fields of :class:`Prediction`, one row per text.

    ``proba`` is ``[N, 2]`` (columns not_hate, hate); ``attributes`` maps an attribute name to
    ``[N]`` probabilities; the others are ``[N]``.
    """

    labels: np.ndarray
    proba: np.ndarray
    margins: np.ndarray
    exit_layers: np.ndarray
    attributes: dict[str, np.ndarray] | None = None
    languages: np.ndarray | None = None

    def columns(self) -> dict[str, np.ndarray | list[str]]:
        """One array per :class:`Prediction` field that is set (``attributes`` as one
        column per attribute), in field order: what files and datasets store."""
        out: dict[str, np.ndarray | list[str]] = {
            "label": [LABEL_NAMES[int(label)] for label in self.labels],
            "hate_probability": np.round(np.asarray(self.proba, dtype=np.float64)[:, 1], 6),
            "margin": np.round(np.asarray(self.margins, dtype=np.float64), 6),
            "exit_layer": np.asarray(self.exit_layers, dtype=np.int64),
        }
        for name, values in (self.attributes or {}).items():
            out[name] = np.round(np.asarray(values, dtype=np.float64), 6)
        if self.languages is not None:
            out["language"] = [str(code) for code in self.languages]
        return out

    def predictions(self) -> list[Prediction]:
        """One :class:`Prediction` per row."""
        hate = np.asarray(self.proba)[:, 1]
        out = []
        for row, (label, proba, margin, layer) in enumerate(
            zip(self.labels, hate, self.margins, self.exit_layers, strict=True)
        ):
            attributes = None
            if self.attributes is not None:
                attributes = {k: float(v[row]) for k, v in self.attributes.items()}
            language = None if self.languages is None else str(self.languages[row])
            more = {"attributes": attributes, "language": language}
            out.append(Prediction.from_scores(label, proba, margin, layer, **more))
        return out


BASE_COLUMNS: tuple[str, ...] = ("label", "hate_probability", "margin", "exit_layer")
"""The columns every scored file has (:meth:`Scores.columns` of a hate-only detector)."""


class DetectorFacts(BaseModel):
    """What a served detector says about itself, typed (read by the HTTP service and the
    Perspective endpoint instead of digging in :meth:`Detector.info`).

    Example:
        >>> DetectorFacts(model="minilm").threshold
        0.5
    """

    model_config = ConfigDict(frozen=True)

    model: str
    version: str = Field(
        "unsaved",
        description="the detector by name and content hash (``<name>@sha256:<12 hex>`` of its "
        "detector.json, which lists the sha256 of every file); ``unsaved`` for a detector "
        "that was never written to or read from a folder",
    )
    threshold: float = DEFAULT_THRESHOLD
    calibrated: bool = False
    attributes: tuple[str, ...] = DEFAULT_ATTRIBUTES
    languages: tuple[str, ...] = DEFAULT_LANGUAGES


@dataclass(frozen=True)
class LayerExplanation:
    """Similarity of a text to each class prototype at one layer.

    Attributes:
        layer: layer index (0 = embeddings, 1..L).
        similarities: cosine similarity per class name (``{"not_hate": .., "hate": ..}``).
        margin: top-1 minus top-2 similarity.
        label: the class with the highest similarity at this layer.
        threshold: the early-exit margin threshold of this layer, if the detector has one.
    """

    layer: int
    similarities: dict[str, float]
    margin: float
    label: str
    threshold: float | None = None


@dataclass(frozen=True)
class Explanation:
    """Why a detector decided what it did about one text.

    Attributes:
        text: the text.
        prediction: the detector's decision (as :meth:`Detector.predict_one` gives it).
        decision_layer: the layer used when early exit is off.
        layers: one :class:`LayerExplanation` per prototype layer, in layer order.
        neighbours: the stored examples nearest at the decision layer
            (:class:`~hateproto.detector.neighbours.Neighbour`), most similar first.
    """

    text: str
    prediction: Prediction
    decision_layer: int
    layers: list[LayerExplanation] = field(default_factory=list)
    neighbours: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        out = asdict(self)
        out["prediction"] = self.prediction.to_dict()
        return out
