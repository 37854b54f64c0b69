"""The HTTP moderation service: FastAPI app factory, micro-batching, settings, JSON logs.

Example:
    >>> from hateproto.service import create_app, ServiceSettings
    >>> app = create_app(detector, ServiceSettings(max_texts_per_request=16))  # doctest: +SKIP
"""

from hateproto.service.app import ClassifyRequest, ClassifyResponse, TextResult, create_app
from hateproto.service.batcher import BatchStats, MicroBatcher, Overloaded, ShuttingDown
from hateproto.service.logs import JsonFormatter, configure_logging, uvicorn_log_config
from hateproto.service.settings import ServiceSettings

__all__ = [
    "BatchStats",
    "ClassifyRequest",
    "ClassifyResponse",
    "JsonFormatter",
    "MicroBatcher",
    "Overloaded",
    "ServiceSettings",
    "ShuttingDown",
    "TextResult",
    "configure_logging",
    "create_app",
    "uvicorn_log_config",
]
