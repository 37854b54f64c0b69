"""Layers of a backbone: selecting them by number and normalising their token states.

Layer numbering everywhere in hateproto: ``0`` is the embedding output, ``1..L`` are the
outputs of the transformer layers.

Example:
    >>> select_layers("last", 6)
    [6]
    >>> select_layers([0, -1, -2], 6)
    [0, 6, 5]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from hateproto.errors import ModelError
from hateproto.models.info import LayerNorm

# Where decoders keep the norm they apply after their last layer.
_FINAL_NORM_PATHS = (
    "norm",
    "final_layernorm",
    "final_layer_norm",
    "ln_f",
    "decoder.final_layer_norm",
)


def select_layers(layers: Sequence[int] | str | None, num_layers: int, name: str = "") -> list[int]:
    """Normalise a layer selection: ``None``/"all" → 1..L, "last" → [L], negatives count
    from the end (-1 = L); ``name`` (the model) goes into the out-of-range error."""
    L = num_layers
    if layers is None or layers == "all":
        return list(range(1, L + 1))
    if layers == "last":
        return [L]
    if isinstance(layers, str):
        raise ModelError(f"unknown layer selection {layers!r}; use all, last or numbers")
    out = [L + 1 + int(i) if int(i) < 0 else int(i) for i in layers]
    bad = [i for i in out if not 0 <= i <= L]
    if bad:
        raise ModelError(f"layer(s) {bad} out of range 0..{L} for {name}")
    return out


def final_norm_module(model: torch.nn.Module) -> torch.nn.Module | None:
    """The norm a decoder applies after its last layer (``model.norm``, ``ln_f``, ...), or
    ``None`` when the model has none (encoders)."""
    for path in _FINAL_NORM_PATHS:
        module: Any = model
        for part in path.split("."):
            module = getattr(module, part, None)
            if module is None:
                break
        if isinstance(module, torch.nn.Module):
            return module
    return None


def normalize_state(
    model: torch.nn.Module, state: torch.Tensor, layer_norm: LayerNorm, is_last: bool
) -> torch.Tensor:
    """Normalise one layer's token states ``[B, T, H]`` of ``model``.

    ``final_norm`` applies the model's final norm (see :func:`final_norm_module`) unless
    ``is_last`` (the last hidden state has passed it already); ``standardize`` z-scores every
    token vector; ``none`` returns ``state`` as it is.
    """
    if layer_norm == "final_norm" and not is_last:
        norm = final_norm_module(model)
        return norm(state) if norm is not None else state
    if layer_norm == "standardize":
        return torch.nn.functional.layer_norm(state, state.shape[-1:])
    return state
