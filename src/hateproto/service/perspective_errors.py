"""Refusals of the Perspective endpoint in Google's JSON error shape.

Every answer that is not a success, on every path Perspective clients call
(``/v1alpha1/...``, ``/$discovery/...``, ``/batch``), is::

    {"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT", "details": [...]}}

with the HTTP status ``code``. ``details`` is left out when there are none, as Google's
servers do. What goes in it:

* the comment analyzer's own refusals carry ``type.googleapis.com/google.commentanalyzer.
  v1alpha1.Error`` with an ``errorType`` (Perspective's "Limits and errors" page: its five
  named types, and ``INVALID_REQUEST`` for any other bad request), plus
  ``languageNotSupportedByAttributeError`` for a language an attribute does not serve;
* a wrong API key carries ``google.rpc.ErrorInfo`` (``reason: API_KEY_INVALID``) and
  ``google.rpc.LocalizedMessage``, what clients test to tell a bad key;
* a body Google's front end cannot read carries ``google.rpc.BadRequest`` field violations.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}
"""Google's canonical status for each HTTP status the endpoint answers."""

ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
SERVICE = "commentanalyzer.googleapis.com"

COMMENT_EMPTY = "COMMENT_EMPTY"
COMMENT_TOO_LONG = "COMMENT_TOO_LONG"
NO_REQUESTED_ATTRIBUTES = "NO_REQUESTED_ATTRIBUTES"
LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE = "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
LANGUAGE_DETECTION_FAILED = "LANGUAGE_DETECTION_FAILED"
INVALID_REQUEST = "INVALID_REQUEST"

BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
MISSING_KEY_MESSAGE = "The request is missing a valid API key."
NOT_FOUND_MESSAGE = "Method not found."


class PerspectiveError(Exception):
    """A refusal in Google's error shape: HTTP status ``code``, ``message``, ``details``."""

    def __init__(self, code: int, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []

    def body(self) -> dict[str, Any]:
        """``{"error": {"code", "message", "status"[, "details"]}}``."""
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "status": STATUS.get(self.code, "UNKNOWN"),
        }
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def response(self) -> JSONResponse:
        """The JSON answer (``Retry-After: 1`` on a 503)."""
        headers = {"Retry-After": "1"} if self.code == 503 else None
        return JSONResponse(self.body(), status_code=self.code, headers=headers)


def analyzer_error(error_type: str, message: str, **more: Any) -> PerspectiveError:
    """A 400 of the comment analyzer with its ``errorType`` (and more fields of its Error).

    Example:
        >>> analyzer_error(COMMENT_EMPTY, "Comment must be non-empty.").body()["error"]["details"]
        [{'@type': 'type.googleapis.com/google.commentanalyzer.v1alpha1.Error', \
'errorType': 'COMMENT_EMPTY'}]
    """
    return PerspectiveError(400, message, [{"@type": ERROR_TYPE, "errorType": error_type, **more}])


def invalid_request(message: str) -> PerspectiveError:
    """A request the analyzer refuses for any other reason (``INVALID_REQUEST``)."""
    return analyzer_error(INVALID_REQUEST, message)


def language_not_supported(
    attribute: str, languages: list[str], requested: list[str], detected: list[str]
) -> PerspectiveError:
    """Perspective's refusal of an attribute that does not serve ``languages`` (the
    request's, else the detected one), naming them as Perspective does."""
    error: dict[str, Any] = {"attribute": attribute}
    if detected:
        error["detectedLanguages"] = detected
    if requested:
        error["requestedLanguages"] = requested
    return analyzer_error(
        LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE,
        f"Attribute {attribute} does not support request languages: {', '.join(languages)}",
        languageNotSupportedByAttributeError=error,
    )


def bad_key() -> PerspectiveError:
    """Google's answer to a wrong API key."""
    return PerspectiveError(
        400,
        BAD_KEY_MESSAGE,
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": SERVICE},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": BAD_KEY_MESSAGE,
            },
        ],
    )


def missing_key() -> PerspectiveError:
    """Google's answer to a request without an API key."""
    return PerspectiveError(403, MISSING_KEY_MESSAGE)


def invalid_payload(problem: str, field: str = "") -> PerspectiveError:
    """Google's front end refusing a body it cannot read as the request message."""
    message = f"Invalid JSON payload received. {problem}"
    violation = {"field": field, "description": message} if field else {"description": message}
    return PerspectiveError(
        400,
        message,
        [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}],
    )


def payload_too_large(limit: int) -> PerspectiveError:
    """Google's refusal of a body over ``limit`` bytes."""
    return PerspectiveError(400, f"Request payload size exceeds the limit: {limit} bytes.")


def not_found() -> PerspectiveError:
    """A path (or a path and method) the API does not have, as Google answers it."""
    return PerspectiveError(404, NOT_FOUND_MESSAGE)


def is_perspective_path(path: str) -> bool:
    """Whether ``path`` belongs to the Perspective protocol (its errors take Google's shape).

    Example:
        >>> [is_perspective_path(p) for p in ("/v1alpha1/x", "/batch", "/v1/classify")]
        [True, True, False]
    """
    return path.startswith(("/v1alpha1/", "/$discovery/")) or path in ("/v1alpha1", "/batch")
