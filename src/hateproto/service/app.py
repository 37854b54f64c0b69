"""The HTTP moderation service: ``create_app(detector, settings)`` builds the FastAPI app.

Endpoints:

* ``POST /v1/classify`` ``{"texts": [...]}`` → per text ``label``, ``hate_probability``,
  ``margin``, ``exit_layer``;
* ``GET /v1/info``: model, prototypes, versions, thresholds, limits, batching counters;
* ``GET /healthz``: liveness (no auth);
* ``GET /docs``, ``GET /openapi.json``: the OpenAPI description.

Too many texts, too long a text or too large a body → 413; invalid JSON, non-string or empty
texts, an empty list → 422; a missing or wrong bearer token (when ``HATEPROTO_API_TOKEN`` is
set) → 401; a full queue or a stopping service → 503. Every error body is
``{"detail": "<message>"}`` and the message states the limit that was hit.

Example:
    >>> app = create_app(Detector.from_pretrained("detectors/ihc"))  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)                # doctest: +SKIP
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StrictStr

from hateproto.errors import HateprotoError
from hateproto.service.batcher import MicroBatcher, Overloaded, ShuttingDown
from hateproto.service.settings import ServiceSettings

log = logging.getLogger("hateproto.service")


class ClassifyRequest(BaseModel):
    """Texts to classify."""

    texts: list[StrictStr] = Field(
        ..., description="The posts to classify, one string each.", examples=[["some post"]]
    )


class TextResult(BaseModel):
    """The decision on one text."""

    label: Literal["hate", "not_hate"]
    hate_probability: float = Field(..., ge=0.0, le=1.0)
    margin: float = Field(..., description="Top-1 minus top-2 similarity at the exit layer.")
    exit_layer: int = Field(..., description="Layer the decision was taken at (1..L).")


class ClassifyResponse(BaseModel):
    """One result per text, in request order."""

    results: list[TextResult]
    model: str
    took_ms: float


def create_app(detector: Any, settings: ServiceSettings | None = None) -> FastAPI:
    """Build the service around ``detector`` (a :class:`~hateproto.detector.Detector`, or any
    object with ``score(texts) -> list[Prediction]`` and ``info() -> dict``)."""
    from hateproto import __version__

    settings = settings or ServiceSettings()
    batcher = MicroBatcher(
        detector.score,
        max_batch_size=settings.max_batch_size,
        max_wait_ms=settings.max_wait_ms,
        enabled=settings.micro_batching,
        max_queue_texts=settings.max_queue_texts,
    )
    info = detector.info()
    model_name = str(info.get("model", {}).get("reference", "unknown"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        log.info("service started", extra={"event": "start", "model": model_name})
        yield
        log.info("service stopping: finishing queued requests", extra={"event": "stopping"})
        await batcher.stop()
        log.info("service stopped", extra={"event": "stop", **batcher.stats.as_dict()})

    app = FastAPI(
        title="hateproto moderation service",
        version=__version__,
        description="Classify posts as hate or not hate with a hateproto detector.",
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    app.state.settings = settings
    _install_middleware(app, settings)
    _install_error_handlers(app)
    auth = _auth_dependency(settings)

    @app.get("/healthz", tags=["service"], summary="Liveness")
    async def healthz() -> JSONResponse:
        """``{"status": "ok"}`` while the model worker runs, else 503."""
        if not batcher.healthy:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "queued_texts": batcher.queued_texts})

    @app.get("/v1/info", tags=["service"], summary="Model, prototypes, thresholds, limits")
    async def v1_info(_: None = Depends(auth)) -> dict[str, Any]:
        """What the service runs and its limits."""
        return {
            **info,
            "service": {
                "hateproto_version": __version__,
                **settings.model_dump(exclude={"api_token"}),
                "auth": settings.api_token is not None,
                "batching": batcher.stats.as_dict(),
            },
        }

    @app.post(
        "/v1/classify",
        response_model=ClassifyResponse,
        tags=["moderation"],
        summary="Classify texts",
        responses={
            401: {"description": "Missing or wrong bearer token"},
            413: {"description": "Too many texts, or a text too long"},
            422: {"description": "Invalid JSON, an empty list, or a text that is not a string"},
            503: {"description": "Overloaded or shutting down; retry"},
        },
    )
    async def classify(body: ClassifyRequest, _: None = Depends(auth)) -> ClassifyResponse:
        """Label, hate probability, margin and exit layer for each text."""
        started = time.perf_counter()
        _check_limits(body.texts, settings)
        try:
            predictions = await batcher.submit(body.texts)
        except (Overloaded, ShuttingDown) as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": "1"}) from None
        results = [TextResult(**p.to_dict()) for p in predictions]
        took = round((time.perf_counter() - started) * 1e3, 2)
        return ClassifyResponse(results=results, model=model_name, took_ms=took)

    return app


def _check_limits(texts: list[str], settings: ServiceSettings) -> None:
    """413 for too many or too long texts, 422 for an empty list or an empty text."""
    if not texts:
        raise HTTPException(
            422,
            f"texts is empty: send between 1 and {settings.max_texts_per_request} texts",
        )
    if len(texts) > settings.max_texts_per_request:
        raise HTTPException(
            413,
            f"too many texts: {len(texts)} in one request; the limit is "
            f"{settings.max_texts_per_request} texts per request",
        )
    for index, text in enumerate(texts):
        if len(text) > settings.max_chars_per_text:
            raise HTTPException(
                413,
                f"text {index} has {len(text):,} characters; the limit is "
                f"{settings.max_chars_per_text:,} characters per text",
            )
        if not text.strip():
            raise HTTPException(422, f"text {index} is empty or only whitespace")


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
    """Request ids, a body-size limit, and one JSON log line per request."""
    max_body = settings.max_body_bytes()

    @app.middleware("http")
    async def observe(request: Request, call_next: Any) -> Any:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            response = JSONResponse(
                {
                    "detail": f"request body of {int(length):,} bytes is too large; the limit "
                    f"is {max_body:,} bytes ({settings.max_texts_per_request} texts of at most "
                    f"{settings.max_chars_per_text:,} characters)"
                },
                status_code=413,
            )
        else:
            response = await call_next(request)
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
    """422 bodies that name the problem (without echoing the posts back)."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"loc": [str(p) for p in error.get("loc", ())], "msg": error.get("msg", "")}
            for error in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(p['loc'][1:]) or 'body'}: {p['msg']}" for p in problems[:5])
        message = f"invalid request: {summary}" if summary else "invalid request"
        return JSONResponse({"detail": message, "errors": problems[:20]}, status_code=422)

    @app.exception_handler(HateprotoError)
    async def rejected(request: Request, exc: HateprotoError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return JSONResponse({"detail": "internal error; see the service log"}, status_code=500)
