"""Every request body is checked at the edge, before it can reach the model.

:func:`parse_texts` turns the raw body of ``POST /v1/classify`` into the list of texts, or
raises :class:`RequestProblem` with the HTTP status and a message that names the problem and
the text index (never the text itself):

* 422: a body that is not UTF-8 or not JSON, not ``{"texts": [...]}``, an empty list, an item
  that is not a string, an empty text, a text with no visible character (zero-width
  space, BOM, NUL...), a text with an unpaired surrogate (``"\\udc80"``);
* 413: too many texts, or a text longer than the character limit.

Example:
    >>> parse_texts(b'{"texts": ["a post"]}', ServiceSettings(api_token=None))
    ['a post']
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from hateproto.scoring.texts import content_problem
from hateproto.service.schemas import ClassifyRequest
from hateproto.service.settings import ServiceSettings


class RequestProblem(Exception):
    """A request the service refuses: ``status``, a one-line ``message``, optional details."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


class BodyProblem(Exception):
    """A body that cannot be read as JSON (each endpoint answers it in its own shape):
    ``status`` 413 for a body over the size limit, 415 for a content type that is not
    JSON, else 422."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def too_large_message(size: int, limit: int, settings: ServiceSettings) -> str:
    """The one message for a body over ``limit`` bytes (``size``: at least this many)."""
    return (
        f"request body of {size:,} bytes is too large; the limit is {limit:,} bytes "
        f"({settings.max_texts_per_request} texts of at most {settings.max_chars_per_text:,} "
        "characters)"
    )


def check_content_type(content_type: str | None) -> None:
    """Refuse a body declared as anything but JSON (``text/plain``, a form...): a browser may
    send those cross-site without asking first. No ``Content-Type`` at all is read as JSON."""
    if not content_type:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise BodyProblem(415, f"Content-Type {media!r} is not accepted; send application/json")


async def read_body(request: Any, limit: int, settings: ServiceSettings) -> bytes:
    """The request body, read as it streams in and refused (:class:`BodyProblem` 413) as soon
    as it passes ``limit`` bytes, whether or not it declared a ``Content-Length`` (a chunked
    body declares none); a non-JSON ``Content-Type`` is refused first (415)."""
    check_content_type(request.headers.get("content-type"))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyProblem(413, too_large_message(size, limit, settings))
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """The JSON document in ``raw``; :class:`BodyProblem` (422) for a body that is not UTF-8,
    not JSON, nested too deeply or holding an integer too long to convert."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BodyProblem(
            422,
            f"the body is not valid UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}; "
            "send JSON encoded as UTF-8",
        ) from None
    except json.JSONDecodeError as exc:
        raise BodyProblem(
            422,
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    except RecursionError:
        raise BodyProblem(422, "the body is not valid JSON: it is nested too deeply") from None
    except ValueError:  # an integer of more than 4,300 digits
        raise BodyProblem(
            422, "the body is not valid JSON: it holds a number too long to read"
        ) from None


def parse_texts(raw: bytes, settings: ServiceSettings) -> list[str]:
    """The texts of a ``/v1/classify`` body, after every check (see the module docstring)."""
    try:
        document = parse_json(raw)
    except BodyProblem as exc:
        raise RequestProblem(exc.status, exc.message) from None
    try:
        texts = ClassifyRequest.model_validate(document).texts
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from None
    check_limits(texts, settings)
    return texts


def invalid_request(errors: list[Any], prefix: tuple[str, ...] = ("body",)) -> RequestProblem:
    """A 422 :class:`RequestProblem` summarising pydantic's ``errors`` (without the inputs);
    each location gets ``prefix`` in front, and the summary leaves out its first part (the
    location kind: ``body``, ``query``...)."""
    problems = [
        {"loc": [*prefix, *map(str, error.get("loc", ()))], "msg": error.get("msg", "")}
        for error in errors
    ]
    summary = "; ".join(f"{'.'.join(p['loc'][1:]) or 'body'}: {p['msg']}" for p in problems[:5])
    message = f"invalid request: {summary}" if summary else "invalid request"
    return RequestProblem(422, message, problems[:20])


def check_limits(texts: list[str], settings: ServiceSettings) -> None:
    """413 for too many or too long texts; 422 for an empty list, an empty text, or a text
    that is not valid Unicode."""
    if not texts:
        raise RequestProblem(
            422, f"texts is empty: send between 1 and {settings.max_texts_per_request} texts"
        )
    if len(texts) > settings.max_texts_per_request:
        raise RequestProblem(
            413,
            f"too many texts: {len(texts)} in one request; the limit is "
            f"{settings.max_texts_per_request} texts per request",
        )
    for index, text in enumerate(texts):
        if len(text) > settings.max_chars_per_text:
            raise RequestProblem(
                413,
                f"text {index} has {len(text):,} characters; the limit is "
                f"{settings.max_chars_per_text:,} characters per text",
            )
        problem = content_problem(text)
        if problem == "text is empty":
            raise RequestProblem(422, f"text {index} is empty or only whitespace")
        if problem is not None:
            advice = "send valid Unicode" if "surrogate" in problem else "send visible text"
            raise RequestProblem(422, f"text {index} {problem.removeprefix('text ')}; {advice}")
