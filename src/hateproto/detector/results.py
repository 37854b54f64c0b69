"""What a :class:`~hateproto.detector.Detector` returns: one :class:`Prediction` per text, and
an :class:`Explanation` (per-layer similarities and margins) for one text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hateproto.data.types import LABEL_NAMES


@dataclass(frozen=True)
class Prediction:
    """The decision on one text.

    Attributes:
        label: ``"hate"`` or ``"not_hate"``.
        label_id: 1 for hate, 0 for not hate.
        hate_probability: probability of the hate class (softmax over prototype similarities
            divided by the temperature, or the fine-tuned head's probability).
        margin: top-1 minus top-2 similarity at the exit layer (for a classifier head: top-1
            minus top-2 probability); how sure the decision is.
        exit_layer: the layer the decision was taken at (1..L; L when the whole model ran).

    Example:
        >>> Prediction.from_scores(1, 0.91, 0.2, 4).to_dict()["label"]
        'hate'
    """

    label: str
    label_id: int
    hate_probability: float
    margin: float
    exit_layer: int

    @classmethod
    def from_scores(
        cls, label_id: int, hate_probability: float, margin: float, exit_layer: int
    ) -> Prediction:
        """Build a prediction from raw numbers (label name looked up from ``label_id``)."""
        return cls(
            label=LABEL_NAMES[int(label_id)],
            label_id=int(label_id),
            hate_probability=float(hate_probability),
            margin=float(margin),
            exit_layer=int(exit_layer),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


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
        return asdict(self)
