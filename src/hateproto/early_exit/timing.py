"""Wall-clock comparisons that survive a shared, busy machine.

Variants are run interleaved (A, B, C, A, B, C, ...) in one process after a warm-up round,
and compared by their median times. Both the wall-clock time and the process CPU time of
every call are kept: on a machine shared with other jobs the wall clock also counts time
spent waiting for a core, while the CPU time (with one torch thread) counts only our own
work. The load average is recorded with the result so a reader can judge the disturbance.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Clock = Literal["wall", "cpu"]


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages (empty where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def median(values: list[float]) -> float:
    """Median of a non-empty list."""
    return float(statistics.median(values))


@dataclass
class Timings:
    """Seconds per call of each variant, by wall clock and by process CPU time."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def median(self, name: str, clock: Clock = "wall") -> float:
        """Median seconds of ``name``."""
        return median((self.wall if clock == "wall" else self.cpu)[name])

    def speedup(self, name: str, reference: str, clock: Clock = "wall") -> float:
        """Median time of ``reference`` divided by that of ``name``."""
        return self.median(reference, clock) / self.median(name, clock)


def interleaved_timings(
    variants: Mapping[str, Callable[[], Any]], repeats: int = 3, warmup: int = 1
) -> Timings:
    """Time each variant ``repeats`` times, interleaved, after ``warmup`` untimed rounds.

    Example:
        >>> t = interleaved_timings({"a": lambda: None, "b": lambda: None}, repeats=2, warmup=0)
        >>> sorted(t.wall), len(t.cpu["a"])
        (['a', 'b'], 2)
    """
    for _ in range(warmup):
        for run in variants.values():
            run()
    timings = Timings({name: [] for name in variants}, {name: [] for name in variants})
    for _ in range(repeats):
        for name, run in variants.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            timings.cpu[name].append(time.process_time() - cpu)
            timings.wall[name].append(time.perf_counter() - wall)
    return timings
