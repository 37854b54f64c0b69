"""The HTTP moderation service: FastAPI app factory, micro-batching, settings, JSON logs.

Example:
    >>> from hateproto.service import create_app, ServiceSettings
    >>> app = create_app(detector, ServiceSettings(max_texts_per_request=16))  # doctest: +SKIP
"""

from __future__ import annotations

from hateproto.lazy import lazy_exports
from hateproto.service.settings import ServiceSettings

# The rest is imported on first use, so that `hateproto serve --help` and the service settings
# work without the [service] extra (fastapi, uvicorn) installed.
_LAZY = {
    "ClassifyRequest": "app",
    "ClassifyResponse": "app",
    "create_app": "app",
    "BatchStats": "batcher",
    "MicroBatcher": "batcher",
    "Overloaded": "batcher",
    "ShuttingDown": "batcher",
    "JsonFormatter": "logs",
    "configure_logging": "logs",
    "uvicorn_log_config": "logs",
}


__getattr__ = lazy_exports(
    "hateproto.service", {name: f"hateproto.service.{module}" for name, module in _LAZY.items()}
)


__all__ = [
    "BatchStats",
    "ClassifyRequest",
    "ClassifyResponse",
    "JsonFormatter",
    "MicroBatcher",
    "Overloaded",
    "ServiceSettings",
    "ShuttingDown",
    "configure_logging",
    "create_app",
    "uvicorn_log_config",
]
