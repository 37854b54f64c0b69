"""The HTTP moderation service: ``create_app(detector, settings)`` builds the FastAPI app.

Endpoints:

* ``POST /v1/classify`` ``{"texts": [...]}`` → per text ``label``, ``hate_probability``,
  ``margin``, ``exit_layer``;
* ``GET /v1/info``: model, prototypes, versions, thresholds, limits, batching counters;
* ``GET /livez``: liveness (the process and its batching worker run);
* ``GET /readyz`` and ``GET /healthz``: readiness (a canary text is scored through the model;
  503 with the reason when it cannot be) — see :mod:`hateproto.service.health`;
* ``GET /docs`` (an offline page), ``GET /openapi.json``: the OpenAPI description;
* with ``settings.feedback_db``: the posts the queue policy selects are stored for review
  (:mod:`hateproto.service.feedback`) and ``/review`` serves the review page
  (:mod:`hateproto.service.review`).

Every body is checked before it reaches the model (:mod:`hateproto.service.validation`):
too many texts or too long a text or body → 413; a body that is not UTF-8 JSON, non-string,
empty or invalid-Unicode texts, an empty list → 422 naming the text index; a missing or
wrong bearer token (when ``HATEPROTO_API_TOKEN`` is set) → 401; a full queue or a stopping
service → 503; a request the model fails on → 500 for that request only (its batch
neighbours are retried alone). Every error body is ``{"detail": "<message>"}``, and no error
closes the client's keep-alive connection.

Example:
    >>> app = create_app(Detector.from_pretrained("detectors/ihc"))  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)                # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from hateproto.detector.results import Prediction
from hateproto.errors import HateprotoError
from hateproto.service.batcher import MicroBatcher, submit_or_raise
from hateproto.service.docs_page import docs_html
from hateproto.service.health import ReadinessProbe
from hateproto.service.model_thread import ModelThread
from hateproto.service.perspective import perspective_router
from hateproto.service.perspective_errors import (
    PerspectiveError,
    is_perspective_path,
    not_found,
    payload_too_large,
)
from hateproto.service.schemas import ClassifyRequest, ClassifyResponse
from hateproto.service.settings import ServiceSettings
from hateproto.service.validation import (
    BodyProblem,
    RequestProblem,
    invalid_request,
    parse_texts,
    read_body,
    too_large_message,
)

__all__ = ["ClassifyRequest", "ClassifyResponse", "create_app"]

log = logging.getLogger("hateproto.service")

_CLASSIFY_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong bearer token"},
    413: {"description": "Too many texts, a text too long, or a body too large"},
    422: {
        "description": "Not UTF-8 JSON, an empty list, or a text that is not a non-empty, "
        "valid Unicode string (the message names the text index)"
    },
    500: {"description": "The model failed on this request (other requests are unaffected)"},
    503: {"description": "Overloaded or shutting down; retry"},
}


def create_app(
    detector: Any,
    settings: ServiceSettings | None = None,
    model_thread: ModelThread | None = None,
) -> FastAPI:
    """Build the service around ``detector`` (a :class:`~hateproto.detector.Detector`, or any
    object with ``score(texts) -> list[Prediction]``, ``info() -> dict`` and
    ``facts() -> DetectorFacts``).

    ``model_thread`` runs every model call (:mod:`.model_thread`): pass the thread that
    loaded ``detector``, as ``hateproto serve`` does, so that one thread runs the model for
    the life of the process. ``None``: the service starts a thread of its own."""
    from hateproto.provenance import hateproto_version

    __version__ = hateproto_version()

    settings = settings or ServiceSettings()
    owns_thread = model_thread is None
    model_thread = model_thread or ModelThread()
    batcher = MicroBatcher(
        detector.score,
        max_batch_size=settings.max_batch_size,
        max_wait_ms=settings.max_wait_ms,
        enabled=settings.micro_batching,
        max_queue_texts=settings.max_queue_texts,
        model_thread=model_thread,
    )
    probe = ReadinessProbe(batcher, settings.readiness_cache_s, settings.readiness_timeout_s)
    info = detector.info()
    facts = detector.facts()
    model_name = facts.model
    recorder = _feedback_recorder(detector, settings, facts, model_thread)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        if recorder is not None:
            await recorder.start()
        auth = "bearer token" if settings.api_token is not None else "off"
        log.info(
            f"service started (auth: {auth})",
            extra={"event": "start", "model": model_name, "auth": auth},
        )
        yield
        log.info("service stopping: finishing queued requests", extra={"event": "stopping"})
        await batcher.stop()
        if recorder is not None:
            await recorder.stop()
        if owns_thread:
            model_thread.close()
        log.info("service stopped", extra={"event": "stop", **batcher.stats.as_dict()})

    app = FastAPI(
        title="hateproto moderation service",
        version=__version__,
        description="Classify posts as hate or not hate with a hateproto detector.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.batcher = batcher
    app.state.probe = probe
    app.state.settings = settings
    app.state.feedback = recorder
    _install_middleware(app, settings)
    if settings.allowed_hosts is not None and "*" not in settings.allowed_hosts:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    _install_error_handlers(app)
    _install_health(app, probe, batcher)
    auth = _auth_dependency(settings)
    store = recorder.store if recorder is not None else None
    app.include_router(perspective_router(batcher, settings, facts, store))
    if store is not None:
        from hateproto.service.review import review_router

        app.include_router(review_router(store, settings))

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(app.openapi()))

    @app.get("/v1/info", tags=["service"], summary="Model, prototypes, thresholds, limits")
    async def v1_info(_: None = Depends(auth)) -> dict[str, Any]:
        """What the service runs and its limits."""
        return {
            **info,
            "service": {
                "hateproto_version": __version__,
                **settings.model_dump(exclude={"api_token", "feedback_db"}),
                "auth": settings.api_token is not None,
                "feedback": None
                if recorder is None
                else {"database": recorder.store.describe(), **recorder.stats},
                "batching": batcher.stats.as_dict(),
                "readiness_canaries": probe.canaries,
            },
        }

    @app.post(
        "/v1/classify",
        response_model=ClassifyResponse,
        response_model_exclude_none=True,
        tags=["moderation"],
        summary="Classify texts",
        responses=_CLASSIFY_RESPONSES,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ClassifyRequest.model_json_schema()}},
            }
        },
    )
    async def classify(request: Request, _: None = Depends(auth)) -> ClassifyResponse:
        """Label, hate probability, margin and exit layer for each text."""
        started = time.perf_counter()
        texts = parse_texts(await _read_body(request, settings), settings)
        predictions = await _score(batcher, texts)
        results = [_checked(p, index) for index, p in enumerate(predictions)]
        if recorder is not None:
            recorder.observe(texts, results)
        took = round((time.perf_counter() - started) * 1e3, 2)
        return ClassifyResponse(
            results=results,
            model=model_name,
            took_ms=took,
            threshold=facts.threshold,
            calibrated=facts.calibrated,
        )

    return app


def _feedback_recorder(
    detector: Any, settings: ServiceSettings, facts: Any, model_thread: ModelThread
) -> Any:
    """The :class:`~hateproto.service.feedback.FeedbackRecorder` over the settings'
    feedback database (opened and migrated now), or ``None`` without one."""
    if settings.feedback_db is None:
        return None
    from hateproto.optional import require

    require("sqlalchemy", extra="feedback", purpose="the feedback database (--feedback-db)")
    require("alembic", extra="feedback", purpose="the feedback database (--feedback-db)")
    from hateproto.feedback.policy import QueuePolicy
    from hateproto.feedback.store import FeedbackStore
    from hateproto.service.feedback import FeedbackRecorder

    store = FeedbackStore.open(settings.feedback_db)
    policy = QueuePolicy(band=settings.queue_band, sample_rate=settings.queue_sample_rate)
    log.info(
        f"feedback database: {store.describe()}",
        extra={"event": "feedback", "database": store.describe()},
    )
    return FeedbackRecorder(store, policy, facts, detector, model_thread)


async def _read_body(request: Request, settings: ServiceSettings) -> bytes:
    """The body of a ``/v1/classify`` request within the size limit (413), if JSON (415)."""
    try:
        return await read_body(request, settings.max_body_bytes(), settings)
    except BodyProblem as exc:
        raise RequestProblem(exc.status, exc.message) from None


async def _score(batcher: MicroBatcher, texts: list[str]) -> list[Any]:
    """The batcher's predictions; its errors as HTTP errors for this request only."""
    return await submit_or_raise(batcher, texts, _http_error)


def _http_error(status: int, message: str) -> Exception:
    if status == 503:
        return HTTPException(503, message, headers={"Retry-After": "1"})
    return RequestProblem(status, message) if status < 500 else HTTPException(status, message)


def _checked(prediction: Prediction, index: int) -> Prediction:
    """``prediction`` once its scores are finite (a NaN is a model failure, not a decision)."""
    if not all(math.isfinite(v) for v in (prediction.hate_probability, prediction.margin)):
        raise HTTPException(500, f"the model returned a non-finite score for text {index}")
    return prediction


def _install_health(app: FastAPI, probe: ReadinessProbe, batcher: MicroBatcher) -> None:
    """``/livez`` (liveness), ``/readyz`` and ``/healthz`` (readiness); no auth."""

    @app.get("/livez", tags=["service"], summary="Liveness: the process runs")
    async def livez() -> JSONResponse:
        """``{"status": "ok"}`` while the event loop and the batching worker run."""
        alive, reason = probe.alive()
        if not alive:
            return JSONResponse({"status": "unavailable", "detail": reason}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def readiness() -> JSONResponse:
        state = await probe.check()
        body = {**state.as_dict(time.monotonic()), "queued_texts": batcher.queued_texts}
        return JSONResponse(body, status_code=200 if state.ready else 503)

    app.get(
        "/readyz",
        tags=["service"],
        summary="Readiness: a canary text is scored through the model",
        description="200 when a canary text (scored at most every readiness_cache_s seconds) "
        "got a valid decision, else 503 with the reason in `detail`.",
    )(readiness)
    app.get(
        "/healthz",
        tags=["service"],
        summary="Readiness (same as /readyz)",
        description="The same check as /readyz; use /livez for liveness.",
    )(readiness)


def _auth_dependency(settings: ServiceSettings) -> Any:
    """A dependency that checks ``Authorization: Bearer <token>`` when a token is set."""
    bearer = HTTPBearer(auto_error=False, description="HATEPROTO_API_TOKEN, if the service has one")
    expected = settings.api_token.get_secret_value().encode() if settings.api_token else None

    async def require_token(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> None:
        if expected is None:
            return
        given = credentials.credentials.encode() if credentials is not None else b""
        if not secrets.compare_digest(given, expected):
            raise HTTPException(
                401,
                "missing or wrong bearer token: send 'Authorization: Bearer <token>' with the "
                "service's HATEPROTO_API_TOKEN",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_token


def _install_middleware(app: FastAPI, settings: ServiceSettings) -> None:
    """Request ids, a body-size limit, one JSON log line per request, and a last-resort 500
    that is answered here (an exception that escaped would make the server drop the
    client's keep-alive connection)."""
    max_body = settings.max_body_bytes()

    @app.middleware("http")
    async def observe(request: Request, call_next: Any) -> Any:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            if is_perspective_path(request.url.path):
                response = payload_too_large(max_body).response()
            else:
                message = too_large_message(int(length), max_body, settings)
                response = JSONResponse({"detail": message}, status_code=413)
        else:
            try:
                response = await call_next(request)
            except Exception as exc:  # noqa: BLE001 - answered, logged with its traceback
                log.error(
                    "unhandled error",
                    exc_info=exc,
                    extra={"path": request.url.path, "request_id": request_id},
                )
                message = f"internal error; see the service log (request {request_id})"
                if is_perspective_path(request.url.path):
                    response = PerspectiveError(500, message).response()
                else:
                    response = JSONResponse({"detail": message}, status_code=500)
        response.headers["X-Request-ID"] = request_id
        log.info(
            "request",
            extra={
                "event": "request",
                "request_id": request_id,
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1e3, 2),
                "client": request.client.host if request.client else None,
            },
        )
        return response


def _install_error_handlers(app: FastAPI) -> None:
    """422/413 bodies that name the problem (without echoing the posts back); on the paths
    of the Perspective protocol, every error in Google's JSON shape (an unknown path or
    method: Google's 404 ``Method not found.``)."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if not is_perspective_path(request.url.path):
            return await http_exception_handler(request, exc)
        if exc.status_code in (404, 405):  # Google: no such method (path and verb)
            return not_found().response()
        return PerspectiveError(exc.status_code, str(exc.detail)).response()

    @app.exception_handler(RequestProblem)
    async def refused(request: Request, exc: RequestProblem) -> JSONResponse:
        body: dict[str, Any] = {"detail": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request_handler(
        request: Request, exc: RequestValidationError
    ) -> JSONResponse:
        if is_perspective_path(request.url.path):
            return PerspectiveError(400, "Invalid JSON payload received.").response()
        return await refused(request, invalid_request(list(exc.errors()), prefix=()))

    @app.exception_handler(HateprotoError)
    async def rejected(request: Request, exc: HateprotoError) -> JSONResponse:
        if is_perspective_path(request.url.path):
            return PerspectiveError(400, str(exc)).response()
        return JSONResponse({"detail": str(exc)}, status_code=422)
