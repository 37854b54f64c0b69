"""Structured logs: one JSON object per line on stderr.

Every record carries ``time``, ``level``, ``logger`` and ``message``, plus any fields passed
with ``extra={...}`` (request id, path, status, duration...).

Example:
    >>> configure_logging("info")  # doctest: +SKIP
    >>> log = logging.getLogger("hateproto.service")
    >>> log.info("started", extra={"port": 8000})  # doctest: +SKIP
    {"time": "2026-01-01T00:00:00.000Z", "level": "info", "logger": "hateproto.service", ...}
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
LOGGERS = ("hateproto.service", "uvicorn", "uvicorn.error")


class JsonFormatter(logging.Formatter):
    """Format a log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str = "info") -> None:
    """Send the service's and uvicorn's logs to stderr as JSON lines (access log off: the
    service logs every request itself)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True


def uvicorn_log_config(level: str = "info") -> dict[str, Any]:
    """A ``log_config`` for ``uvicorn.run`` that uses :class:`JsonFormatter`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            name: {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
            for name in LOGGERS
        },
    }
