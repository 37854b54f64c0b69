"""Exit policies: which rows of a batch may leave after a layer.

A policy looks at one layer's pooled vectors (through a :class:`PooledView`, so it holds no
model code) and returns a :class:`Decision`: class probabilities, a margin and which rows
exit. At the last layer every remaining row exits with the policy's ``final`` scorer: the
fine-tuned head (:class:`~hateproto.early_exit.scorers.HeadScorer`) or the last layer's
prototypes for a frozen model.

* :class:`PrototypeMarginPolicy`: exit at the first layer where top-1 minus top-2 prototype
  similarity >= delta (HatePrototypes Eq. 3); one delta, or one per layer (calibrated).
* :class:`EntropyPolicy`: DeeBERT; exit when the layer gate's prediction entropy < threshold.
* :class:`PatiencePolicy`: PABEE; exit when ``patience`` consecutive gates agree.
* :class:`FixedLayerPolicy`: every row exits at one layer (e.g. prototypes at layer 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypedDict, Unpack

import torch

from hateproto.early_exit.scorers import LayerScorer, PoolSpec
from hateproto.errors import HateprotoError

Memory = dict[str, torch.Tensor]


class PooledView(Protocol):
    """Pooled float32 vectors ``[b, H]`` of the current layer for the rows still running."""

    def get(self, spec: PoolSpec) -> torch.Tensor:
        """Vectors pooled as ``spec`` asks."""
        ...


@dataclass
class Decision:
    """One layer's verdict for the rows still in the batch.

    Attributes:
        exit: ``[b]`` bool, rows that leave now.
        probs: ``[b, C]`` class probabilities (the prediction if the row exits).
        margin: ``[b]`` top-1 minus top-2 score of the deciding scorer.
    """

    exit: torch.Tensor
    probs: torch.Tensor
    margin: torch.Tensor


def _all_exit(scorer: LayerScorer, layer: int, view: PooledView) -> Decision:
    probs, margin = scorer.assess(layer, view.get(scorer.spec))
    return Decision(torch.ones(len(probs), dtype=torch.bool, device=probs.device), probs, margin)


class ExitPolicy:
    """Full depth: every row runs all ``num_layers`` layers and ``final`` decides.

    Subclasses add early exits by overriding :meth:`exit_layers` and :meth:`decide`.

    Args:
        final: the scorer used at the last layer for every row still running (``None`` only
            for policies that exit every row earlier).
        num_layers: ``L`` of the backbone.
    """

    name = "full_model"

    def __init__(self, final: LayerScorer | None, num_layers: int) -> None:
        if final is not None and num_layers not in final.layers:
            raise HateprotoError(
                f"the final scorer must cover the last layer {num_layers}; it has {final.layers}"
            )
        self.final = final
        self.num_layers = num_layers

    def exit_layers(self) -> list[int]:
        """Layers before ``L`` at which :meth:`decide` is called (empty: full depth)."""
        return []

    def init_memory(self, size: int) -> Memory:
        """Per-row state carried across layers (e.g. PABEE's agreement counter)."""
        return {}

    def decide(self, layer: int, view: PooledView, memory: Memory) -> Decision:
        """Decide at ``layer`` (one of :meth:`exit_layers`)."""
        raise HateprotoError(f"{type(self).__name__} does not exit at layer {layer}")

    def finish(self, view: PooledView) -> Decision:
        """The last layer: every row exits with the final scorer's prediction."""
        if self.final is None:
            raise HateprotoError(f"{type(self).__name__} has no final scorer for layer L")
        return _all_exit(self.final, self.num_layers, view)

    def scorers(self) -> list[LayerScorer]:
        """Every scorer the policy uses (to know which poolings to prepare)."""
        return [self.final] if self.final is not None else []

    def describe(self) -> dict[str, object]:
        """Name and settings, for results rows."""
        return {"method": self.name}

    def full_depth(self) -> ExitPolicy:
        """The same final prediction without early exits (the reference run for timing)."""
        if self.final is None:
            raise HateprotoError(f"{type(self).__name__} has no full-depth prediction")
        return ExitPolicy(self.final, self.num_layers)


def _deltas_by_layer(
    delta: float | Mapping[int, float], layers: list[int], known: list[int]
) -> dict[int, float]:
    """Delta of each early-exit layer in ``layers``; deltas for other ``known`` layers (the
    one where every row leaves anyway) are ignored, for unknown layers an error."""
    if isinstance(delta, Mapping):
        unknown = sorted(set(delta) - set(known))
        if unknown:
            raise HateprotoError(f"deltas given for layers {unknown} without prototypes ({known})")
        return {layer: float(delta.get(layer, math.inf)) for layer in layers}
    return dict.fromkeys(layers, float(delta))


class PrototypeMarginPolicy(ExitPolicy):
    """Exit at the first layer where the prototype margin is at least that layer's delta.

    Args:
        scorer: a :class:`~hateproto.early_exit.scorers.PrototypeScorer`.
        delta: one threshold for every layer, or ``{layer: delta}`` (missing layers: never;
            a delta for the last layer is ignored, every row leaves there). ``math.inf``
            never exits early: the result equals the final scorer's.
        final: scorer for rows still running at the last layer (default: ``scorer``, i.e.
            the last layer's prototypes). Without ``final`` and without prototypes for the
            last layer, every row still running leaves at the deepest prototype layer (the
            layers above it are never run).
        num_layers: ``L`` (default: the scorer's last layer).
        min_layer: no early exit before this layer.

    Example:
        >>> policy = PrototypeMarginPolicy(PrototypeScorer(protos), delta=0.05)  # doctest: +SKIP
    """

    name = "prototype_exit"

    def __init__(
        self,
        scorer: LayerScorer,
        delta: float | Mapping[int, float] = math.inf,
        final: LayerScorer | None = None,
        num_layers: int | None = None,
        min_layer: int = 1,
    ) -> None:
        num_layers = num_layers or max(scorer.layers)
        deepest = max(scorer.layers)
        stops_early = final is None and deepest < num_layers
        super().__init__(None if stops_early else (final or scorer), num_layers)
        self.scorer = scorer
        self.stop_layer = deepest if stops_early else num_layers
        candidates = [layer for layer in scorer.layers if 1 <= layer < self.stop_layer]
        self.deltas = _deltas_by_layer(delta, candidates, list(scorer.layers))
        for layer in self.deltas:
            if layer < min_layer:
                self.deltas[layer] = math.inf

    def exit_layers(self) -> list[int]:
        finite = [layer for layer, d in self.deltas.items() if math.isfinite(d)]
        return finite + ([self.stop_layer] if self.stop_layer < self.num_layers else [])

    def decide(self, layer: int, view: PooledView, memory: Memory) -> Decision:
        if layer == self.stop_layer:
            return _all_exit(self.scorer, layer, view)
        probs, margin = self.scorer.assess(layer, view.get(self.scorer.spec))
        return Decision(margin.double() >= self.deltas[layer], probs, margin)

    def scorers(self) -> list[LayerScorer]:
        return [self.scorer, *super().scorers()]

    def full_depth(self) -> ExitPolicy:
        if self.stop_layer < self.num_layers:
            return FixedLayerPolicy(self.scorer, self.stop_layer, self.num_layers)
        return super().full_depth()

    def describe(self) -> dict[str, object]:
        finite = {k: v for k, v in self.deltas.items() if math.isfinite(v)}
        values = set(self.deltas.values())
        return {
            "method": self.name,
            "delta": next(iter(values)) if len(values) == 1 else None,
            "deltas": finite,
        }


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Entropy in nats of each row of ``probs`` ``[b, C]``.

    Example:
        >>> round(float(entropy(torch.tensor([[0.5, 0.5]]))[0]), 4)
        0.6931
    """
    return -(probs * probs.clamp(min=1e-12).log()).sum(-1)


class GatePolicy(ExitPolicy):
    """Base of the policies that read per-layer gates (entropy, patience): the gates decide at
    every layer they cover below the last; ``final`` (default: the gates) at the last."""

    def __init__(
        self,
        gates: LayerScorer,
        final: LayerScorer | None = None,
        num_layers: int | None = None,
    ) -> None:
        num_layers = num_layers or max(gates.layers)
        super().__init__(final or gates, num_layers)
        self.gates = gates

    def exit_layers(self) -> list[int]:
        return [layer for layer in self.gates.layers if 1 <= layer < self.num_layers]

    def scorers(self) -> list[LayerScorer]:
        return [self.gates, *super().scorers()]


class GateOptions(TypedDict, total=False):
    """Keyword options of the gate policies (see :class:`GatePolicy`)."""

    final: LayerScorer | None
    num_layers: int | None


class EntropyPolicy(GatePolicy):
    """DeeBERT: exit when the entropy (nats) of the layer gate's prediction < ``threshold``."""

    name = "entropy"

    def __init__(self, gates: LayerScorer, threshold: float, **options: Unpack[GateOptions]):
        super().__init__(gates, **options)
        self.threshold = float(threshold)

    def decide(self, layer: int, view: PooledView, memory: Memory) -> Decision:
        probs, margin = self.gates.assess(layer, view.get(self.gates.spec))
        return Decision(entropy(probs).double() < self.threshold, probs, margin)

    def describe(self) -> dict[str, object]:
        return {"method": self.name, "threshold": self.threshold}


class PatiencePolicy(GatePolicy):
    """PABEE: a counter per row grows while each layer's gate predicts the same class as the
    previous layer's (and resets otherwise); the row exits when it reaches ``patience``."""

    name = "patience"

    def __init__(self, gates: LayerScorer, patience: int, **options: Unpack[GateOptions]):
        if patience < 1:
            raise HateprotoError(f"patience must be at least 1, got {patience}")
        super().__init__(gates, **options)
        self.patience = int(patience)

    def init_memory(self, size: int) -> Memory:
        return {
            "last": torch.full((size,), -1, dtype=torch.long),
            "count": torch.zeros(size, dtype=torch.long),
        }

    def decide(self, layer: int, view: PooledView, memory: Memory) -> Decision:
        probs, margin = self.gates.assess(layer, view.get(self.gates.spec))
        pred = probs.argmax(-1)
        count = torch.where(pred == memory["last"], memory["count"] + 1, 0)
        memory["last"], memory["count"] = pred, count
        return Decision(count >= self.patience, probs, margin)

    def describe(self) -> dict[str, object]:
        return {"method": self.name, "patience": self.patience}


class FixedLayerPolicy(ExitPolicy):
    """Every row exits at ``layer`` with ``scorer`` (a static shallow model); with
    ``layer == num_layers`` it is plain full-depth classification with ``scorer``."""

    name = "fixed_layer"

    def __init__(self, scorer: LayerScorer, layer: int, num_layers: int) -> None:
        if layer not in scorer.layers or not 1 <= layer <= num_layers:
            raise HateprotoError(f"cannot exit at layer {layer} with a scorer for {scorer.layers}")
        super().__init__(scorer if layer == num_layers else None, num_layers)
        self.scorer = scorer
        self.layer = layer

    def exit_layers(self) -> list[int]:
        return [self.layer] if self.layer < self.num_layers else []

    def decide(self, layer: int, view: PooledView, memory: Memory) -> Decision:
        return _all_exit(self.scorer, layer, view)

    def scorers(self) -> list[LayerScorer]:
        return [self.scorer]

    def describe(self) -> dict[str, object]:
        return {"method": self.name, "layer": self.layer}


# ---------------------------------------------------------------------- served policies
Thresholds = float | Mapping[int, float]
ServedPolicy = Callable[[LayerScorer, Thresholds, "LayerScorer | None", int, int], ExitPolicy]
"""Builds the exit policy a detector serves from its prototype ``scorer``, the thresholds
(one delta, or ``{layer: delta}``), the ``final`` scorer for rows that never exit (``None``:
the deepest prototypes), the model's depth ``L`` and the lowest exit layer."""


def margin_exit(
    scorer: LayerScorer,
    deltas: Thresholds,
    final: LayerScorer | None,
    num_layers: int,
    min_layer: int,
) -> ExitPolicy:
    """HatePrototypes' margin exit (:class:`PrototypeMarginPolicy`)."""
    return PrototypeMarginPolicy(
        scorer, deltas, final=final, num_layers=num_layers, min_layer=min_layer
    )


SERVED_POLICIES: dict[str, ServedPolicy] = {"margin": margin_exit}
"""The exit policies a detector can serve, by the name ``DetectorSettings.exit_policy``
(and ``detector.json``) gives. A new policy that works from prototypes and per-layer
thresholds is served once it is added here."""


def served_policy(name: str) -> ServedPolicy:
    """The builder registered as ``name`` in :data:`SERVED_POLICIES` (a clear error else)."""
    if name not in SERVED_POLICIES:
        raise HateprotoError(
            f"unknown exit policy {name!r}; known: {', '.join(sorted(SERVED_POLICIES))}"
        )
    return SERVED_POLICIES[name]
