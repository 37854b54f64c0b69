"""Google's batch protocol for the Perspective endpoint: ``POST /batch`` (``batchPath`` of the
discovery document).

A batch is a ``multipart/mixed`` body; each part (``Content-Type: application/http``) holds
one HTTP request, ``POST /v1alpha1/comments:analyze?key=... HTTP/1.1``, its headers and its
JSON body. The answer is ``multipart/mixed`` too: per part, in order, ``Content-ID:
<response-ID>`` (``ID``: the request part's) and the HTTP response (status line, headers,
JSON). This is what ``google-api-python-client``'s ``new_batch_http_request()`` sends and
reads. Each part is authorised by its own key, as Google's batch does.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.responses import Response

from hateproto.service.perspective_errors import PerspectiveError

MAX_PARTS = 1000
"""The most requests one batch may hold (Google's limit)."""


@dataclass
class BatchPart:
    """One request of a batch."""

    content_id: str | None
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _boundary(content_type: str | None) -> bytes:
    media, _, params = (content_type or "").partition(";")
    if media.strip().lower() != "multipart/mixed":
        raise PerspectiveError(400, "Batch requests must be multipart/mixed.")
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary" and value.strip().strip('"'):
            return value.strip().strip('"').encode("latin-1")
    raise PerspectiveError(400, "The multipart/mixed batch request has no boundary.")


def _split_head(block: bytes) -> tuple[list[str], bytes]:
    """Header lines and the rest of ``block`` (CRLF or LF line ends)."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, rest = block.partition(separator)
        if found:
            lines = head.decode("latin-1").replace("\r\n", "\n").split("\n")
            return [line for line in lines if line], rest
    lines = block.decode("latin-1").replace("\r\n", "\n").split("\n")
    return [line for line in lines if line], b""


def _headers(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        name, _, value = line.partition(":")
        out[name.strip().lower()] = value.strip()
    return out


def _part(block: bytes) -> BatchPart:
    lines, inner = _split_head(block.lstrip(b"\r\n"))
    content_id = _headers(lines).get("content-id")
    inner = inner.lstrip(b"\r\n")
    request_line, _, inner = inner.partition(b"\n")
    words = request_line.decode("latin-1").strip().split(" ")
    if len(words) < 2:
        raise PerspectiveError(400, "A batch part does not hold an HTTP request.")
    if inner.startswith((b"\r\n", b"\n")):
        head, body = [], inner[2:] if inner.startswith(b"\r\n") else inner[1:]
    else:
        head, body = _split_head(inner)
    target = urlsplit(words[1])
    query = {k: v[-1] for k, v in parse_qs(target.query, keep_blank_values=True).items()}
    length = _headers(head).get("content-length", "")
    body = body[: int(length)] if length.isdigit() else body.rstrip(b"\r\n")
    return BatchPart(content_id, words[0].upper(), target.path, query, _headers(head), body)


def parse_batch(content_type: str | None, body: bytes) -> list[BatchPart]:
    """The requests of a ``multipart/mixed`` batch body, in order."""
    delimiter = b"--" + _boundary(content_type)
    chunks = body.split(delimiter)[1:]
    parts = []
    for chunk in chunks:
        if chunk.startswith(b"--"):
            break
        parts.append(_part(chunk))
    if not parts:
        raise PerspectiveError(400, "The batch request holds no request.")
    if len(parts) > MAX_PARTS:
        raise PerspectiveError(400, f"A batch request holds at most {MAX_PARTS} requests.")
    return parts


def _response_id(content_id: str | None, index: int) -> str:
    inner = (content_id or "").strip()
    inner = inner[1:-1] if inner.startswith("<") and inner.endswith(">") else inner
    return f"<response-{inner or index + 1}>"


def batch_response(answers: list[tuple[str | None, int, dict[str, Any]]]) -> Response:
    """The ``multipart/mixed`` answer: per ``(content_id, status, JSON body)``, in order."""
    boundary = "batch_" + secrets.token_hex(12)
    out = []
    for index, (content_id, status, document) in enumerate(answers):
        payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
        reason = HTTPStatus(status).phrase
        out.append(
            f"--{boundary}\r\n"
            "Content-Type: application/http\r\n"
            f"Content-ID: {_response_id(content_id, index)}\r\n\r\n"
            f"HTTP/1.1 {status} {reason}\r\n"
            "Content-Type: application/json; charset=UTF-8\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
            + b"\r\n"
        )
    out.append(f"--{boundary}--\r\n".encode())
    return Response(b"".join(out), media_type=f"multipart/mixed; boundary={boundary}")
