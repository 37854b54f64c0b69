"""Attention for short texts on the CPU: plain matrix products below a length, SDPA above.

PyTorch's fused CPU attention (``scaled_dot_product_attention``) is made for long sequences;
for posts of a few dozen tokens its per-call overhead dominates: on the project's 2-core
CPU it took 23% of a MiniLM forward pass in bfloat16 at batch 32 (about 22 tokens a post),
and the same model ran 1.26x faster end to end with plain products
(``benchmarks/cpu-speed.md``). :data:`ATTENTION` is registered with ``transformers``'
attention interface: batches whose keys are at most :data:`SHORT_TOKENS` long take two
``matmul`` and a softmax; longer ones take SDPA, as before. Both give the same values up to
float rounding. Only models that dispatch through that interface (BERT and its relatives)
are switched; MPNet computes its attention itself and is left as it is.

Example:
    >>> use_cpu_attention(backbone.model)   # doctest: +SKIP
    True
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["ATTENTION", "SHORT_TOKENS", "cpu_attention", "use_cpu_attention"]

ATTENTION = "hateproto_cpu"
"""The name :func:`cpu_attention` is registered under (``config._attn_implementation``)."""

SHORT_TOKENS = 64
"""Up to this many key positions, attention is two matrix products and a softmax."""

_registered = False


def cpu_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Attention output ``[B, T, heads, d]`` (as ``transformers``' attention functions
    return it) for ``query``/``key``/``value`` ``[B, heads, T, d]`` and the boolean (SDPA
    style) ``attention_mask`` (``True``: attend; ``None``: no padding)."""
    plain = (
        key.shape[-2] <= SHORT_TOKENS
        and key.shape[1] == query.shape[1]  # no grouped key/value heads
        and not getattr(module, "is_causal", False)
        and not (dropout > 0 and module.training)
    )
    if not plain:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(
            module,
            query,
            key,
            value,
            attention_mask,
            dropout=dropout,
            scaling=scaling,
            **kwargs,
        )
    if scaling is None:
        scaling = query.shape[-1] ** -0.5
    # the softmax in float32: over rows of a few dozen keys, PyTorch's bfloat16 softmax is
    # slower than the conversions there and back
    scores = torch.matmul(query * scaling, key.transpose(-1, -2)).float()
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores.masked_fill_(~attention_mask, torch.finfo(torch.float32).min)
        else:
            scores += attention_mask
    probs = torch.softmax(scores, dim=-1).to(value.dtype)
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), None


def _register() -> None:
    """Register :func:`cpu_attention` and its mask builder (SDPA's) once."""
    global _registered
    if _registered:
        return
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    ALL_ATTENTION_FUNCTIONS.register(ATTENTION, cpu_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION, sdpa_mask)
    _registered = True


def use_cpu_attention(model: torch.nn.Module) -> bool:
    """Switch ``model`` (and its sub-models) to :func:`cpu_attention` when it uses SDPA
    through ``transformers``' attention interface; returns whether it was switched (not
    where this ``transformers`` lacks the interface: the model keeps SDPA)."""
    config = getattr(model, "config", None)
    if getattr(config, "_attn_implementation", None) != "sdpa":
        return False
    can_set = getattr(model, "_can_set_attn_implementation", None)
    if can_set is None or not can_set():
        return False
    try:
        _register()
        model.set_attn_implementation(ATTENTION)
    except (ImportError, AttributeError, KeyError, ValueError):  # another transformers API
        return False
    return config._attn_implementation == ATTENTION
