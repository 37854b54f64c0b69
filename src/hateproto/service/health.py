"""Liveness and readiness: "the process runs" and "it can score" are different questions.

* Liveness (``/livez``): the event loop answers and the batching worker has not died. A
  failing liveness check means "restart me".
* Readiness (``/readyz``, and ``/healthz``): a canary text is scored through the same queue,
  batcher and model as every request, and the result is checked (one result, a probability
  in 0..1). The answer is cached for ``readiness_cache_s`` seconds, and concurrent checks
  share one canary, so probes cost at most one model call per period. A failing readiness
  check means "send no traffic here" (a broken model, a full queue, a shutdown).

Example:
    >>> probe = ReadinessProbe(batcher, cache_seconds=5, timeout_seconds=10)  # doctest: +SKIP
    >>> ready, reason = await probe.check()                                    # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any

from hateproto.service.batcher import MicroBatcher

CANARY_TEXT = "hateproto readiness check: is the model able to score this text?"


@dataclass
class Readiness:
    """The outcome of one canary: ``ready``, why not (``reason``), when (monotonic seconds)."""

    ready: bool
    reason: str
    checked_at: float
    model_ms: float | None = None

    def as_dict(self, now: float) -> dict[str, Any]:
        """JSON-ready fields for the health endpoints."""
        body: dict[str, Any] = {
            "status": "ok" if self.ready else "unavailable",
            "checked_s_ago": round(max(0.0, now - self.checked_at), 3),
            "canary_ms": self.model_ms,
        }
        if not self.ready:
            body["detail"] = self.reason
        return body


class ReadinessProbe:
    """Scores :data:`CANARY_TEXT` through ``batcher``, at most once per ``cache_seconds``."""

    def __init__(
        self, batcher: MicroBatcher, cache_seconds: float = 5.0, timeout_seconds: float = 10.0
    ) -> None:
        self.batcher = batcher
        self.cache_seconds = cache_seconds
        self.timeout_seconds = timeout_seconds
        self.canaries = 0
        self._last: Readiness | None = None
        self._lock: asyncio.Lock | None = None

    def alive(self) -> tuple[bool, str]:
        """Liveness: the batching worker runs (or is finishing its queue while stopping)."""
        if self.batcher.worker_failed:
            return False, "the batching worker has stopped unexpectedly; restart the service"
        return True, ""

    async def check(self) -> Readiness:
        """The cached readiness, or a new canary when the cache is older than the period."""
        if not self.batcher.healthy:
            return Readiness(False, "the service is starting or shutting down", time.monotonic())
        if self._fresh():
            return self._last
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if not self._fresh():  # another check may have scored while this one waited
                self._last = await self._score_canary()
        return self._last

    def _fresh(self) -> bool:
        last = self._last
        return last is not None and time.monotonic() - last.checked_at < self.cache_seconds

    async def _score_canary(self) -> Readiness:
        self.canaries += 1
        started = time.monotonic()
        try:
            results = await asyncio.wait_for(
                self.batcher.submit([CANARY_TEXT]), self.timeout_seconds
            )
        except TimeoutError:
            reason = f"scoring a canary text took longer than {self.timeout_seconds:g} s"
            return Readiness(False, reason, time.monotonic())
        except Exception as exc:  # noqa: BLE001 - any failure means "cannot score"
            reason = f"scoring a canary text failed: {type(exc).__name__}: {exc}"
            return Readiness(False, reason[:500], time.monotonic())
        elapsed = round((time.monotonic() - started) * 1e3, 2)
        problem = _result_problem(results)
        return Readiness(problem is None, problem or "", time.monotonic(), elapsed)


def _result_problem(results: Any) -> str | None:
    """Why the canary's result is not a usable decision, or ``None``."""
    if len(results) != 1:
        return f"the model returned {len(results)} results for 1 canary text"
    probability = getattr(results[0], "hate_probability", None)
    if not isinstance(probability, (int, float)) or not math.isfinite(probability):
        return f"the model returned hate_probability {probability!r} for the canary text"
    if not 0.0 <= probability <= 1.0:
        return f"the model returned hate_probability {probability} (outside 0..1)"
    return None
