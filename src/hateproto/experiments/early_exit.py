"""HatePrototypes Section 6: early exit (Table 4, Figs 4-6), with measured wall time.

For every model and dataset: load the fine-tuned checkpoint of that dataset if it exists
(else the frozen model), encode a training sample, the dev set and the test set at every layer
once (cached), fit per-layer prototypes and per-layer gates on the training vectors, choose
each method's knob on dev (the lowest mean exit layer whose dev macro-F1 loss against that
method's full-depth prediction stays within ``budget``), then report test macro-F1 and mean
exit layer once. The test decisions come from the engine's loop run on the precomputed test
vectors (:func:`~hateproto.early_exit.simulate_early_exit`); the wall time comes from live
layer-by-layer runs (rows really leave the batch) on a stratified subset of the test set,
interleaved with the full-depth run, and the live predictions are checked against the
simulated ones (``timing_agreement``).

Methods (Table 4): ``full_model`` (the fine-tuned head on the last layer; for a frozen model,
a linear probe: the last layer's gate), ``prototype_last``, ``prototype_layer1``, ``entropy``
(DeeBERT), ``patience`` (PABEE), ``prototype_exit`` (one delta) and
``prototype_exit_calibrated`` (one delta per layer). ``prototype_exit_sweep`` rows hold the
delta sweep of Figs 5 and 6.

This module runs the sweeps; the pieces live beside it and are re-exported here: settings in
:mod:`.early_exit_config`, one cell's preparation in :mod:`.early_exit_fit`, the dev
selection in :mod:`.early_exit_select` and the live timing in :mod:`.early_exit_timing`.

Example:
    >>> cfg = EarlyExitConfig.from_yaml("benchmarks/configs/early-exit.yaml")  # doctest: +SKIP
    >>> rows = run_table4(cfg)                                                 # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from hateproto.early_exit import ExitPolicy, ExitResult, PrototypeMarginPolicy, simulate_early_exit
from hateproto.errors import ConfigError
from hateproto.evaluation import classification_metrics
from hateproto.experiments.early_exit_config import (
    KEY_FIELDS,
    SWEEP_METHOD,
    TABLE4_METHODS,
    EarlyExitConfig,
    Echo,
    ModelSpec,
)
from hateproto.experiments.early_exit_fit import Prepared, _load_backbone, prepare
from hateproto.experiments.early_exit_select import (
    Choice,
    _calibrated,
    _f1,
    _fixed,
    choose_on_dev,
    table4_choices,
)
from hateproto.experiments.early_exit_timing import _agreement, time_policies, timing_fields
from hateproto.experiments.results import ResultStore, locked

__all__ = [
    "KEY_FIELDS",
    "SWEEP_METHOD",
    "TABLE4_METHODS",
    "Choice",
    "EarlyExitConfig",
    "Echo",
    "ModelSpec",
    "Prepared",
    "_agreement",
    "_calibrated",
    "_f1",
    "_fixed",
    "_load_backbone",
    "_locked",
    "_timing_fields",
    "choose_on_dev",
    "prepare",
    "run_sweep",
    "run_table4",
    "table4_choices",
    "time_policies",
]

_locked = locked
_timing_fields = timing_fields


def _row(
    prepared: Prepared, method: str, setting: str, result: ExitResult, full_f1: float
) -> dict[str, Any]:
    metrics = classification_metrics(prepared.test.labels, result.labels, result.hate_scores)
    return {
        "model": prepared.spec.name,
        "dataset": prepared.dataset,
        "method": method,
        "setting": setting,
        "backbone": prepared.reference,
        "backbone_kind": prepared.kind,
        "dtype": prepared.spec.dtype,
        "num_layers": prepared.num_layers,
        "n_test": len(prepared.test),
        "mean_exit_layer": result.mean_exit_layer,
        "layer_saving": result.layer_saving,
        "counted_speedup": result.counted_speedup,
        "token_weighted_speedup": result.token_weighted_speedup,
        "macro_f1": metrics["macro_f1"],
        "accuracy": metrics["accuracy"],
        "full_macro_f1": full_f1,
        "f1_loss_points": 100 * (full_f1 - metrics["macro_f1"]),
        "exit_histogram": result.exit_histogram(),
        "batch_size": prepared.spec.batch_size,
        "measured_speedup": None,
    }


def _rows(config: EarlyExitConfig) -> list[dict[str, Any]]:
    with locked(config.results):
        return ResultStore(config.results, KEY_FIELDS).rows


def _add(config: EarlyExitConfig, row: dict[str, Any]) -> None:
    with locked(config.results):
        ResultStore(config.results, KEY_FIELDS, dtype=row.get("dtype")).add(row)


def _skip_missing_checkpoint(spec: ModelSpec, dataset: str, echo: Echo) -> bool:
    if spec.require_checkpoint and spec.checkpoint_path(dataset) is None:
        echo(f"[{spec.name}/{dataset}] no fine-tuned checkpoint yet ({spec.checkpoint}); skipped")
        return True
    return False


def _set_threads(config: EarlyExitConfig) -> int:
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    return torch.get_num_threads()


def _cells(config: EarlyExitConfig, models: list[str] | None) -> list[tuple[ModelSpec, str]]:
    specs = [m for m in config.models if models is None or m.name in models]
    if models is not None and len(specs) != len(set(models)):
        raise ConfigError(
            f"unknown model(s) in {models}; configured: {[m.name for m in config.models]}"
        )
    return [(spec, dataset) for spec in specs for dataset in config.dataset_names()]


def _full_f1(prepared: Prepared, policy: ExitPolicy) -> float:
    """Test macro-F1 of ``policy`` run to full depth (NaN for a policy without a final)."""
    if policy.final is None:
        return float("nan")
    full = simulate_early_exit(policy.full_depth(), prepared.test_vectors)
    return _f1(prepared.test.labels, full)


def _table4_cell(config: EarlyExitConfig, prepared: Prepared, threads: int, echo: Echo) -> None:
    """Choose every method on dev, time them live and add one test row per method."""
    choices = table4_choices(prepared, config.budget)
    reference = choices[0].policy
    simulated = {c.method: prepared.simulate_test(c.policy) for c in choices}
    full_f1 = {c.method: _full_f1(prepared, c.policy) for c in choices}
    timings, _, index = time_policies(
        prepared, {c.method: c.policy for c in choices}, reference, echo
    )
    for choice in choices:
        result = simulated[choice.method]
        own_full = full_f1[choice.method]
        row = _row(
            prepared,
            choice.method,
            choice.setting,
            result,
            own_full if not math.isnan(own_full) else full_f1["full_model"],
        )
        row.update(
            full_model_macro_f1=full_f1["full_model"],
            dev_macro_f1=choice.dev_macro_f1,
            dev_full_macro_f1=choice.dev_full_macro_f1,
            dev_mean_exit_layer=choice.dev_mean_exit_layer,
            budget=config.budget,
            policy=_jsonable(choice.policy.describe()),
            **timing_fields(timings[choice.method], result, index, threads),
        )
        _add(config, row)
        echo(
            f"  {choice.method:26s} {choice.setting:22s} F1 {row['macro_f1']:.4f} "
            f"(full {row['full_macro_f1']:.4f}) exit {row['mean_exit_layer']:.2f}/"
            f"{row['num_layers']} measured x{row['measured_speedup']:.2f} "
            f"(CPU x{row['measured_cpu_speedup']:.2f})"
        )


def run_table4(
    config: EarlyExitConfig, echo: Echo = print, models: list[str] | None = None
) -> list[dict[str, Any]]:
    """Compute the missing Table 4 rows (every method, model and dataset); return all rows."""
    threads = _set_threads(config)
    for spec, dataset in _cells(config, models):
        rows = _rows(config)
        done = [r for r in rows if r["model"] == spec.name and r["dataset"] == dataset]
        if set(TABLE4_METHODS) <= {r["method"] for r in done}:
            continue
        if _skip_missing_checkpoint(spec, dataset, echo):
            continue
        _table4_cell(config, prepare(config, spec, dataset, echo), threads, echo)
    return _rows(config)


def _timed_names(names: list[str], points: int) -> list[str]:
    """``points`` evenly spaced sweep settings (never the last, full-depth one)."""
    if not points:
        return []
    return [names[i] for i in np.unique(np.linspace(0, len(names) - 2, points).round().astype(int))]


def _sweep_cell(config: EarlyExitConfig, prepared: Prepared, threads: int, echo: Echo) -> None:
    """Add one test row per delta of the grid, timing ``timed_sweep_points`` of them."""
    spec, L, protos = prepared.spec, prepared.num_layers, prepared.prototypes
    grid = np.unique(np.quantile(prepared.dev_margins(), np.linspace(0, 1, config.sweep_points)))
    deltas = [*grid.tolist(), math.inf]
    policies = {
        f"delta={d:.6g}": PrototypeMarginPolicy(protos, d, final=prepared.proto_final, num_layers=L)
        for d in deltas
    }
    reference = ExitPolicy(prepared.proto_final, L)
    full_f1 = _f1(prepared.test.labels, simulate_early_exit(reference, prepared.test_vectors))
    names = list(policies)
    points = spec.timed_sweep_points
    timed = _timed_names(names, config.timed_sweep_points if points is None else points)
    timings, _, index = (
        time_policies(prepared, {n: policies[n] for n in timed}, reference, echo)
        if timed
        else ({}, None, np.array([]))
    )
    for name, delta in zip(names, deltas, strict=True):
        result = prepared.simulate_test(policies[name])
        row = _row(prepared, SWEEP_METHOD, name, result, full_f1)
        row["delta"] = None if math.isinf(delta) else delta
        if name in timings:
            row.update(timing_fields(timings[name], result, index, threads))
        _add(config, row)
    echo(f"  sweep: {len(names)} deltas, {len(timed)} timed")


def run_sweep(
    config: EarlyExitConfig, echo: Echo = print, models: list[str] | None = None
) -> list[dict[str, Any]]:
    """The delta sweep (Figs 5 and 6): test macro-F1 and mean exit layer for a grid of deltas
    (quantiles of the dev margins), with live timings for ``timed_sweep_points`` of them."""
    threads = _set_threads(config)
    for spec, dataset in _cells(config, models):
        if any(
            r["model"] == spec.name and r["dataset"] == dataset and r["method"] == SWEEP_METHOD
            for r in _rows(config)
        ):
            continue
        if _skip_missing_checkpoint(spec, dataset, echo):
            continue
        _sweep_cell(config, prepare(config, spec, dataset, echo), threads, echo)
    return _rows(config)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and math.isinf(value):
        return None
    return value
