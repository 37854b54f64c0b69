"""Dynamic micro-batching: concurrent requests share one forward pass.

Requests wait in a queue; a single worker takes the oldest, adds every other waiting request
that fits (up to ``max_batch_size`` texts), waits at most ``max_wait_ms`` for more if the batch
is not full, runs the model once in a dedicated thread (so the event loop keeps accepting
requests), and hands each request its share of the results. The wait is skipped when the
previous batch held a single request and nothing else is queued (a lone client pays no
batching delay). With batching off each request runs alone, in arrival order.

One bad request harms no other: when a batch of several requests fails, each of its requests
is run again alone, so only the guilty one gets the error.

Example:
    >>> batcher = MicroBatcher(detector.score, max_batch_size=32, max_wait_ms=5)  # doctest: +SKIP
    >>> await batcher.start(); preds = await batcher.submit(["some post"])         # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hateproto.errors import HateprotoError
from hateproto.service.model_thread import ModelThread

log = logging.getLogger("hateproto.service")


class Overloaded(HateprotoError):
    """Too many texts are waiting; the client should retry later (HTTP 503)."""


class ShuttingDown(HateprotoError):
    """The service is stopping and takes no new work (HTTP 503)."""


@dataclass
class _Request:
    texts: list[str]
    future: asyncio.Future
    enqueued: float = field(default_factory=time.perf_counter)


@dataclass
class BatchStats:
    """Counters since start: model calls, requests and texts served, largest batch."""

    batches: int = 0
    requests: int = 0
    texts: int = 0
    largest_batch: int = 0
    model_seconds: float = 0.0
    failed_batches: int = 0
    failed_requests: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counters, with the mean batch size."""
        mean = self.texts / self.batches if self.batches else 0.0
        return {**self.__dict__, "mean_batch": round(mean, 2)}


class MicroBatcher:
    """Collects concurrent requests into batches for one model thread.

    Args:
        score: texts → one result per text (runs in the model thread).
        max_batch_size: texts per model call when combining requests.
        max_wait_ms: longest wait for more requests once one is waiting.
        enabled: combine requests (False: one request per model call).
        max_queue_texts: :meth:`submit` raises :class:`Overloaded` beyond this many waiting.
        model_thread: the thread that runs ``score`` (:mod:`.model_thread`; pass the one that
            loaded the model); ``None``: a thread of its own, stopped by :meth:`stop`.
    """

    def __init__(
        self,
        score: Callable[[list[str]], Sequence[Any]],
        max_batch_size: int = 32,
        max_wait_ms: float = 5.0,
        enabled: bool = True,
        max_queue_texts: int = 4096,
        model_thread: ModelThread | None = None,
    ) -> None:
        self.score = score
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.enabled = enabled
        self.max_queue_texts = max_queue_texts
        self.stats = BatchStats()
        self._queue: collections.deque[_Request] = collections.deque()
        self._queued_texts = 0
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._owns_thread = model_thread is None
        self.model_thread = model_thread or ModelThread()
        self._closing = False
        self._company = False  # did the last batch combine several requests?

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start the worker (call from the running event loop)."""
        self._wakeup = asyncio.Event()
        self._closing = False
        self._worker = asyncio.create_task(self._run(), name="hateproto-batcher")

    async def stop(self) -> None:
        """Refuse new work, finish everything already queued, then stop the worker."""
        self._closing = True
        if self._wakeup is not None:
            self._wakeup.set()
        if self._worker is not None:
            await self._worker
        if self._owns_thread:
            self.model_thread.close()

    @property
    def healthy(self) -> bool:
        """True while the worker runs and takes work."""
        return self._worker is not None and not self._worker.done() and not self._closing

    @property
    def worker_failed(self) -> bool:
        """True when the worker has ended although nobody stopped it (a bug: restart)."""
        return self._worker is not None and self._worker.done() and not self._closing

    @property
    def queued_texts(self) -> int:
        """Texts waiting for the model."""
        return self._queued_texts

    # ------------------------------------------------------------------ requests
    async def submit(self, texts: list[str]) -> list[Any]:
        """Queue ``texts`` and wait for their results (in order)."""
        if self._closing or self._wakeup is None:
            raise ShuttingDown("the service is shutting down; retry on another instance")
        if self._queued_texts + len(texts) > self.max_queue_texts and self._queue:
            raise Overloaded(
                f"{self._queued_texts} texts are already waiting (limit {self.max_queue_texts}); "
                "retry later"
            )
        request = _Request(list(texts), asyncio.get_running_loop().create_future())
        self._queue.append(request)
        self._queued_texts += len(texts)
        self._wakeup.set()
        return await request.future

    # ------------------------------------------------------------------ worker
    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = await self._collect()
            try:
                await self._execute(batch)
            except Exception as exc:  # a bug here must not stop the worker for everyone
                log.exception("batch handling failed", extra={"event": "batcher_error"})
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)

    async def _collect(self) -> list[_Request]:
        """The next batch: the oldest request plus whatever fits, waiting up to max_wait."""
        batch = [self._pop()]
        if not self.enabled:
            return batch
        size = len(batch[0].texts)
        deadline = time.perf_counter() + self.max_wait
        while size < self.max_batch_size:
            if self._queue:
                if size + len(self._queue[0].texts) > self.max_batch_size:
                    break
                batch.append(self._pop())
                size += len(batch[-1].texts)
                continue
            remaining = deadline - time.perf_counter()
            if remaining <= 0 or self._closing or (len(batch) == 1 and not self._company):
                break
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                break
        return batch

    def _pop(self) -> _Request:
        request = self._queue.popleft()
        self._queued_texts -= len(request.texts)
        return request

    async def _execute(self, batch: list[_Request]) -> None:
        """Run the model on the batch in the model thread; give each request its results.

        If a batch of several requests fails, each is retried alone, so that only the
        request that causes the failure gets it."""
        live = [r for r in batch if not r.future.done()]  # a client may have gone away
        if not live:
            return
        texts = [text for request in live for text in request.texts]
        started = time.perf_counter()
        try:
            results = await self._score(texts)
        except Exception as exc:
            if len(live) == 1:
                self._fail(live[0], exc)
                return
            self.stats.failed_batches += 1
            log.warning(
                "batch failed; retrying its requests one by one",
                extra={"event": "batch_failed", "requests": len(live), "error": repr(exc)[:200]},
            )
            for request in live:
                await self._execute_alone(request)
            return
        self._company = len(live) > 1
        self._record(len(live), len(texts), time.perf_counter() - started)
        offset = 0
        for request in live:
            share = list(results[offset : offset + len(request.texts)])
            offset += len(request.texts)
            if not request.future.done():
                request.future.set_result(share)

    async def _execute_alone(self, request: _Request) -> None:
        """One request in its own model call (after its batch failed)."""
        if request.future.done():
            return
        started = time.perf_counter()
        try:
            results = await self._score(request.texts)
        except Exception as exc:
            self._fail(request, exc)
            return
        self._record(1, len(request.texts), time.perf_counter() - started)
        if not request.future.done():
            request.future.set_result(list(results))

    async def _score(self, texts: list[str]) -> Sequence[Any]:
        """One model call in the model thread; checks that every text got a result."""
        results = await self.model_thread.run(self.score, texts)
        if len(results) != len(texts):
            raise RuntimeError(f"the model returned {len(results)} results for {len(texts)} texts")
        return results

    def _fail(self, request: _Request, exc: Exception) -> None:
        """Hand ``exc`` to ``request`` (the one request it belongs to)."""
        self.stats.failed_requests += 1
        if not isinstance(exc, HateprotoError):
            log.error(
                "model call failed",
                exc_info=exc,
                extra={"event": "model_error", "texts": len(request.texts)},
            )
        if not request.future.done():
            request.future.set_exception(exc)

    def _record(self, requests: int, texts: int, seconds: float) -> None:
        stats = self.stats
        stats.batches += 1
        stats.requests += requests
        stats.texts += texts
        stats.largest_batch = max(stats.largest_batch, texts)
        stats.model_seconds = round(stats.model_seconds + seconds, 4)
        log.debug(
            "batch",
            extra={"event": "batch", "requests": requests, "texts": texts, "ms": seconds * 1e3},
        )


async def submit_or_raise(
    batcher: MicroBatcher,
    texts: list[str],
    error: Callable[[int, str], Exception],
    bad_input_status: int = 422,
) -> list[Any]:
    """``batcher.submit(texts)``, with its failures raised as ``error(status, message)``:
    503 when overloaded or shutting down, ``bad_input_status`` for a refused input
    (:class:`~hateproto.errors.HateprotoError`), 500 when the model failed (logged by the
    batcher with its traceback). Each endpoint passes its own error type."""
    try:
        return await batcher.submit(texts)
    except (Overloaded, ShuttingDown) as exc:
        raise error(503, str(exc)) from None
    except HateprotoError as exc:
        raise error(bad_input_status, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - logged by the batcher with its traceback
        raise error(
            500, f"the model failed on this request ({type(exc).__name__}); see the service log"
        ) from None
