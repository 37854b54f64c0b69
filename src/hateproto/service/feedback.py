"""The service's side of the feedback loop: scored posts into the review queue.

:class:`FeedbackRecorder` sees every ``/v1/classify`` answer; the posts the queue policy
(:class:`~hateproto.feedback.policy.QueuePolicy`) selects are written to the feedback
database after the answer has gone (a background task: the database never slows or fails a
classification; its errors are logged). Each newly queued post is then explained once, by
one worker, so that the review page shows it without running the model: span scores (one
per sentence, when there are several), the nearest training examples and the label at each
prototype layer (``Detector.explain``). A post explained late is shown without them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from hateproto.detector.results import DetectorFacts
from hateproto.feedback.policy import QueuePolicy
from hateproto.feedback.store import FeedbackStore, PostRecord
from hateproto.service.model_thread import ModelThread

log = logging.getLogger("hateproto.service")

EXPLAIN_QUEUE = 1024
"""Posts waiting to be explained beyond this are stored without an explanation."""


class FeedbackRecorder:
    """Queues the posts ``policy`` selects into ``store``, explained by ``detector`` (in
    ``model_thread``, the thread that scores; :mod:`.model_thread`)."""

    def __init__(
        self,
        store: FeedbackStore,
        policy: QueuePolicy,
        facts: DetectorFacts,
        detector: Any,
        model_thread: ModelThread,
    ) -> None:
        self.store = store
        self.model_thread = model_thread
        self.policy = policy
        self.facts = facts
        self.detector = detector
        self.random = policy.sampler()
        self.pending: set[asyncio.Task[Any]] = set()
        self.to_explain: asyncio.Queue[tuple[int, str]] = asyncio.Queue(EXPLAIN_QUEUE)
        self.worker: asyncio.Task[Any] | None = None
        self.stats = {"queued": 0, "explained": 0, "errors": 0}

    async def start(self) -> None:
        """Start the explaining worker."""
        self.worker = asyncio.create_task(self._explain_forever())

    async def stop(self) -> None:
        """Finish the writes under way, stop the worker, close the database."""
        if self.pending:
            await asyncio.gather(*self.pending, return_exceptions=True)
        if self.worker is not None:
            self.worker.cancel()
            await asyncio.gather(self.worker, return_exceptions=True)
        self.store.close()

    def observe(self, texts: list[str], predictions: list[Any]) -> None:
        """Queue the posts the policy selects among ``texts`` (in the background)."""
        records = self.select(texts, predictions)
        if records:
            task = asyncio.create_task(self._write(records))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)

    def select(self, texts: list[str], predictions: list[Any]) -> list[PostRecord]:
        """The records of the posts the policy queues."""
        threshold = self.facts.threshold
        records = []
        for text, prediction in zip(texts, predictions, strict=True):
            p = prediction.hate_probability
            reason = self.policy.reason(p, threshold, self.random.random())
            if reason is not None:
                records.append(
                    PostRecord(
                        text,
                        p,
                        threshold,
                        reason,
                        self.facts.version,
                        prediction.margin,
                        prediction.exit_layer,
                    )
                )
        return records

    async def _write(self, records: list[PostRecord]) -> None:
        try:
            added = await asyncio.to_thread(self.store.add_posts, records)
            self.stats["queued"] += added
            if added and hasattr(self.detector, "explain"):
                ids = await asyncio.to_thread(self.store.post_ids, [r.text for r in records])
                for text, post_id in ids.items():
                    if self.to_explain.full():
                        break
                    self.to_explain.put_nowait((post_id, text))
        except Exception as exc:  # noqa: BLE001 - never fails a classification; logged
            self.stats["errors"] += 1
            log.error("feedback database write failed", exc_info=exc, extra={"event": "feedback"})

    async def _explain_forever(self) -> None:
        while True:
            post_id, text = await self.to_explain.get()
            try:
                details = await self.model_thread.run(explain_post, self.detector, text)
                await asyncio.to_thread(self.store.set_details, post_id, details)
                self.stats["explained"] += 1
            except Exception as exc:  # noqa: BLE001 - the post is shown without details
                self.stats["errors"] += 1
                log.warning(
                    f"could not explain queued post {post_id}: {exc}",
                    extra={"event": "feedback"},
                )


def explain_post(detector: Any, text: str, k: int = 5) -> dict[str, Any]:
    """What the review page shows beside a post: ``spans`` (code-point offsets and the hate
    probability of each sentence, when there are several), ``neighbours`` (the nearest
    stored training examples) and ``layers`` (the label and margin at each prototype
    layer), as far as ``detector`` has them."""
    from hateproto.service.perspective import sentence_spans

    details: dict[str, Any] = {}
    spans = sentence_spans(text)
    if len(spans) > 1:
        scored = detector.score([text[b:e] for b, e in spans])
        details["spans"] = [
            {"begin": b, "end": e, "score": round(float(p.hate_probability), 4)}
            for (b, e), p in zip(spans, scored, strict=True)
        ]
    if getattr(detector, "prototypes", None) is not None:
        explanation = detector.explain(text, k=k)
        details["neighbours"] = [
            {
                "rank": n.rank,
                "label": n.label,
                "similarity": round(float(n.similarity), 4),
                "text": n.text,
                "sha256": n.sha256,
            }
            for n in explanation.neighbours
        ]
        details["layers"] = [
            {"layer": layer.layer, "label": layer.label, "margin": round(layer.margin, 4)}
            for layer in explanation.layers
        ]
        details["layers_disagree"] = len({layer.label for layer in explanation.layers}) > 1
    return details
