"""Perspective's ``AnalyzeCommentRequest``: reading the body and every check, in order.

Field names, types and enums are those of Google's discovery document for
``commentanalyzer v1alpha1`` (see :mod:`hateproto.service.perspective_discovery`); as Google's
JSON parser does, both ``camelCase`` and ``snake_case`` names are accepted and a field the
message does not have is refused. The checks, in the order the endpoint runs them:

1. the body: JSON of the request message (an empty body is the empty message);
2. the comment: non-empty (``COMMENT_EMPTY``), plain text, at most 20,480 UTF-8 bytes
   (``COMMENT_TOO_LONG``); some attributes requested (``NO_REQUESTED_ATTRIBUTES``); a context
   of one kind;
3. the languages: the request's, else the first detected one (none detected:
   ``LANGUAGE_DETECTION_FAILED``);
4. each requested attribute, in the request's order: known, its score type, its languages
   (``LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE``, or dropped with ``dropUnsupportedAttributes``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError
from pydantic.alias_generators import to_camel

from hateproto.data.languages import unsupported_languages
from hateproto.detector.inputs import content_problem
from hateproto.service.perspective_errors import (
    COMMENT_EMPTY,
    COMMENT_TOO_LONG,
    LANGUAGE_DETECTION_FAILED,
    NO_REQUESTED_ATTRIBUTES,
    PerspectiveError,
    analyzer_error,
    invalid_payload,
    invalid_request,
    language_not_supported,
)

MAX_COMMENT_BYTES = 20480
"""Perspective's limit on ``comment.text``, in UTF-8 bytes."""

PACKAGE = "type.googleapis.com/google.commentanalyzer.v1alpha1"
TEXT_TYPES = ("TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML")
SCORE_TYPES = ("SCORE_TYPE_UNSPECIFIED", "PROBABILITY", "STD_DEV_SCORE", "PERCENTILE", "RAW")
SERVED_SCORE_TYPES = ("SCORE_TYPE_UNSPECIFIED", "PROBABILITY")


class _Message(BaseModel):
    """A protobuf message read from JSON: camelCase or snake_case names, no unknown field."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class TextEntry(_Message):
    """A text and its type (``TEXT_TYPE_UNSPECIFIED``, ``PLAIN_TEXT`` or ``HTML``)."""

    text: str | None = None
    type: str | None = None


class ArticleAndParentComment(_Message):
    """The article a comment was left on and the comment it answers."""

    article: TextEntry | None = None
    parent_comment: TextEntry | None = None


class Context(_Message):
    """What the comment refers to: entries, or an article and a parent comment."""

    entries: list[TextEntry] | None = None
    article_and_parent_comment: ArticleAndParentComment | None = None


class AttributeParameters(_Message):
    """How to score one attribute."""

    score_type: str | None = None
    score_threshold: float | None = None


class AnalyzeCommentRequest(_Message):
    """Perspective's ``AnalyzeCommentRequest``."""

    comment: TextEntry | None = None
    context: Context | None = None
    requested_attributes: dict[str, AttributeParameters | None] | None = None
    languages: list[str] | None = None
    span_annotations: StrictBool | None = None
    do_not_store: StrictBool | None = None
    client_token: str | None = None
    session_id: str | None = None
    community_id: str | None = None
    drop_unsupported_attributes: StrictBool | None = None

    @property
    def text(self) -> str:
        """``comment.text`` (``""`` when missing)."""
        return (self.comment.text if self.comment else None) or ""

    @property
    def requested_languages(self) -> list[str]:
        """The request's ``languages`` (blank entries left out)."""
        return [code for code in self.languages or [] if code.strip()]


_TYPE_NAMES = {
    "string_type": "TYPE_STRING",
    "bool_type": "TYPE_BOOL",
    "float_type": "TYPE_FLOAT",
    "float_parsing": "TYPE_FLOAT",
    "finite_number": "TYPE_FLOAT",
    "bool_parsing": "TYPE_BOOL",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _path(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as Google names a field: ``requested_attributes[X].text``."""
    out, previous = "", ""
    for part in loc:
        if isinstance(part, int) or previous == "requested_attributes":
            out += f"[{part}]"
            previous = ""
        else:
            previous = _snake(str(part))
            out += ("." if out else "") + previous
    return out


def _validation_error(exc: ValidationError) -> PerspectiveError:
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        where = _path(loc[:-1])
        at = f" at '{where}'" if where else ""
        return invalid_payload(f'Unknown name "{loc[-1]}"{at}: Cannot find field.', where)
    where = _path(loc)
    kind = _TYPE_NAMES.get(error["type"], "TYPE_MESSAGE")
    value = json.dumps(error.get("input"), ensure_ascii=False)[:80]
    return invalid_payload(f"Invalid value at '{where}' ({kind}), {value}", where)


def parse_request(raw: bytes) -> AnalyzeCommentRequest:
    """The request message in ``raw`` (an empty body is the empty message), or Google's
    refusal of a body it cannot read."""
    if not raw.strip():
        return AnalyzeCommentRequest()
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise invalid_payload(f"The body is not UTF-8 (byte {exc.start}).") from None
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        problem = getattr(exc, "msg", "the body is nested too deeply or has a huge number")
        raise invalid_payload(f"{problem}.") from None
    if not isinstance(document, dict):
        raise invalid_payload("Root element must be a message.")
    try:
        request = AnalyzeCommentRequest.model_validate(document)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    _check_enums(request)
    return request


def _check_enums(request: AnalyzeCommentRequest) -> None:
    """Enum fields hold one of their values (Google's parser refuses others)."""
    entries = [("comment", request.comment)]
    for path, entry in entries:
        if entry is not None and entry.type is not None and entry.type not in TEXT_TYPES:
            raise invalid_payload(
                f"Invalid value at '{path}.type' ({PACKAGE}.TextEntry.TextType), "
                f"{json.dumps(entry.type)}",
                f"{path}.type",
            )
    for name, options in (request.requested_attributes or {}).items():
        if options is None or options.score_type is None or options.score_type in SCORE_TYPES:
            continue
        where = f"requested_attributes[{name}].score_type"
        raise invalid_payload(
            f"Invalid value at '{where}' ({PACKAGE}.AttributeParameters.ScoreType), "
            f"{json.dumps(options.score_type)}",
            where,
        )
    for name, options in (request.requested_attributes or {}).items():
        threshold = options.score_threshold if options is not None else None
        if threshold is not None and not math.isfinite(threshold):
            where = f"requested_attributes[{name}].score_threshold"
            raise invalid_payload(f"Invalid value at '{where}' (TYPE_FLOAT), {threshold}", where)


def check_comment(request: AnalyzeCommentRequest) -> None:
    """The comment, its size, the requested attributes and the context, as Perspective
    checks them (the attributes themselves are checked by :func:`check_attributes`)."""
    text = request.text
    problem = content_problem(text)
    if problem in ("text is empty", "text has no visible characters"):
        raise analyzer_error(COMMENT_EMPTY, "Comment must be non-empty.")
    if problem is not None:
        raise invalid_payload(f"Invalid value at 'comment.text' (TYPE_STRING): {problem}.")
    assert request.comment is not None
    if request.comment.type == "HTML":
        raise invalid_request("Currently, only 'PLAIN_TEXT' comments are supported")
    size = len(text.encode("utf-8"))
    if size > MAX_COMMENT_BYTES:
        raise analyzer_error(
            COMMENT_TOO_LONG,
            f"Comment text was too many bytes. Value ({size}) exceeded limit "
            f"({MAX_COMMENT_BYTES}).",
        )
    if not request.requested_attributes:
        raise analyzer_error(NO_REQUESTED_ATTRIBUTES, "Missing requested_attributes")
    context = request.context
    if context is not None and context.entries and context.article_and_parent_comment:
        raise invalid_request(
            "Context can have either entries or article_and_parent_comment, but both fields "
            "were populated."
        )


def effective_languages(request: AnalyzeCommentRequest, detected: list[str]) -> list[str]:
    """The languages the comment is scored as: the request's, else the most likely detected
    one (Google's ``AnalyzeCommentResponse.languages``); none: Perspective's refusal."""
    requested = request.requested_languages
    if requested:
        return list(request.languages or [])
    if not detected:
        raise analyzer_error(LANGUAGE_DETECTION_FAILED, "Unable to detect language")
    return detected[:1]


def attribute_languages(name: str, served: tuple[str, ...]) -> tuple[str, ...]:
    """The languages attribute ``name`` is answered in (today: every language the detector
    serves; a multilingual detector may answer each attribute in its own)."""
    return served


def check_attributes(
    request: AnalyzeCommentRequest,
    attributes: tuple[str, ...],
    served: tuple[str, ...] | None,
    languages: list[str],
    detected: list[str],
) -> list[tuple[str, float | None]]:
    """``(attribute, scoreThreshold)`` of each requested attribute that is answered, in the
    request's order, after Perspective's checks of each one in turn (unknown attribute,
    score type, languages); with ``dropUnsupportedAttributes`` an attribute that does not
    serve the languages is left out instead of refused. ``served`` ``None``: every
    language is scored (the service's ``any_language`` opt-in)."""
    assert request.requested_attributes
    answered = []
    for name, options in request.requested_attributes.items():
        options = options or AttributeParameters()
        if name not in attributes:
            raise invalid_request(f"Unknown requested attribute: {name}")
        if options.score_type not in (None, *SERVED_SCORE_TYPES):
            raise invalid_request(
                f"Requested score type {options.score_type} is not supported by attribute {name}"
            )
        if served is not None and unsupported_languages(
            languages, attribute_languages(name, served)
        ):
            if request.drop_unsupported_attributes:
                continue
            requested = request.requested_languages
            raise language_not_supported(name, languages, requested, detected)
        answered.append((name, options.score_threshold))
    return answered
