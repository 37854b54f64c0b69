"""Classification heads on a pooled vector ``[B, H]`` → logits ``[B, num_labels]``.

* ``linear``: dropout + one linear layer (what ``AutoModelForSequenceClassification`` puts on
  the pooled last layer; the HatePrototypes setup).
* ``mlp``: linear → LeakyReLU → dropout → linear (the embedding paper's two-layer head).

Example:
    >>> head = build_head("mlp", input_size=8, num_labels=2, hidden_size=4)
    >>> head(torch.zeros(3, 8)).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from hateproto.errors import ConfigError

HEAD_TYPES: tuple[str, ...] = ("linear", "mlp")


class LinearHead(nn.Module):
    """Dropout then a single linear layer."""

    def __init__(self, input_size: int, num_labels: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(input_size, num_labels)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_labels]``."""
        return self.classifier(self.dropout(pooled))


class MLPHead(nn.Module):
    """Two linear layers with a LeakyReLU and dropout between them."""

    def __init__(
        self,
        input_size: int,
        num_labels: int = 2,
        hidden_size: int | None = None,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        hidden_size = hidden_size or input_size
        self.dense = nn.Linear(input_size, hidden_size)
        self.activation = nn.LeakyReLU()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_labels]``."""
        return self.classifier(self.dropout(self.activation(self.dense(pooled))))


def build_head(
    head_type: str,
    input_size: int,
    num_labels: int = 2,
    hidden_size: int | None = None,
    dropout: float = 0.1,
) -> nn.Module:
    """Create a head by name (``linear`` or ``mlp``); ``hidden_size`` is for ``mlp`` only."""
    if head_type == "linear":
        return LinearHead(input_size, num_labels, dropout)
    if head_type == "mlp":
        return MLPHead(input_size, num_labels, hidden_size, dropout)
    raise ConfigError(f"unknown head {head_type!r}; choose from {', '.join(HEAD_TYPES)}")


def head_spec(head: nn.Module) -> dict[str, Any]:
    """The JSON-able description :func:`build_head` needs to rebuild ``head`` (heads with a
    ``spec()`` method, such as fusion heads, describe themselves)."""
    if callable(getattr(head, "spec", None)):
        return head.spec()
    if isinstance(head, LinearHead):
        return {
            "type": "linear",
            "input_size": head.classifier.in_features,
            "num_labels": head.classifier.out_features,
            "hidden_size": None,
            "dropout": head.dropout.p,
        }
    if isinstance(head, MLPHead):
        return {
            "type": "mlp",
            "input_size": head.dense.in_features,
            "num_labels": head.classifier.out_features,
            "hidden_size": head.dense.out_features,
            "dropout": head.dropout.p,
        }
    raise ConfigError(f"cannot describe a head of type {type(head).__name__}")
