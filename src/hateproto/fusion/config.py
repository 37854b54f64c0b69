"""Settings of a fusion classifier (the ``fusion`` section of a TrainingConfig)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hateproto.config import YamlConfig
from hateproto.context.config import ContextConfig
from hateproto.fusion.heads import FusionMethod


class FusionConfig(YamlConfig):
    """Fuse the pooled text vector with an LLM-written context and an emotion vector.

    Set it as ``TrainingConfig.fusion`` to train a
    :class:`~hateproto.fusion.classifier.FusionClassifier` with the usual trainer.

    Example (YAML, inside a training config)::

        fusion:
          method: attention          # concat | adaptive | attention
          emotion: nrc               # or {kind: transformer, model: <HF id or folder>}
          context: {model: smollm2, max_new_tokens: 32}
    """

    method: FusionMethod = "concat"
    hidden_size: int = Field(256, ge=1, description="width of the projections / hidden layer")
    attention_heads: int = Field(4, ge=1)
    context: ContextConfig = Field(default_factory=ContextConfig)
    context_max_length: int = Field(96, ge=4, description="tokens of the context when encoded")
    emotion: str | dict[str, Any] = Field(
        "nrc", description="'nrc' or {kind: transformer, model: ...}"
    )
