"""Building a fresh HateClassifier model from a TrainingConfig: the backbone (with its
pooling, prefix and LoRA adapter), the pooled layers, and an untrained head.

Example:
    >>> check_pool_layers([2, 6], num_layers=6)
    [2, 6]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hateproto.data import LABEL_NAMES
from hateproto.errors import ConfigError
from hateproto.models.backbone import Backbone
from hateproto.training.config import TrainingConfig
from hateproto.training.heads import build_head
from hateproto.training.lora import apply_lora


def build_model(config: TrainingConfig) -> tuple[Backbone, nn.Module, str]:
    """The backbone of ``config`` (seeded, with its pooling, prefix and LoRA adapter), a fresh
    head on its pooled features, and the pooling."""
    torch.manual_seed(config.seed)
    backbone = Backbone.load(config.backbone, dtype=config.dtype)
    check_pool_layers(config.pool_layers, backbone.num_layers)
    pooling = config.resolved_pooling(backbone.info.default_pooling)
    backbone.info.default_pooling = pooling
    backbone.info.prefix = config.resolved_prefix()
    if config.mode == "lora":
        backbone.model = apply_lora(
            backbone.model,
            config.lora_r,
            config.lora_alpha,
            config.lora_dropout,
            config.lora_target_modules,
        )
    head = build_head(
        config.resolved_head(),
        backbone.hidden_size * len(config.pool_layers or [None]),
        num_labels=len(LABEL_NAMES),
        hidden_size=config.mlp_hidden_size,
        dropout=config.dropout,
    )
    head = head.to(device=backbone.device, dtype=backbone.dtype)
    return backbone, head, pooling


def check_pool_layers(layers: Sequence[int] | None, num_layers: int) -> list[int] | None:
    """``layers`` as a list, after checking each index is in ``0..num_layers`` (0 =
    embeddings, ``num_layers`` = last); ``None`` stays ``None`` (the last layer alone)."""
    if layers is None:
        return None
    bad = [i for i in layers if not 0 <= int(i) <= num_layers]
    if bad or not layers:
        raise ConfigError(
            f"pool_layers {list(layers)}: every layer must be in 0..{num_layers} (0 = embeddings, "
            f"{num_layers} = the last of this backbone's layers)"
        )
    return [int(i) for i in layers]


def freeze_unused_pooler(encoder: nn.Module) -> None:
    """Freeze a BERT/MPNet ``pooler`` (dense + tanh on [CLS]): the head reads the pooled token
    states instead, so it gets no gradient (and multi-process DDP would stop on it)."""
    pooler = getattr(encoder, "pooler", None)
    if pooler is None:
        base = getattr(encoder, "get_base_model", lambda: None)()
        pooler = getattr(base, "pooler", None)
    if isinstance(pooler, nn.Module):
        pooler.requires_grad_(False)
