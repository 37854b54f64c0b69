"""Wall-clock comparisons that survive a shared, busy machine.

Variants are run interleaved (A, B, C, A, B, C, ...) in one process after a warm-up round,
and compared by their median times; the load average is recorded with the result so a
reader can judge how disturbed the measurement was.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages (empty where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def interleaved_timings(
    variants: Mapping[str, Callable[[], Any]], repeats: int = 3, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds of each call of each variant, run interleaved ``repeats`` times.

    Example:
        >>> t = interleaved_timings({"a": lambda: None, "b": lambda: None}, repeats=2, warmup=0)
        >>> sorted(t), len(t["a"])
        (['a', 'b'], 2)
    """
    for _ in range(warmup):
        for run in variants.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    """Median of a non-empty list."""
    return float(statistics.median(values))


def speedups(times: Mapping[str, list[float]], reference: str) -> dict[str, float]:
    """Median time of ``reference`` divided by the median time of each variant."""
    base = median(times[reference])
    return {name: base / median(values) for name, values in times.items()}
