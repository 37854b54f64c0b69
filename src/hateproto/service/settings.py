"""Typed settings of the HTTP service (limits, micro-batching, auth)."""

from __future__ import annotations

import os

from pydantic import Field, SecretStr, field_validator

from hateproto.config import YamlConfig
from hateproto.errors import ConfigError


def _token_from_environment() -> SecretStr | None:
    """``$HATEPROTO_API_TOKEN``; unset → no auth. Set but empty is refused: it is more likely
    a broken secret than a wish to turn auth off."""
    if "HATEPROTO_API_TOKEN" not in os.environ:
        return None
    token = os.environ["HATEPROTO_API_TOKEN"].strip()
    if not token:
        raise ConfigError(
            "HATEPROTO_API_TOKEN is set but empty: set it to the token clients must send, or "
            "unset it (`unset HATEPROTO_API_TOKEN`) to run without auth"
        )
    return SecretStr(token)


LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1", "[::1]"]
"""``Host`` values a service listening on a loopback address accepts by default."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address to listen on) is a loopback address."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ServiceSettings(YamlConfig):
    """How ``hateproto serve`` answers requests.

    Attributes:
        max_texts_per_request: more texts in one request → 413.
        max_chars_per_text: a longer text → 413 (texts within the limit are truncated to the
            detector's ``max_length`` tokens).
        micro_batching: combine concurrent requests into one forward pass.
        max_batch_size: texts per forward pass when combining requests (a single larger
            request still runs as one batch).
        max_wait_ms: how long the first request of a batch waits for company.
        max_queue_texts: texts waiting beyond this → 503 (try again later).
        api_token: bearer token required on ``/v1/*`` (default: ``$HATEPROTO_API_TOKEN``;
            unset → no auth; set but empty → an error at start).
        readiness_cache_s: how long a readiness answer (a canary scored through the model)
            is reused by ``/readyz`` and ``/healthz``.
        readiness_timeout_s: a canary slower than this → not ready (503).
        log_level: ``debug``, ``info``, ``warning``...
        public_url: the service's address as clients see it (e.g. behind a proxy), for the
            Perspective discovery document; default: the address the server is bound to.
        allowed_hosts: ``Host`` header values accepted (others get 400), against DNS
            rebinding; ``None``: loopback names when ``serve`` listens on a loopback address,
            else any.
        any_language: the Perspective endpoint scores comments in languages the detector
            was not validated on (``detector info``'s ``languages``) instead of refusing them
            with LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE, as Perspective does.
        feedback_db: the feedback database (``default``: SQLite under the hateproto home; a
            file; ``postgresql://...``): the posts the queue policy selects are stored and
            ``/review`` serves the review page (``None``: no feedback, no review page).
        queue_band: a scored post within this distance of the threshold is queued.
        queue_sample_rate: the share of the other scored posts queued at random.

    Example:
        >>> ServiceSettings(max_texts_per_request=8).max_texts_per_request
        8
    """

    max_texts_per_request: int = Field(64, ge=1)
    max_chars_per_text: int = Field(10_000, ge=1)
    micro_batching: bool = True
    max_batch_size: int = Field(32, ge=1)
    max_wait_ms: float = Field(5.0, ge=0.0)
    max_queue_texts: int = Field(4096, ge=1)
    api_token: SecretStr | None = Field(default_factory=_token_from_environment, repr=False)
    readiness_cache_s: float = Field(5.0, ge=0.0)
    readiness_timeout_s: float = Field(10.0, gt=0.0)
    log_level: str = "info"
    public_url: str | None = Field(None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    allowed_hosts: list[str] | None = None
    any_language: bool = False
    feedback_db: str | None = Field(None, repr=False)
    queue_band: float = Field(0.15, ge=0.0, le=1.0)
    queue_sample_rate: float = Field(0.01, ge=0.0, le=1.0)

    @field_validator("api_token")
    @classmethod
    def _token_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("the token is empty; give a token, or none (null) for no auth")
        return value

    def max_body_bytes(self) -> int:
        """Largest request body worth reading: every text at its limit, each character
        JSON-escaped in the longest form (12 bytes for a surrogate pair), plus overhead."""
        return self.max_texts_per_request * (12 * self.max_chars_per_text + 64) + 1024
