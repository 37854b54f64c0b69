"""Layer scorers: from one layer's pooled vectors to class scores, probabilities and margins.

An exit policy asks a scorer, at a layer, for the class probabilities of the rows still in
the batch and for their margin (top-1 minus top-2 score). Three kinds:

* :class:`PrototypeScorer`: cosine similarity to that layer's class prototypes (HatePrototypes);
  the margin is the paper's Eq. 3 (top-1 minus top-2 similarity).
* :class:`GateScorer`: a small per-layer linear classifier (DeeBERT / PABEE off-ramps).
* :class:`HeadScorer`: a fine-tuned classifier's own head on the last layer (the full model).

Scorers hold no model code: they receive pooled float32 vectors ``[b, H]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from hateproto.errors import HateprotoError
from hateproto.prototypes.classifier import PrototypeClassifier

if TYPE_CHECKING:
    from hateproto.early_exit.gates import LayerGates
    from hateproto.models.backbone import Backbone


@dataclass(frozen=True)
class PoolSpec:
    """How a scorer wants token states pooled: ``pooling`` and decoder ``layer_norm``."""

    pooling: str
    layer_norm: str


def encode_per_spec(
    backbone: Backbone, texts: Sequence[str], specs: set[PoolSpec], **encode_options: Any
) -> dict[PoolSpec, torch.Tensor]:
    """Every layer's pooled vectors ``[N, L, H]`` of ``texts``, once per pooling spec (the
    input that :func:`~hateproto.early_exit.simulate_early_exit` takes). ``encode_options``
    go to :meth:`Backbone.encode` (batch size, max length, cache, progress bar)."""
    return {
        spec: backbone.encode(
            list(texts),
            layers="all",
            pooling=spec.pooling,
            layer_norm=spec.layer_norm,  # type: ignore[arg-type]
            **encode_options,
        )
        for spec in specs
    }


class LayerScorer(Protocol):
    """What a policy needs from a scorer."""

    spec: PoolSpec
    classes: np.ndarray
    layers: list[int]

    def scores(self, layer: int, pooled: torch.Tensor) -> torch.Tensor:
        """Raw class scores ``[b, C]`` (similarities or logits) at ``layer``."""
        ...

    def assess(self, layer: int, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Class probabilities ``[b, C]`` and margin ``[b]`` (top-1 minus top-2 score, the
        confidence that gates exits) at ``layer``."""
        ...


def top2_margin(values: torch.Tensor) -> torch.Tensor:
    """Top-1 minus top-2 value along the last axis.

    Example (values exact in binary floating point, so the output is exact too):
        >>> top2_margin(torch.tensor([[0.25, 0.5], [0.875, 0.125]])).tolist()
        [0.25, 0.75]
        >>> top2_margin(torch.tensor([[0.5, 0.125, 0.25], [0.0, 1.0, 0.5]])).tolist()
        [0.25, 0.5]
    """
    top = values.topk(2, dim=-1).values
    return top[..., 0] - top[..., 1]


def _check_layer(layer: int, layers: Sequence[int], what: str) -> int:
    if layer not in layers:
        raise HateprotoError(f"{what} has nothing for layer {layer}; it covers layers {layers}")
    return list(layers).index(layer)


class PrototypeScorer:
    """Cosine similarity to per-layer class prototypes of a fitted :class:`PrototypeClassifier`.

    ``probs`` is the classifier's softmax over similarities / temperature; ``margin`` is the
    top-1 minus top-2 similarity (Eq. 3 of HatePrototypes).
    """

    def __init__(self, prototypes: PrototypeClassifier) -> None:
        if prototypes.prototypes_ is None or prototypes.classes_ is None:
            raise HateprotoError("the PrototypeClassifier is not fitted: call fit() first")
        self.prototypes = prototypes
        self.spec = PoolSpec(prototypes.pooling, prototypes.layer_norm)
        self.classes = np.asarray(prototypes.classes_)
        self.layers = list(prototypes.layers)
        self.temperature = prototypes.temperature
        # float64, transposed per layer: [layers, H, C]; one copy per device asked for
        self._matrix = prototypes.prototypes_.double().transpose(1, 2).contiguous()
        self._on_device: dict[torch.device, torch.Tensor] = {self._matrix.device: self._matrix}

    def matrix(self, device: torch.device) -> torch.Tensor:
        """The prototypes ``[layers, H, C]`` (float64) on ``device``, copied there once."""
        if device not in self._on_device:
            self._on_device[device] = self._matrix.to(device)
        return self._on_device[device]

    def scores(self, layer: int, pooled: torch.Tensor) -> torch.Tensor:
        """Cosine similarities ``[b, C]`` to the prototypes of ``layer``.

        Like :func:`~hateproto.prototypes.classifier.cosine_similarities`: in float64, rounded
        once to float32, so the values equal the classifier's whatever the batch."""
        position = _check_layer(layer, self.layers, "the prototypes")
        unit = torch.nn.functional.normalize(pooled.double(), dim=-1)
        return (unit @ self.matrix(pooled.device)[position]).float()

    def assess(self, layer: int, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Softmax of similarities / temperature, and top-1 minus top-2 similarity."""
        sims = self.scores(layer, pooled)
        return torch.softmax(sims / self.temperature, dim=-1), top2_margin(sims)


class GateScorer:
    """Per-layer linear gates (see :class:`~hateproto.early_exit.gates.LayerGates`)."""

    def __init__(self, gates: LayerGates) -> None:
        self.gates = gates
        self.spec = PoolSpec(gates.pooling, gates.layer_norm)
        self.classes = np.asarray(gates.classes)
        self.layers = list(gates.layers)

    def scores(self, layer: int, pooled: torch.Tensor) -> torch.Tensor:
        """The gate's logits ``[b, C]`` (the gates follow ``pooled`` to its device)."""
        _check_layer(layer, self.layers, "the gates")
        if self.gates.mean.device != pooled.device:
            self.gates.to(pooled.device)
        return self.gates.logits(layer, pooled)

    def assess(self, layer: int, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Softmax of the gate's logits, and top-1 minus top-2 probability."""
        probs = torch.softmax(self.scores(layer, pooled), dim=-1)
        return probs, top2_margin(probs)


class HeadScorer:
    """A classification head applied to the pooled last layer (the full model's prediction).

    Args:
        logits_fn: pooled ``[b, H]`` → logits ``[b, C]``, e.g.
            ``HateClassifier.logits_from_pooled``.
        layer: the layer the head reads (normally the last one, ``L``).
        pooling, layer_norm: how the head's input is pooled (the checkpoint's settings).
        classes: label of each logit column (default ``[0, 1]``).
    """

    def __init__(
        self,
        logits_fn: Callable[[torch.Tensor], torch.Tensor],
        layer: int,
        pooling: str,
        layer_norm: str = "none",
        classes: Sequence[int] = (0, 1),
    ) -> None:
        self.logits_fn = logits_fn
        self.spec = PoolSpec(pooling, layer_norm)
        self.classes = np.asarray(classes)
        self.layers = [layer]
        self.source: Any = None  # the wrapped classifier, when built by from_classifier

    @classmethod
    def from_classifier(cls, classifier: Any) -> HeadScorer:
        """Wrap a fine-tuned ``HateClassifier``: its ``logits_from_pooled`` on the last layer,
        pooled with its ``pooling`` and its backbone's layer normalisation."""
        backbone = classifier.backbone

        def logits(pooled: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return classifier.logits_from_pooled(pooled).float()

        scorer = cls(
            logits,
            layer=backbone.num_layers,
            pooling=getattr(classifier, "pooling", None) or backbone.info.default_pooling,
            layer_norm=backbone.info.default_layer_norm,
        )
        scorer.source = classifier
        return scorer

    def scores(self, layer: int, pooled: torch.Tensor) -> torch.Tensor:
        """The head's logits ``[b, C]``, on ``pooled``'s device."""
        _check_layer(layer, self.layers, "the classification head")
        return self.logits_fn(pooled).float().to(pooled.device)

    def assess(self, layer: int, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Softmax of the head's logits, and top-1 minus top-2 probability."""
        probs = torch.softmax(self.scores(layer, pooled), dim=-1)
        return probs, top2_margin(probs)
