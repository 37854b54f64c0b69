"""Fusion heads: logits from a post's pooled text vector, its encoded context and its emotions.

Every head takes ``text [B, H]``, ``context [B, H]`` (the same encoder's pooled vector of the
generated context) and ``emotion [B, E]`` and returns logits ``[B, num_labels]``:

* ``concat``: ``[text; context; emotion]`` → linear → tanh → dropout → linear.
* ``adaptive``: each source is projected to ``hidden`` (linear + tanh); a softmax over three
  learned gate scores (computed from the three projections) weights their sum.
* ``attention``: the projected text is the query of a multi-head attention over the projected
  ``[context, emotion]`` (keys and values); its output is added to the text (residual) and
  layer-normalised.

``last_weights`` keeps the gate or attention weights of the last forward pass ``[B, 3]`` or
``[B, 2]`` (for inspection).

Example:
    >>> head = FusionHead("adaptive", text_size=8, emotion_size=10, hidden_size=4)
    >>> head(torch.zeros(3, 8), torch.zeros(3, 8), torch.zeros(3, 10)).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from hateproto.errors import ConfigError

FusionMethod = Literal["concat", "adaptive", "attention"]
FUSION_METHODS: tuple[str, ...] = ("concat", "adaptive", "attention")


def _projection(in_size: int, out_size: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_size, out_size), nn.Tanh())


class FusionHead(nn.Module):
    """One of the three fusion heads (see the module docstring).

    Args:
        method: ``concat``, ``adaptive`` or ``attention``.
        text_size: width of the pooled text and context vectors (the encoder's hidden size).
        emotion_size: length of the emotion vector.
        hidden_size: width of the projections (and of the concat head's hidden layer).
        num_labels: number of classes.
        dropout: dropout before the final linear layer.
        attention_heads: heads of the ``attention`` method (must divide ``hidden_size``).
    """

    def __init__(
        self,
        method: str,
        text_size: int,
        emotion_size: int,
        hidden_size: int = 256,
        num_labels: int = 2,
        dropout: float = 0.1,
        attention_heads: int = 4,
    ) -> None:
        super().__init__()
        if method not in FUSION_METHODS:
            raise ConfigError(f"unknown fusion {method!r}; choose from {', '.join(FUSION_METHODS)}")
        if method == "attention" and hidden_size % attention_heads:
            raise ConfigError(
                f"fusion hidden_size {hidden_size} is not divisible by {attention_heads} heads"
            )
        self.method = method
        self.text_size = text_size
        self.emotion_size = emotion_size
        self.hidden_size = hidden_size
        self.num_labels = num_labels
        self.attention_heads = attention_heads
        self.dropout = nn.Dropout(dropout)
        self.last_weights: torch.Tensor | None = None
        if method == "concat":
            self.dense = _projection(2 * text_size + emotion_size, hidden_size)
        else:
            self.text_proj = _projection(text_size, hidden_size)
            self.context_proj = _projection(text_size, hidden_size)
            self.emotion_proj = _projection(emotion_size, hidden_size)
        if method == "adaptive":
            self.gate = nn.Linear(3 * hidden_size, 3)
        if method == "attention":
            self.attention = nn.MultiheadAttention(hidden_size, attention_heads, batch_first=True)
            self.norm = nn.LayerNorm(hidden_size)
        self.classifier = nn.Linear(hidden_size, num_labels)

    @property
    def input_size(self) -> int:
        """Width of the concatenated features ``[text; context; emotion]``."""
        return 2 * self.text_size + self.emotion_size

    def forward(
        self, text: torch.Tensor, context: torch.Tensor, emotion: torch.Tensor
    ) -> torch.Tensor:
        """Logits ``[B, num_labels]``."""
        if self.method == "concat":
            fused = self.dense(torch.cat([text, context, emotion], dim=-1))
        elif self.method == "adaptive":
            fused = self._adaptive(text, context, emotion)
        else:
            fused = self._attention(text, context, emotion)
        return self.classifier(self.dropout(fused))

    def _adaptive(
        self, text: torch.Tensor, context: torch.Tensor, emotion: torch.Tensor
    ) -> torch.Tensor:
        sources = torch.stack(
            [self.text_proj(text), self.context_proj(context), self.emotion_proj(emotion)], dim=1
        )  # [B, 3, hidden]
        gates = torch.softmax(self.gate(sources.flatten(1)), dim=-1)  # [B, 3]
        self.last_weights = gates.detach()
        return (gates.unsqueeze(-1) * sources).sum(dim=1)

    def _attention(
        self, text: torch.Tensor, context: torch.Tensor, emotion: torch.Tensor
    ) -> torch.Tensor:
        query = self.text_proj(text).unsqueeze(1)  # [B, 1, hidden]
        memory = torch.stack([self.context_proj(context), self.emotion_proj(emotion)], dim=1)
        attended, weights = self.attention(query, memory, memory, need_weights=True)
        self.last_weights = weights.squeeze(1).detach()  # [B, 2], averaged over heads
        return self.norm(query + attended).squeeze(1)

    def forward_features(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from concatenated ``[text; context; emotion]`` features ``[B, input_size]``."""
        text, context, emotion = self.split(features)
        return self(text, context, emotion)

    def split(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Cut ``[B, 2H + E]`` features into text ``[B, H]``, context ``[B, H]``, emotion."""
        if features.shape[-1] != self.input_size:
            raise ConfigError(
                f"fusion features have width {features.shape[-1]}, expected {self.input_size} "
                f"(2 x {self.text_size} + {self.emotion_size})"
            )
        h = self.text_size
        return features[..., :h], features[..., h : 2 * h], features[..., 2 * h :]

    def spec(self) -> dict[str, Any]:
        """The JSON-able description :meth:`from_spec` rebuilds this head from."""
        return {
            "type": "fusion",
            "method": self.method,
            "input_size": self.text_size,
            "emotion_size": self.emotion_size,
            "hidden_size": self.hidden_size,
            "num_labels": self.num_labels,
            "dropout": self.dropout.p,
            "attention_heads": self.attention_heads,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> FusionHead:
        """Rebuild a head (fresh weights) from :meth:`spec`."""
        return cls(
            spec["method"],
            spec["input_size"],
            spec["emotion_size"],
            spec["hidden_size"],
            spec["num_labels"],
            spec["dropout"],
            spec["attention_heads"],
        )
