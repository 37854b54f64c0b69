"""Pooling: from token states ``[B, T, H]`` and an attention mask ``[B, T]`` to ``[B, H]``."""

from __future__ import annotations

from typing import Literal

import torch

PoolingName = Literal["cls", "mean", "last", "normalized_sum", "max"]
POOLINGS: tuple[str, ...] = ("cls", "mean", "last", "normalized_sum", "max")


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the last real (non-padding) token of each row, for left or right padding.

    Computed from the mask as ``T - 1 - mask.flip(1).argmax(1)``, never from pad ids (a pad id
    may equal the end-of-sequence id).

    Example:
        >>> last_token_index(torch.tensor([[1, 1, 0], [0, 1, 1]])).tolist()
        [1, 2]
    """
    length = attention_mask.shape[1]
    return length - 1 - attention_mask.flip(1).to(torch.int64).argmax(dim=1)


def first_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the first real token of each row (0 under right padding)."""
    return attention_mask.to(torch.int64).argmax(dim=1)


def masked_sum(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Sum of the real tokens' states ``[B, H]``, as one batched matrix product (mask
    ``[B, 1, T]`` @ states ``[B, T, H]``): several times faster than multiply-then-sum in
    bfloat16 on CPU, where it keeps prototype building within a few % of a plain encode."""
    weights = attention_mask.to(hidden.dtype).unsqueeze(1)
    return torch.bmm(weights, hidden).squeeze(1)


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, method: str) -> torch.Tensor:
    """Pool token states into one vector per row.

    Args:
        hidden: ``[B, T, H]`` token states.
        attention_mask: ``[B, T]`` with 1 for real tokens.
        method: ``cls`` (first real token), ``mean`` (masked mean), ``last`` (last real
            token), ``normalized_sum`` (masked sum, then L2-normalised; the embedding paper's
            pooling) or ``max`` (masked max).

    Example:
        >>> h = torch.arange(6.0).reshape(1, 3, 2); m = torch.tensor([[1, 1, 0]])
        >>> pool(h, m, "mean").tolist()
        [[1.0, 2.0]]
    """
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
    if method == "cls":
        return hidden[rows, first_token_index(attention_mask)]
    if method == "last":
        return hidden[rows, last_token_index(attention_mask)]
    if method == "mean":
        return masked_sum(hidden, attention_mask) / mask.sum(1).clamp(min=1.0)
    if method == "normalized_sum":
        return torch.nn.functional.normalize(masked_sum(hidden, attention_mask), dim=-1)
    if method == "max":
        return hidden.masked_fill(mask == 0, torch.finfo(hidden.dtype).min).max(1).values
    raise ValueError(f"unknown pooling {method!r}; choose from {', '.join(POOLINGS)}")
