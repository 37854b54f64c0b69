"""A Perspective-compatible endpoint: ``POST /v1alpha1/comments:analyze``.

A client written for Google's Perspective Comment Analyzer API moves to ``hateproto serve`` by
changing only its base URL (see ``docs/perspective.md``). The detector's calibrated hate
probability answers ``IDENTITY_ATTACK`` (and ``TOXICITY`` only when the detector's metadata
lists it in ``attributes``); any other attribute gets Perspective's answer for an unknown one.

* request: ``comment.text``/``comment.type``, ``requestedAttributes`` (``scoreType``,
  ``scoreThreshold``), ``languages``, ``spanAnnotations``, ``doNotStore``, ``clientToken``;
  ``context``, ``sessionId`` and ``communityId`` are accepted and ignored;
* response: ``attributeScores.<ATTR>.summaryScore {value, type}``, ``spanScores`` (one per
  sentence, with character offsets) when ``spanAnnotations`` is true, ``languages``,
  ``clientToken``, and a ``hateproto`` object (decision threshold, label, model) that
  Perspective clients ignore;
* errors: Google's JSON (``{"error": {"code", "message", "status"}}``) with Perspective's
  messages (``conversationai/perspectiveapi`` ``2-api/limits.md``);
* auth: the service token as ``?key=`` (what Perspective clients send) or as a bearer token;
* ``GET /$discovery/rest``: a discovery document for ``google-api-python-client``, whose
  ``rootUrl`` is this server (``public_url``, else the bound address; never the ``Host``
  header); it needs the key like ``comments:analyze``.
"""

from __future__ import annotations

import math
import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hateproto.detector.results import DetectorFacts
from hateproto.scoring.texts import content_problem
from hateproto.service.batcher import MicroBatcher, submit_or_raise
from hateproto.service.settings import ServiceSettings
from hateproto.service.validation import BodyProblem, parse_json, read_body

#: Perspective's limit on the comment text, in UTF-8 bytes.
MAX_COMMENT_BYTES = 20480
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 500: "INTERNAL", 503: "UNAVAILABLE"}


class PerspectiveError(Exception):
    """A refusal in Google's error shape."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        """``{"error": {"code", "message", "status"}}`` with the HTTP status ``code``."""
        body = {"error": {"code": self.code, "message": self.message, "status": _STATUS[self.code]}}
        headers = {"Retry-After": "1"} if self.code == 503 else None
        return JSONResponse(body, status_code=self.code, headers=headers)


class Comment(BaseModel):
    """The text to score."""

    text: str = ""
    type: str | None = None


class AttributeParameters(BaseModel):
    """Per-attribute options of a request."""

    model_config = ConfigDict(populate_by_name=True)

    score_type: str | None = Field(None, alias="scoreType")
    score_threshold: float | None = Field(None, alias="scoreThreshold")


class AnalyzeCommentRequest(BaseModel):
    """Perspective's ``AnalyzeCommentRequest`` (unlisted fields are ignored)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    comment: Comment | None = None
    requested_attributes: dict[str, AttributeParameters] | None = Field(
        None, alias="requestedAttributes"
    )
    languages: list[str] | None = None
    span_annotations: bool = Field(False, alias="spanAnnotations")
    do_not_store: bool = Field(False, alias="doNotStore")
    client_token: str | None = Field(None, alias="clientToken")


class Score(BaseModel):
    """One score: ``value`` in 0..1 and its ``type`` (always ``PROBABILITY``)."""

    value: float
    type: str = "PROBABILITY"


class SpanScore(BaseModel):
    """The score of the characters ``begin:end`` of the comment."""

    begin: int
    end: int
    score: Score


class AttributeScore(BaseModel):
    """An attribute's summary score and, when asked, its span scores."""

    model_config = ConfigDict(populate_by_name=True)

    summary_score: Score = Field(..., serialization_alias="summaryScore")
    span_scores: list[SpanScore] | None = Field(None, serialization_alias="spanScores")


class HateprotoExtras(BaseModel):
    """What hateproto adds to a Perspective response (ignored by Perspective clients)."""

    label: str
    hate_probability: float
    threshold: float
    calibrated: bool
    model: str


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(begin, end)`` character offsets of each sentence of ``text`` (whitespace trimmed).

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


def is_perspective_path(path: str) -> bool:
    """Whether ``path`` is served by this module (its errors take Google's shape)."""
    return path.startswith(("/v1alpha1/", "/$discovery/"))


def payload_too_large(limit: int) -> PerspectiveError:
    """Google's refusal of a body over ``limit`` bytes."""
    return PerspectiveError(400, f"Request payload size exceeds the limit: {limit} bytes.")


async def read_request_body(request: Request, settings: ServiceSettings) -> bytes:
    """The body within the size limit, declared as JSON (or undeclared), else the refusal
    in Google's shape (see :func:`hateproto.service.validation.read_body`)."""
    limit = settings.max_body_bytes()
    try:
        return await read_body(request, limit, settings)
    except BodyProblem as exc:
        if exc.status == 413:
            raise payload_too_large(limit) from None
        raise PerspectiveError(400, f"Invalid JSON payload received. {exc.message}") from None


def parse_request(raw: bytes, settings: ServiceSettings) -> AnalyzeCommentRequest:
    """The request body, checked in Perspective's order, or a :class:`PerspectiveError`."""
    try:
        request = AnalyzeCommentRequest.model_validate(parse_json(raw))
    except BodyProblem as exc:
        raise PerspectiveError(400, f"Invalid JSON payload received. {exc.message}") from None
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise PerspectiveError(
            400, f"Invalid JSON payload received. Invalid value at '{where}'"
        ) from None
    text = request.comment.text if request.comment else ""
    problem = content_problem(text)
    if problem == "text is empty":
        raise PerspectiveError(400, "Comment must be non-empty.")
    if problem is not None:
        raise PerspectiveError(400, f"Invalid comment text: {problem.removeprefix('text ')}.")
    if request.comment.type not in (None, "PLAIN_TEXT"):
        raise PerspectiveError(400, "Currently, only 'PLAIN_TEXT' comments are supported")
    size = len(text.encode("utf-8", "surrogatepass"))
    limit = min(MAX_COMMENT_BYTES, 4 * settings.max_chars_per_text)
    if size > limit or len(text) > settings.max_chars_per_text:
        raise PerspectiveError(
            400, f"Comment text was too many bytes. Value ({size}) exceeded limit ({limit})."
        )
    if not request.requested_attributes:
        raise PerspectiveError(400, "Missing requested_attributes")
    return request


def check_attributes(
    request: AnalyzeCommentRequest, attributes: tuple[str, ...], languages: tuple[str, ...]
) -> list[str]:
    """The request's languages (default: the detector's), after the attribute, score-type and
    language checks."""
    assert request.requested_attributes is not None
    for name, options in request.requested_attributes.items():
        if name not in attributes:
            raise PerspectiveError(400, f"Unknown requested attribute: {name}")
        if options.score_type not in (None, "PROBABILITY"):
            raise PerspectiveError(
                400,
                f"Requested score type {options.score_type} is not supported by attribute {name}",
            )
    wanted = [code.strip() for code in request.languages or [] if code.strip()]
    supported = [code for code in wanted if code.split("-")[0].lower() in languages]
    if wanted and not supported:
        name = next(iter(request.requested_attributes))
        raise PerspectiveError(
            400, f"Attribute {name} does not support request languages: {', '.join(wanted)}"
        )
    return supported or list(languages)


def build_response(
    request: AnalyzeCommentRequest,
    spans: list[tuple[int, int]],
    probabilities: list[float],
    languages: list[str],
    extras: HateprotoExtras,
) -> dict[str, Any]:
    """The ``AnalyzeCommentResponse`` body: ``probabilities[0]`` is the whole comment's, the
    rest one per span."""
    assert request.requested_attributes is not None
    summary = Score(value=probabilities[0])
    span_scores = None
    if request.span_annotations:
        span_scores = [
            SpanScore(begin=b, end=e, score=Score(value=p))
            for (b, e), p in zip(spans, probabilities[1:], strict=True)
        ]
    scores = {}
    for name, options in request.requested_attributes.items():
        if options.score_threshold is not None and summary.value < options.score_threshold:
            continue
        scores[name] = AttributeScore(summary_score=summary, span_scores=span_scores).model_dump(
            by_alias=True, exclude_none=True
        )
    body: dict[str, Any] = {"attributeScores": scores, "languages": languages}
    if request.client_token is not None:
        body["clientToken"] = request.client_token
    body["hateproto"] = extras.model_dump()
    return body


def check_key(request: Request, settings: ServiceSettings) -> None:
    """The service token as ``?key=`` or ``Authorization: Bearer``, when the service has one."""
    if settings.api_token is None:
        return
    expected = settings.api_token.get_secret_value().encode()
    header = request.headers.get("authorization", "")
    given = request.query_params.get("key")
    if given is None and header.lower().startswith("bearer "):
        given = header[7:].strip()
    if given is None:
        raise PerspectiveError(403, "The request is missing a valid API key.")
    if not secrets.compare_digest(given.encode(), expected):
        raise PerspectiveError(400, "API key not valid. Please pass a valid API key.")


async def score_texts(batcher: MicroBatcher, texts: list[str]) -> list[Any]:
    """The batcher's predictions, its errors as :class:`PerspectiveError`."""
    return await submit_or_raise(batcher, texts, PerspectiveError, bad_input_status=400)


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


def root_url(request: Request, settings: ServiceSettings) -> str:
    """The service's own address for the discovery document: ``public_url`` if set, else the
    address the server is bound to; never the client's ``Host`` header."""
    if settings.public_url is not None:
        return settings.public_url.rstrip("/") + "/"
    host, port = request.scope.get("server") or ("127.0.0.1", 8000)
    host = f"[{host}]" if ":" in str(host) else host
    return f"{request.url.scheme}://{host}:{port}/"


def discovery_document(root_url: str) -> dict[str, Any]:
    """A minimal Google discovery document for ``commentanalyzer v1alpha1`` served here."""
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "commentanalyzer:v1alpha1",
        "name": "commentanalyzer",
        "version": "v1alpha1",
        "title": "hateproto (Perspective Comment Analyzer API compatible)",
        "protocol": "rest",
        "rootUrl": root_url,
        "servicePath": "",
        "batchPath": "batch",
        "parameters": {
            "key": {"type": "string", "location": "query", "description": "API key."},
            "alt": {"type": "string", "location": "query", "default": "json", "enum": ["json"]},
        },
        "schemas": {
            "AnalyzeCommentRequest": {"id": "AnalyzeCommentRequest", "type": "object"},
            "AnalyzeCommentResponse": {"id": "AnalyzeCommentResponse", "type": "object"},
        },
        "resources": {
            "comments": {
                "methods": {
                    "analyze": {
                        "id": "commentanalyzer.comments.analyze",
                        "path": "v1alpha1/comments:analyze",
                        "flatPath": "v1alpha1/comments:analyze",
                        "httpMethod": "POST",
                        "parameters": {},
                        "parameterOrder": [],
                        "request": {"$ref": "AnalyzeCommentRequest"},
                        "response": {"$ref": "AnalyzeCommentResponse"},
                    }
                }
            }
        },
    }


def perspective_router(
    batcher: MicroBatcher, settings: ServiceSettings, facts: DetectorFacts
) -> APIRouter:
    """The ``comments:analyze`` and discovery routes around the service's batcher."""
    router = APIRouter(tags=["perspective"])
    attributes = tuple(a.upper() for a in facts.attributes)
    languages = tuple(code.lower() for code in facts.languages)

    @router.post(
        "/v1alpha1/comments:analyze",
        summary="Perspective-compatible AnalyzeComment",
        description="See docs/perspective.md; errors use Google's JSON error shape.",
    )
    async def analyze(request: Request) -> JSONResponse:
        try:
            check_key(request, settings)
            body = parse_request(await read_request_body(request, settings), settings)
            chosen = check_attributes(body, attributes, languages)
            assert body.comment is not None
            text = body.comment.text
            spans = sentence_spans(text) if body.span_annotations else []
            check_span_count(len(spans), settings)
            predictions = await score_texts(batcher, [text] + [text[b:e] for b, e in spans])
            if not all(math.isfinite(p.hate_probability) for p in predictions):
                raise PerspectiveError(500, "the model returned a non-finite score")
        except PerspectiveError as exc:
            return exc.response()
        first = predictions[0]
        extras = HateprotoExtras(
            label=first.label,
            hate_probability=first.hate_probability,
            threshold=facts.threshold,
            calibrated=facts.calibrated,
            model=facts.model,
        )
        probabilities = [p.hate_probability for p in predictions]
        return JSONResponse(build_response(body, spans, probabilities, chosen, extras))

    @router.get("/$discovery/rest", include_in_schema=False)
    async def discovery(request: Request) -> JSONResponse:
        try:
            check_key(request, settings)
        except PerspectiveError as exc:
            return exc.response()
        return JSONResponse(discovery_document(root_url(request, settings)))

    return router
