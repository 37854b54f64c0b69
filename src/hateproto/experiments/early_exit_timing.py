"""Measured wall time of early-exit policies (live layer-by-layer runs).

:func:`time_policies` runs each policy on a stratified subset of the test set with the real
engine (rows really leave the batch), interleaved with the full-depth reference, and
:func:`timing_fields` turns one policy's timing into row fields, with the share of live
predictions that agree with the simulated ones (``timing_agreement``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hateproto.data import LabeledTexts
from hateproto.early_exit import EarlyExitClassifier, ExitPolicy, ExitResult
from hateproto.early_exit.timing import interleaved_timings, load_average
from hateproto.experiments.early_exit_config import Echo
from hateproto.experiments.early_exit_fit import Prepared


def time_policies(
    prepared: Prepared, policies: dict[str, ExitPolicy], reference: ExitPolicy, echo: Echo
) -> tuple[dict[str, dict[str, Any]], LabeledTexts, np.ndarray]:
    """Live runs on a stratified test subset, interleaved with the full-depth reference.

    Returns, per policy name: median seconds, measured speed-up, live result; plus the subset
    and its indices into the test set.
    """
    from hateproto.training.data import stratified_indices

    spec, test = prepared.spec, prepared.test
    n = min(spec.timing_examples, len(test))
    index = stratified_indices(test.labels, n, 0) if n < len(test) else np.arange(len(test))
    subset = test.subset(index)
    results: dict[str, ExitResult] = {}
    # Full-depth policies (no early exits) do the reference's work: they share its timing.
    same = {name for name, p in policies.items() if p is reference or not p.exit_layers()}
    variants = {"__full__": reference}
    variants.update({name: p for name, p in policies.items() if name not in same})
    alias = {name: "__full__" if name in same else name for name in policies}

    def runner(name: str, policy: ExitPolicy) -> Callable[[], None]:
        clf = EarlyExitClassifier(prepared.backbone, policy, spec.batch_size)
        return lambda: results.__setitem__(name, clf.run(subset.texts))

    echo(
        f"[{spec.name}/{prepared.dataset}] timing {len(variants)} variants x {spec.repeats} "
        f"on {n} texts, batch {spec.batch_size}"
    )
    warm = subset.texts[: 2 * spec.batch_size]
    for policy in variants.values():  # warm-up on two batches
        EarlyExitClassifier(prepared.backbone, policy, spec.batch_size).run(warm)
    times = interleaved_timings(
        {name: runner(name, policy) for name, policy in variants.items()},
        repeats=spec.repeats,
        warmup=0,
    )
    out = {
        name: {
            "wall_time_s": times.median(alias[name]),
            "full_wall_time_s": times.median("__full__"),
            "measured_speedup": times.speedup(alias[name], "__full__"),
            "cpu_time_s": times.median(alias[name], "cpu"),
            "full_cpu_time_s": times.median("__full__", "cpu"),
            "measured_cpu_speedup": times.speedup(alias[name], "__full__", "cpu"),
            "times_s": times.wall[alias[name]],
            "full_times_s": times.wall["__full__"],
            "live": results[alias[name]]
            if policies[name] is reference or name not in same
            else None,
            "timing_shared_with_full": name in same and policies[name] is not reference,
        }
        for name in policies
    }
    return out, subset, index


def _agreement(live: ExitResult, simulated: ExitResult, index: np.ndarray) -> float:
    return float((live.labels == simulated.labels[index]).mean())


def timing_fields(
    timing: dict[str, Any], simulated: ExitResult, index: np.ndarray, threads: int
) -> dict[str, Any]:
    """Row fields of one policy's timing (``timing`` is one value of :func:`time_policies`)."""
    return {
        **{key: value for key, value in timing.items() if key != "live"},
        "timing_n": len(index),
        "timing_mean_exit_layer": (
            timing["live"].mean_exit_layer if timing["live"] else simulated.num_layers
        ),
        "timing_agreement": _agreement(timing["live"], simulated, index)
        if timing["live"]
        else None,
        "threads": threads,
        "load_average": load_average(),
    }
