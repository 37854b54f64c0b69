"""Google's Perspective Comment Analyzer API (``commentanalyzer v1alpha1``), served by a
detector: a client written for Perspective moves to ``hateproto serve`` by redirecting its
requests (``docs/perspective.md`` gives the redirect of each client).

* ``POST /v1alpha1/comments:analyze``: Perspective's ``AnalyzeCommentRequest`` and
  ``AnalyzeCommentResponse``. Each requested attribute is answered by
  ``Prediction.attribute(name)``: ``IDENTITY_ATTACK`` by the detector's hate probability,
  the others by its attribute heads (``DetectorFacts.attributes`` lists what is served).
  ``spanScores`` are always there: one span for the whole comment, or one per sentence with
  ``spanAnnotations``; offsets count UTF-16 code units, as Google's schema says.
  ``languages`` is the request's, else the first detected language; ``detectedLanguages``
  is always answered (:func:`hateproto.data.languages.detect_languages`). Besides
  Perspective's fields, a ``hateproto`` object (label, hate probability, decision threshold,
  calibration, and ``model``: the detector by name and content hash), which clients ignore.
* ``POST /v1alpha1/comments:suggestscore``: with a feedback database (``serve
  --feedback-db``), Google's ``SuggestCommentScoreRequest`` is checked and stored as sent
  (:meth:`~hateproto.feedback.store.FeedbackStore.add_suggestion`) and answered with
  ``detectedLanguages`` and ``clientToken``; without one, 501 ``UNIMPLEMENTED``;
* ``GET /$discovery/rest``: the discovery document (:mod:`.perspective_discovery`);
* ``POST /batch``: Google's multipart batch of the above (:mod:`.perspective_batch`);
* errors: Google's JSON with Perspective's messages and error types, on every path of the
  protocol (:mod:`.perspective_errors`); the request's checks and their order are those of
  :mod:`.perspective_request`;
* auth: the service token as ``?key=`` (what Perspective clients send) or as a bearer token.
"""

from __future__ import annotations

import asyncio
import math
import re
import secrets
from itertools import accumulate
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hateproto.data.languages import detect_languages
from hateproto.detector.results import DetectorFacts
from hateproto.service.batcher import MicroBatcher, submit_or_raise
from hateproto.service.perspective_batch import BatchPart, batch_response, parse_batch
from hateproto.service.perspective_discovery import discovery_document, root_url
from hateproto.service.perspective_errors import (
    PerspectiveError,
    bad_key,
    is_perspective_path,
    missing_key,
    not_found,
    payload_too_large,
)
from hateproto.service.perspective_request import (
    AnalyzeCommentRequest,
    check_attributes,
    check_comment,
    effective_languages,
    parse_request,
)
from hateproto.service.settings import ServiceSettings
from hateproto.service.validation import BodyProblem, read_body

__all__ = [
    "PerspectiveError",
    "is_perspective_path",
    "payload_too_large",
    "perspective_router",
    "sentence_spans",
]

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(begin, end)`` code-point offsets of each sentence of ``text`` (whitespace trimmed).

    Example:
        >>> sentence_spans("Hello there. You are vermin!")
        [(0, 12), (13, 28)]
    """
    spans = []
    for match in _SENTENCE.finditer(text):
        chunk = match.group()
        if not chunk.strip():
            continue
        begin = match.start() + len(chunk) - len(chunk.lstrip())
        end = match.end() - (len(chunk) - len(chunk.rstrip()))
        spans.append((begin, end))
    return spans or [(0, len(text))]


def utf16_offsets(text: str) -> list[int]:
    """``offsets[i]``: how many UTF-16 code units come before code point ``i`` of ``text``
    (``len(text) + 1`` entries): a character beyond U+FFFF counts two.

    Example:
        >>> utf16_offsets("a🎉b")
        [0, 1, 3, 4]
    """
    return [0, *accumulate(2 if ord(character) > 0xFFFF else 1 for character in text)]


def check_key(given: str | None, authorization: str | None, settings: ServiceSettings) -> None:
    """The service token as ``?key=`` or ``Authorization: Bearer``, when the service has one
    (none: Google's 403; a wrong one: Google's 400 ``API_KEY_INVALID``)."""
    if settings.api_token is None:
        return
    header = authorization or ""
    if given is None and header.lower().startswith("bearer "):
        given = header[7:].strip()
    if given is None:
        raise missing_key()
    if not secrets.compare_digest(given.encode(), settings.api_token.get_secret_value().encode()):
        raise bad_key()


def check_request_key(request: Request, settings: ServiceSettings) -> None:
    """:func:`check_key` of an HTTP request."""
    check_key(request.query_params.get("key"), request.headers.get("authorization"), settings)


async def read_request_body(request: Request, settings: ServiceSettings) -> bytes:
    """The body within the service's size limit, declared as JSON (or undeclared), else
    Google's refusal."""
    limit = settings.max_body_bytes()
    try:
        return await read_body(request, limit, settings)
    except BodyProblem as exc:
        if exc.status == 413:
            raise payload_too_large(limit) from None
        raise PerspectiveError(400, f"Invalid JSON payload received. {exc.message}") from None


def check_span_count(count: int, settings: ServiceSettings) -> None:
    """Refuse ``spanAnnotations`` on a comment with more sentences than one request may score
    (the comment itself is scored too): they would bypass the per-request text limit."""
    most = settings.max_texts_per_request - 1
    if count > most:
        raise PerspectiveError(
            400,
            f"spanAnnotations: the comment has {count} sentences; at most {most} can be scored "
            "in one request (send it without spanAnnotations, or in parts)",
        )


def _score(prediction: Any, name: str) -> float:
    value = prediction.attribute(name)
    if value is None:  # listed in DetectorFacts.attributes, yet not scored
        raise PerspectiveError(500, f"the detector lists {name} but did not score it")
    if not math.isfinite(value):
        raise PerspectiveError(500, f"the model returned a non-finite {name} score")
    return float(value)


def build_response(
    request: AnalyzeCommentRequest,
    answered: list[tuple[str, float | None]],
    predictions: list[Any],
    spans: list[tuple[int, int]],
    languages: list[str],
    detected: list[str],
    extras: dict[str, Any],
) -> dict[str, Any]:
    """The ``AnalyzeCommentResponse``: ``predictions[0]`` is the whole comment's; with
    ``spanAnnotations`` one more per span of ``spans`` (code points, answered in UTF-16)."""
    text = request.text
    units = utf16_offsets(text)
    if request.span_annotations:
        span_predictions = list(zip(spans, predictions[1:], strict=True))
    else:
        span_predictions = [((0, len(text)), predictions[0])]
    scores = {}
    for name, threshold in answered:
        summary = _score(predictions[0], name)
        if threshold is not None and summary < threshold:
            continue
        scores[name] = {
            "spanScores": [
                {
                    "begin": units[begin],
                    "end": units[end],
                    "score": {"value": _score(prediction, name), "type": "PROBABILITY"},
                }
                for (begin, end), prediction in span_predictions
            ],
            "summaryScore": {"value": summary, "type": "PROBABILITY"},
        }
    body: dict[str, Any] = {
        "attributeScores": scores,
        "languages": languages,
        "detectedLanguages": detected,
    }
    if request.client_token is not None:
        body["clientToken"] = request.client_token
    body["hateproto"] = extras
    return body


def check_suggestion(raw: bytes) -> dict[str, Any]:
    """A ``SuggestCommentScoreRequest`` as Google shapes it: ``comment.text`` a non-empty
    string, ``attributeScores`` a map of attribute name to ``{"summaryScore": {"value": v}}``
    with ``v`` in [0, 1]; else Google's 400."""
    import json

    try:
        request = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PerspectiveError(400, "Invalid JSON payload received.") from None
    if not isinstance(request, dict):
        raise PerspectiveError(400, "Invalid JSON payload received.")
    comment = request.get("comment")
    text = comment.get("text") if isinstance(comment, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise PerspectiveError(400, "Comment must be specified.")
    scores = request.get("attributeScores")
    if not isinstance(scores, dict) or not scores:
        raise PerspectiveError(400, "Attribute scores must be specified.")
    for name, score in scores.items():
        value = (score.get("summaryScore") or {}).get("value") if isinstance(score, dict) else None
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not 0.0 <= float(value) <= 1.0
        ):
            raise PerspectiveError(
                400, f"Attribute {name}: summaryScore.value must be a number from 0 to 1."
            )
    return request


class PerspectiveEndpoint:
    """``comments:analyze`` and ``comments:suggestscore`` around the service's batcher."""

    def __init__(
        self,
        batcher: MicroBatcher,
        settings: ServiceSettings,
        facts: DetectorFacts,
        store: Any = None,
    ) -> None:
        self.store = store
        self.batcher = batcher
        self.settings = settings
        self.facts = facts
        self.attributes = tuple(name.upper() for name in facts.attributes)
        self.languages = tuple(code.lower() for code in facts.languages)

    async def analyze(self, raw: bytes) -> dict[str, Any]:
        """The ``AnalyzeCommentResponse`` to the request body ``raw``, or a
        :class:`PerspectiveError`."""
        request = parse_request(raw)
        check_comment(request)
        text = request.text
        spans = sentence_spans(text) if request.span_annotations else []
        check_span_count(len(spans), self.settings)
        detected = await asyncio.to_thread(detect_languages, text, self.languages)
        languages = effective_languages(request, detected)
        served = None if self.settings.any_language else self.languages
        answered = check_attributes(request, self.attributes, served, languages, detected)
        texts = [text] + [text[begin:end] for begin, end in spans]
        predictions = await submit_or_raise(
            self.batcher, texts, PerspectiveError, bad_input_status=400
        )
        first = predictions[0]
        if not math.isfinite(first.hate_probability):
            raise PerspectiveError(500, "the model returned a non-finite score")
        extras = {
            "label": first.label,
            "hate_probability": first.hate_probability,
            "threshold": self.facts.threshold,
            "calibrated": self.facts.calibrated,
            "model": self.facts.version,
        }
        return build_response(request, answered, predictions, spans, languages, detected, extras)

    def suggest_score(self) -> PerspectiveError:
        """Google's ``UNIMPLEMENTED``: a service without a feedback database collects no
        score suggestions."""
        return PerspectiveError(
            501,
            "comments:suggestscore is not implemented by this server: it runs without a "
            "feedback database (start it with --feedback-db; see docs/review.md)",
        )

    async def suggest(self, raw: bytes) -> dict[str, Any]:
        """Store the ``SuggestCommentScoreRequest`` ``raw`` and answer Google's
        ``SuggestCommentScoreResponse``; 501 without a feedback database."""
        if self.store is None:
            raise self.suggest_score()
        request = check_suggestion(raw)
        text = request["comment"]["text"]
        detected = await asyncio.to_thread(detect_languages, text, self.languages)
        await asyncio.to_thread(self.store.add_suggestion, request)
        body: dict[str, Any] = {"detectedLanguages": detected}
        if request.get("languages"):
            body["requestedLanguages"] = request["languages"]
        if request.get("clientToken") is not None:
            body["clientToken"] = request["clientToken"]
        return body

    async def batch_part(self, part: BatchPart) -> tuple[int, dict[str, Any]]:
        """The status and JSON answer of one request of a batch."""
        try:
            check_key(part.query.get("key"), part.headers.get("authorization"), self.settings)
            if part.method == "POST" and part.path == ANALYZE:
                return 200, await self.analyze(part.body)
            if part.method == "POST" and part.path == SUGGEST:
                return 200, await self.suggest(part.body)
            raise not_found()
        except PerspectiveError as exc:
            return exc.code, exc.body()


def perspective_router(
    batcher: MicroBatcher, settings: ServiceSettings, facts: DetectorFacts, store: Any = None
) -> APIRouter:
    """The routes of the Perspective protocol around the service's batcher; ``store``:
    the feedback database that keeps ``comments:suggestscore`` requests."""
    router = APIRouter(tags=["perspective"])
    endpoint = PerspectiveEndpoint(batcher, settings, facts, store)

    @router.post(
        ANALYZE,
        summary="Perspective-compatible AnalyzeComment",
        description="See docs/perspective.md; errors use Google's JSON error shape.",
    )
    async def analyze(request: Request) -> JSONResponse:
        try:
            check_request_key(request, settings)
            return JSONResponse(await endpoint.analyze(await read_request_body(request, settings)))
        except PerspectiveError as exc:
            return exc.response()

    @router.post(
        SUGGEST,
        summary="Perspective-compatible SuggestCommentScore",
        description="Stored in the feedback database (serve --feedback-db); without one, "
        "501 UNIMPLEMENTED.",
    )
    async def suggest_score(request: Request) -> JSONResponse:
        try:
            check_request_key(request, settings)
            if endpoint.store is None:
                raise endpoint.suggest_score()
            return JSONResponse(await endpoint.suggest(await read_request_body(request, settings)))
        except PerspectiveError as exc:
            return exc.response()

    @router.get("/$discovery/rest", include_in_schema=False)
    async def discovery(request: Request) -> JSONResponse:
        try:
            check_request_key(request, settings)
            if request.query_params.get("version", "v1alpha1") != "v1alpha1":
                raise not_found()
        except PerspectiveError as exc:
            return exc.response()
        return JSONResponse(discovery_document(root_url(request, settings)))

    @router.post("/batch", include_in_schema=False)
    async def batch(request: Request) -> Response:
        try:
            limit = settings.max_body_bytes()
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise payload_too_large(limit)
            parts = parse_batch(request.headers.get("content-type"), bytes(body))
        except PerspectiveError as exc:
            return exc.response()
        answers = await asyncio.gather(*(endpoint.batch_part(part) for part in parts))
        ids = [part.content_id for part in parts]
        return batch_response(
            [(id_, status, doc) for id_, (status, doc) in zip(ids, answers, strict=True)]
        )

    return router
