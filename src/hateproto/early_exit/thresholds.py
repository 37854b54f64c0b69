"""Per-layer early-exit thresholds chosen on dev (HatePrototypes' future work). "Calibration"
in hateproto means probability calibration (:mod:`hateproto.detector.calibration`); exit
thresholds are *chosen*, here.

Given, on a dev set, every layer's prototype margin and prediction and the full model's
prediction, choose one delta per layer so that the mean exit layer is as low as possible while
the macro-F1 loss against the full model stays within a budget. The search starts from the
best single delta within the budget and then improves one layer at a time (coordinate
descent over candidate deltas taken from that layer's margin quantiles), so it is never worse
on dev than one global delta. The thresholds are saved as ``early_exit.json`` beside the
prototypes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hateproto.data.types import LabeledTexts
from hateproto.early_exit.scorers import LayerScorer, encode_per_spec
from hateproto.errors import HateprotoError, MismatchError
from hateproto.outputs import atomic_write_text
from hateproto.prototypes.classifier import PrototypeClassifier

THRESHOLDS_FILE = "early_exit.json"
THRESHOLDS_FORMAT = 1
LEGACY_FILE = "thresholds.json"
"""Also read: ``{"by_layer": {layer: delta}, "metadata": {...}}`` as a detector folder holds."""


def simulate_margin_exits(
    margins: np.ndarray, preds: np.ndarray, final_pred: np.ndarray, deltas: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exit positions and predictions for per-layer ``deltas``.

    Args:
        margins, preds: ``[N, K]`` margin and prediction at each candidate exit layer.
        final_pred: ``[N]`` prediction of rows that never exit early.
        deltas: ``[K]`` thresholds (``inf``: no exit at that layer).

    Returns:
        ``position`` ``[N]`` (0..K-1, or K for "ran to the end") and predictions ``[N]``.

    Example:
        >>> m = np.array([[0.1, 0.5], [0.0, 0.0]]); p = np.array([[1, 0], [1, 1]])
        >>> simulate_margin_exits(m, p, np.array([0, 0]), np.array([0.2, 0.2]))[0].tolist()
        [1, 2]
    """
    hit = margins >= deltas[None, :]
    any_hit = hit.any(axis=1)
    position = np.where(any_hit, hit.argmax(axis=1), margins.shape[1])
    early = np.take_along_axis(preds, np.minimum(position, preds.shape[1] - 1)[:, None], 1)[:, 0]
    return position, np.where(any_hit, early, final_pred)


def fast_macro_f1(labels: np.ndarray, pred: np.ndarray, classes: Sequence[int] = (0, 1)) -> float:
    """Macro-F1 over ``classes`` (as scikit-learn's ``f1_score(average="macro")`` with
    ``zero_division=0``), fast enough for thousands of calls in a threshold search.

    Example:
        >>> fast_macro_f1(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]))
        0.7333333333333334
    """
    scores = []
    for c in classes:
        tp = float(np.sum((pred == c) & (labels == c)))
        denom = float(np.sum(pred == c) + np.sum(labels == c))
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


def candidate_deltas(margins: np.ndarray, count: int) -> np.ndarray:
    """About ``count`` thresholds spread over the quantiles of ``margins``, each halfway
    between two observed values (so float rounding of a margin never flips a decision), plus
    0 (every row exits).

    Example:
        >>> candidate_deltas(np.array([0.1, 0.2, 0.4]), 10).tolist()
        [0.0, 0.15000000000000002, 0.30000000000000004]
    """
    values = np.unique(np.asarray(margins, float))
    mids = (values[:-1] + values[1:]) / 2
    if len(mids) > count:
        mids = mids[np.unique(np.linspace(0, len(mids) - 1, count).round().astype(int))]
    return np.concatenate([[0.0], mids])


@dataclass
class DeltaChoice:
    """Chosen deltas and their dev-set outcome."""

    deltas: dict[int, float]
    mean_exit_layer: float
    macro_f1: float
    full_macro_f1: float
    budget: float


def choose_deltas(
    margins: np.ndarray,
    preds: np.ndarray,
    final_pred: np.ndarray,
    labels: np.ndarray,
    layers: Sequence[int],
    num_layers: int,
    budget: float,
    quantiles: int = 40,
    passes: int = 3,
) -> DeltaChoice:
    """Choose one delta per layer in ``layers`` on a dev set.

    Args:
        margins, preds: ``[N, K]`` dev margins and predictions at ``layers`` (K layers < L).
        final_pred: ``[N]`` the full model's dev predictions.
        labels: ``[N]`` dev labels.
        budget: the largest allowed macro-F1 loss against the full model, in F1 units
            (``0.005`` = half a point).
        quantiles: about how many candidate deltas per layer (see :func:`candidate_deltas`).
    """
    margins, preds = np.asarray(margins, float), np.asarray(preds)
    labels, final_pred = np.asarray(labels), np.asarray(final_pred)
    if margins.shape != preds.shape or margins.shape != (len(labels), len(layers)):
        raise HateprotoError(
            f"margins {margins.shape} and predictions {preds.shape} must be [N, K] = "
            f"[{len(labels)}, {len(layers)}]"
        )
    if budget < 0:
        raise HateprotoError(f"the macro-F1 loss budget must be >= 0, got {budget}")
    exit_layer = np.append(np.asarray(layers, float), num_layers)
    full_f1 = fast_macro_f1(labels, final_pred)

    def evaluate(deltas: np.ndarray) -> tuple[float, float]:
        position, pred = simulate_margin_exits(margins, preds, final_pred, deltas)
        return exit_layer[position].mean(), fast_macro_f1(labels, pred)

    candidates = [
        np.append(candidate_deltas(margins[:, k], quantiles), np.inf) for k in range(len(layers))
    ]
    best = np.full(len(layers), np.inf)
    best_cost, best_f1 = evaluate(best)
    for delta in candidate_deltas(margins, quantiles):  # one global delta first
        cost, f1 = evaluate(np.full(len(layers), delta))
        if full_f1 - f1 <= budget and (cost, -f1) < (best_cost, -best_f1):
            best, best_cost, best_f1 = np.full(len(layers), delta), cost, f1
    for _ in range(passes):
        improved = False
        for k in range(len(layers)):
            for delta in candidates[k]:
                trial = best.copy()
                trial[k] = delta
                cost, f1 = evaluate(trial)
                if full_f1 - f1 <= budget and (cost, -f1) < (best_cost - 1e-12, -best_f1):
                    best, best_cost, best_f1, improved = trial, cost, f1, True
        if not improved:
            break
    return DeltaChoice(
        {int(layer): float(d) for layer, d in zip(layers, best, strict=True)},
        float(best_cost),
        float(best_f1),
        float(full_f1),
        float(budget),
    )


@dataclass
class ExitThresholds:
    """Per-layer deltas for :class:`~hateproto.early_exit.policies.PrototypeMarginPolicy`,
    saved as ``early_exit.json`` beside the prototypes they were chosen for.

    Attributes:
        deltas: ``{layer: delta}``; layers without a (finite) delta never exit early.
        budget: the macro-F1 loss budget used to choose them.
        backbone_fingerprint: the backbone they belong to.
        metadata: dev-set outcome and provenance (dataset, number of examples...).
    """

    deltas: dict[int, float]
    budget: float | None = None
    backbone_fingerprint: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_choice(
        cls, result: DeltaChoice, backbone_fingerprint: str, **metadata: Any
    ) -> ExitThresholds:
        """Thresholds from :func:`choose_deltas`, with its dev-set outcome as metadata."""
        meta = {
            "dev_mean_exit_layer": result.mean_exit_layer,
            "dev_macro_f1": result.macro_f1,
            "dev_full_macro_f1": result.full_macro_f1,
            **metadata,
        }
        return cls(result.deltas, result.budget, backbone_fingerprint, meta)

    def finite(self) -> dict[int, float]:
        """The layers that can exit early, with their deltas."""
        return {k: v for k, v in self.deltas.items() if math.isfinite(v)}

    def save(self, folder: str | Path) -> Path:
        """Write ``early_exit.json`` into ``folder`` (atomically); return its path."""
        path = Path(folder) / THRESHOLDS_FILE
        payload = {
            "format_version": THRESHOLDS_FORMAT,
            "method": "prototype_margin",
            "deltas": {str(k): (v if math.isfinite(v) else None) for k, v in self.deltas.items()},
            "budget": self.budget,
            "backbone_fingerprint": self.backbone_fingerprint,
            "metadata": self.metadata,
        }
        atomic_write_text(path, json.dumps(payload, indent=1))
        return path

    @classmethod
    def load(cls, folder: str | Path, fingerprint: str | None = None) -> ExitThresholds:
        """Read ``early_exit.json`` (or a detector's ``thresholds.json``) from ``folder``, or
        the file itself; with ``fingerprint``, refuse thresholds chosen for another
        backbone."""
        path = Path(folder)
        if path.is_dir():
            found = [
                path / name for name in (THRESHOLDS_FILE, LEGACY_FILE) if (path / name).is_file()
            ]
            path = found[0] if found else path / THRESHOLDS_FILE
        if not path.is_file():
            raise HateprotoError(f"early-exit thresholds not found: {path}")
        try:
            payload = json.loads(path.read_text())
            deltas = _parse_deltas(
                payload["deltas"] if "deltas" in payload else payload["by_layer"]
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise HateprotoError(f"{path} is not a valid thresholds file: {exc}") from None
        metadata = dict(payload.get("metadata") or {})
        engine = {k: payload[k] for k in ("min_layer", "batch_size", "max_length") if k in payload}
        if engine:  # written by EarlyExitClassifier before one writer served both
            metadata.setdefault("engine", engine)
        saved = payload.get("backbone_fingerprint", "")
        if fingerprint and saved and saved != fingerprint:
            raise MismatchError(
                f"{path} was chosen for a backbone with fingerprint {saved}, not {fingerprint}"
            )
        return cls(deltas, payload.get("budget"), saved, metadata)


def _parse_deltas(raw: Mapping[str, Any]) -> dict[int, float]:
    return {int(k): (math.inf if v is None else float(v)) for k, v in raw.items()}


def layer_margins(
    scorer: LayerScorer, vectors: torch.Tensor, layers: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Margins and predictions ``[N, len(layers)]`` of ``scorer`` on vectors ``[N, L, H]``
    (layers 1..L), as inputs to :func:`choose_deltas`."""
    assessed = [scorer.assess(layer, vectors[:, layer - 1]) for layer in layers]
    margins = torch.stack([m for _, m in assessed], 1).double().cpu().numpy()
    picked = torch.stack([p.argmax(-1) for p, _ in assessed], 1).cpu().numpy()
    preds = np.asarray(scorer.classes)[picked]
    return margins, preds


def choose_exit_thresholds(
    prototypes: PrototypeClassifier,
    data: LabeledTexts,
    budget: float,
    head: LayerScorer | None = None,
    batch_size: int = 32,
    max_length: int = 256,
    show_progress: bool = False,
) -> ExitThresholds:
    """Per-layer deltas for ``prototypes`` chosen on labelled ``data`` (a dev set).

    The reference is ``head`` on the last layer (a fine-tuned classifier) or, without it, the
    last layer's prototypes; ``budget`` is the largest macro-F1 loss against it (F1 units).
    """
    from hateproto.early_exit.scorers import PrototypeScorer

    backbone = prototypes.backbone
    scorer = PrototypeScorer(prototypes)
    final = head or scorer
    vectors = encode_per_spec(
        backbone,
        data.texts,
        {scorer.spec, final.spec},
        batch_size=batch_size,
        max_length=max_length,
        show_progress=show_progress,
    )
    return exit_thresholds_from_vectors(
        scorer,
        final,
        vectors,
        data.labels,
        backbone.num_layers,
        budget,
        backbone.fingerprint,
        dataset=data.name,
        split=data.split,
        fallback="head" if head is not None else "prototypes",
    )


def exit_thresholds_from_vectors(
    scorer: LayerScorer,
    final: LayerScorer,
    vectors: Mapping[Any, torch.Tensor],
    labels: np.ndarray,
    num_layers: int,
    budget: float,
    fingerprint: str,
    **metadata: Any,
) -> ExitThresholds:
    """Per-layer deltas for ``scorer`` on dev representations already encoded (``vectors``
    per representation spec, as :func:`encode_per_spec` gives them): the one place dev
    margins are gathered. ``final`` decides rows that never exit; ``metadata`` is recorded
    with the dev outcome and ``n``."""
    from hateproto.early_exit.engine import simulate_early_exit
    from hateproto.early_exit.policies import ExitPolicy

    layers = [layer for layer in range(1, num_layers) if layer in scorer.layers]
    margins, preds = layer_margins(scorer, vectors[scorer.spec], layers)
    full = simulate_early_exit(ExitPolicy(final, num_layers), vectors).labels
    result = choose_deltas(margins, preds, full, labels, layers, num_layers, budget)
    return ExitThresholds.from_choice(result, fingerprint, n=len(labels), **metadata)
