"""The review page: moderators label the posts the detector is least sure of.

Routes (``/review`` serves the page; the rest is its JSON API):

* ``GET /review``, ``GET /review/static/{file}``: the page (HTML, CSS, JS shipped in the
  package, no CDN);
* ``POST /review/api/login`` ``{"token", "moderator"}``: checks the service token
  (``HATEPROTO_API_TOKEN``; any token when the service runs without one) and sets a signed
  session cookie (HttpOnly, SameSite=Strict, 12 h) and a CSRF cookie;
* ``GET /review/api/session``, ``GET /review/api/next``: the moderator, their label count,
  the posts waiting, and the next post (claimed for 2 minutes so that moderators working at
  once get different posts);
* ``POST /review/api/labels`` ``{"post_id", "label", "request_id"}``, ``POST
  /review/api/skip``, ``POST /review/api/undo`` ``{"label_id"}``, ``POST
  /review/api/logout``: need the CSRF token in ``X-CSRF-Token`` equal to the one signed in
  the session and to the CSRF cookie (double submit), and a same-origin ``Origin`` when the
  browser sends one; a label is committed before the answer;
* ``GET /review/api/export.csv``: every label as CSV (formula cells made inert).

Posts are hostile text: the page writes them with ``textContent`` only, and every answer
carries a Content-Security-Policy that allows no inline script, no other origin and no
framing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from hateproto.feedback.store import FeedbackError, FeedbackStore
from hateproto.service.settings import ServiceSettings

STATIC = Path(__file__).parent / "review_static"
FILES = {"review.css": "text/css", "review.js": "text/javascript"}
SESSION_COOKIE = "hateproto_review"
CSRF_COOKIE = "hateproto_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_S = 12 * 3600
CLAIM_S = 120.0
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Login(BaseModel):
    """The login form."""

    token: str = Field("", max_length=4096)
    moderator: str = Field(..., min_length=1, max_length=64)


class LabelIn(BaseModel):
    """One label."""

    post_id: int
    label: Literal["hate", "not_hate"]
    request_id: str = Field(..., min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class PostRef(BaseModel):
    """A post to skip."""

    post_id: int


class UndoIn(BaseModel):
    """A label to undo."""

    label_id: int


@dataclass(frozen=True)
class Session:
    """A logged-in moderator and the CSRF token of their session."""

    moderator: str
    csrf: str
    expires: int


class SessionSigner:
    """Signs and checks session cookies with a key derived from the service token (replicas
    with the same token accept each other's sessions), or a random key without one."""

    def __init__(self, settings: ServiceSettings) -> None:
        token = settings.api_token.get_secret_value() if settings.api_token else None
        secret = token.encode() if token else secrets.token_bytes(32)
        self.key = hmac.new(secret, b"hateproto review session v1", hashlib.sha256).digest()

    def sign(self, session: Session) -> str:
        """The cookie value of ``session``."""
        body = json.dumps({"m": session.moderator, "c": session.csrf, "e": session.expires})
        payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{payload}.{self._mac(payload)}"

    def read(self, value: str | None) -> Session | None:
        """The session in a cookie value, if its signature holds and it has not expired."""
        if not value or "." not in value:
            return None
        payload, _, mac = value.rpartition(".")
        if not secrets.compare_digest(mac, self._mac(payload)):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = Session(str(body["m"]), str(body["c"]), int(body["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def _mac(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()


def clean_moderator(name: str) -> str:
    """A moderator name: trimmed, printable, 1 to 64 characters (else 422)."""
    name = " ".join(name.split())
    if not name or not name.isprintable() or len(name) > 64:
        raise HTTPException(422, "the moderator name must be 1 to 64 printable characters")
    return name


def review_router(store: FeedbackStore, settings: ServiceSettings) -> APIRouter:
    """The review page and its API over ``store``."""
    router = APIRouter(prefix="/review", include_in_schema=False)
    signer = SessionSigner(settings)
    expected = settings.api_token.get_secret_value().encode() if settings.api_token else None

    def session_of(request: Request) -> Session:
        session = signer.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise HTTPException(401, "not logged in (or the session expired): log in again")
        return session

    def checked_post(request: Request) -> Session:
        session = session_of(request)
        sent = request.headers.get(CSRF_HEADER, "")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not (
            sent
            and secrets.compare_digest(sent, session.csrf)
            and secrets.compare_digest(cookie, session.csrf)
        ):
            raise HTTPException(403, "missing or wrong CSRF token: reload the review page")
        origin = request.headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
            raise HTTPException(403, f"a request from another origin ({origin}) is refused")
        return session

    @router.get("")
    async def page() -> Response:
        return _secured(FileResponse(STATIC / "index.html", media_type="text/html"))

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in FILES:
            raise HTTPException(404, "no such file")
        return _secured(FileResponse(STATIC / name, media_type=FILES[name]))

    @router.post("/api/login")
    async def login(body: Login, request: Request) -> Response:
        if expected is not None and not secrets.compare_digest(body.token.encode(), expected):
            await asyncio.sleep(0.5)  # slows guessing
            raise HTTPException(401, "wrong token: give the service's HATEPROTO_API_TOKEN")
        moderator = clean_moderator(body.moderator)
        session = Session(moderator, secrets.token_urlsafe(24), int(time.time()) + SESSION_S)
        count = await asyncio.to_thread(store.count, moderator)
        response = _secured(JSONResponse({"moderator": moderator, "count": count}))
        secure = request.url.scheme == "https"
        response.set_cookie(
            SESSION_COOKIE,
            signer.sign(session),
            max_age=SESSION_S,
            path="/review",
            httponly=True,
            samesite="strict",
            secure=secure,
        )
        response.set_cookie(
            CSRF_COOKIE,
            session.csrf,
            max_age=SESSION_S,
            path="/review",
            httponly=False,
            samesite="strict",
            secure=secure,
        )
        return response

    @router.post("/api/logout")
    async def logout(_: Session = Depends(checked_post)) -> Response:
        response = _secured(JSONResponse({"logged_out": True}))
        response.delete_cookie(SESSION_COOKIE, path="/review")
        response.delete_cookie(CSRF_COOKIE, path="/review")
        return response

    @router.get("/api/session")
    async def who(session: Session = Depends(session_of)) -> Response:
        count = await asyncio.to_thread(store.count, session.moderator)
        waiting = await asyncio.to_thread(store.waiting, session.moderator)
        return _secured(
            JSONResponse({"moderator": session.moderator, "count": count, "waiting": waiting})
        )

    @router.get("/api/next")
    async def next_post(session: Session = Depends(session_of)) -> Response:
        post = await asyncio.to_thread(store.next_post, session.moderator, CLAIM_S)
        waiting = await asyncio.to_thread(store.waiting, session.moderator)
        return _secured(JSONResponse({"post": post, "waiting": waiting}))

    @router.post("/api/labels")
    async def label(body: LabelIn, session: Session = Depends(checked_post)) -> Response:
        result = await _stored(
            store.add_label, body.post_id, body.label, session.moderator, body.request_id
        )
        return _secured(
            JSONResponse(
                {
                    "label_id": result.label_id,
                    "post_id": result.post_id,
                    "count": result.count,
                    "duplicate": result.duplicate,
                }
            )
        )

    @router.post("/api/skip")
    async def skip(body: PostRef, session: Session = Depends(checked_post)) -> Response:
        await _stored(store.skip, body.post_id, session.moderator)
        return _secured(JSONResponse({"skipped": body.post_id}))

    @router.post("/api/undo")
    async def undo(body: UndoIn, session: Session = Depends(checked_post)) -> Response:
        answer = await _stored(store.undo, body.label_id, session.moderator, CLAIM_S)
        return _secured(JSONResponse(answer))

    @router.get("/api/export.csv")
    async def export(_: Session = Depends(session_of)) -> Response:
        from hateproto.feedback.export import csv_lines

        rows = await asyncio.to_thread(lambda: list(store.label_rows()))
        response = StreamingResponse(csv_lines(rows), media_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="feedback-labels.csv"'
        return _secured(response)

    return router


async def _stored(call: Any, *args: Any) -> Any:
    """``call(*args)`` in a thread; its :class:`FeedbackError` as the HTTP error it names."""
    try:
        return await asyncio.to_thread(call, *args)
    except FeedbackError as exc:
        raise HTTPException(exc.status, str(exc)) from None


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response
