"""Choosing each Table 4 method's knob on dev.

Every method's knob (entropy threshold, patience, one delta, or one delta per layer) is the
candidate with the lowest dev mean exit layer whose dev macro-F1 loss against that method's
own full-depth prediction stays within ``budget`` (ties: the higher macro-F1). The three
fixed methods (full model, prototypes at the last layer and at layer 1) have no knob.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hateproto.early_exit import (
    EntropyPolicy,
    ExitPolicy,
    ExitResult,
    FixedLayerPolicy,
    PatiencePolicy,
    PrototypeMarginPolicy,
    simulate_early_exit,
)
from hateproto.early_exit.thresholds import candidate_deltas, exit_thresholds_from_vectors
from hateproto.errors import ConfigError
from hateproto.evaluation import classification_metrics
from hateproto.experiments.early_exit_fit import Prepared


@dataclass
class Choice:
    """A method's policy with the knob chosen on dev, and the dev outcome."""

    method: str
    setting: str
    policy: ExitPolicy
    dev_macro_f1: float
    dev_full_macro_f1: float
    dev_mean_exit_layer: float


def _f1(labels: np.ndarray, result: ExitResult) -> float:
    return classification_metrics(labels, result.labels)["macro_f1"]


def choose_on_dev(
    method: str,
    make: Callable[[Any], ExitPolicy],
    candidates: list[Any],
    prepared: Prepared,
    budget: float,
    describe: Callable[[Any], str],
) -> Choice:
    """The candidate with the lowest dev mean exit layer whose dev macro-F1 loss against the
    policy's full-depth prediction is at most ``budget`` (ties: higher F1)."""
    labels = prepared.dev.labels
    reference = _f1(
        labels, simulate_early_exit(make(candidates[0]).full_depth(), prepared.dev_vectors)
    )
    best: tuple[float, float, Any] | None = None
    for value in candidates:
        result = simulate_early_exit(make(value), prepared.dev_vectors)
        f1 = _f1(labels, result)
        if reference - f1 <= budget + 1e-12:
            key = (result.mean_exit_layer, -f1, value)
            if best is None or key[:2] < best[:2]:
                best = key
    if best is None:
        raise ConfigError(f"{method}: no candidate keeps the dev loss within {budget}")
    cost, neg_f1, value = best
    return Choice(method, describe(value), make(value), -neg_f1, reference, cost)


def _fixed(method: str, policy: ExitPolicy, prepared: Prepared) -> Choice:
    result = simulate_early_exit(policy, prepared.dev_vectors)
    f1 = _f1(prepared.dev.labels, result)
    return Choice(method, "-", policy, f1, f1, result.mean_exit_layer)


def _calibrated(prepared: Prepared, budget: float) -> Choice:
    L, scorer = prepared.num_layers, prepared.prototypes
    thresholds = exit_thresholds_from_vectors(
        scorer,
        prepared.proto_final,
        prepared.dev_vectors,
        prepared.dev.labels,
        L,
        budget,
        prepared.backbone.fingerprint,
        dataset=prepared.dataset,
        model=prepared.reference,
        fallback="head" if prepared.kind == "fine-tuned" else "prototypes",
    )
    thresholds.save(prepared.artefacts)
    policy = PrototypeMarginPolicy(scorer, thresholds.deltas, final=prepared.proto_final)
    return Choice(
        "prototype_exit_calibrated",
        f"budget={budget:g}",
        policy,
        thresholds.metadata["dev_macro_f1"],
        thresholds.metadata["dev_full_macro_f1"],
        thresholds.metadata["dev_mean_exit_layer"],
    )


def table4_choices(prepared: Prepared, budget: float) -> list[Choice]:
    """Every Table 4 method, with its knob chosen on dev."""
    L, protos, gates, head = (
        prepared.num_layers,
        prepared.prototypes,
        prepared.gates,
        prepared.head,
    )
    deltas = [math.inf, *candidate_deltas(prepared.dev_margins(), 60).tolist()]
    return [
        _fixed("full_model", ExitPolicy(head, L), prepared),
        _fixed("prototype_last", FixedLayerPolicy(protos, L, L), prepared),
        _fixed("prototype_layer1", FixedLayerPolicy(protos, 1, L), prepared),
        choose_on_dev(
            "entropy",
            lambda t: EntropyPolicy(gates, t, final=head, num_layers=L),
            [0.0, *np.linspace(0.01, math.log(2), 40).tolist()],
            prepared,
            budget,
            lambda t: f"threshold={t:.4g}",
        ),
        choose_on_dev(
            "patience",
            lambda p: PatiencePolicy(gates, p, final=head, num_layers=L),
            list(range(L - 1, 0, -1)),
            prepared,
            budget,
            lambda p: f"patience={p}",
        ),
        choose_on_dev(
            "prototype_exit",
            lambda d: PrototypeMarginPolicy(protos, d, final=prepared.proto_final, num_layers=L),
            deltas,
            prepared,
            budget,
            lambda d: f"delta={d:.6g}",
        ),
        _calibrated(prepared, budget),
    ]
