"""Backbones (encoders and decoders), pooling, fetching default models, representation cache,
and the portable model references saved folders record."""

from hateproto.models.backbone import Backbone, BackboneInfo, compute_fingerprint
from hateproto.models.fetch import DEFAULT_MODELS, fetch_model, is_fetched, model_path
from hateproto.models.pooling import POOLINGS, last_token_index, pool
from hateproto.models.references import backbone_reference, portable_reference

__all__ = [
    "Backbone",
    "BackboneInfo",
    "DEFAULT_MODELS",
    "POOLINGS",
    "backbone_reference",
    "compute_fingerprint",
    "fetch_model",
    "is_fetched",
    "last_token_index",
    "model_path",
    "pool",
    "portable_reference",
]
