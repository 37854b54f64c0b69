"""What hateproto records about a loaded backbone: :class:`BackboneInfo` and its vocabularies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Family = Literal["encoder", "decoder"]
"""``encoder`` (bidirectional, masked-LM family) or ``decoder`` (causal LM)."""

LayerNorm = Literal["none", "final_norm", "standardize"]
"""How per-layer token states are normalised before pooling (see
:meth:`hateproto.models.Backbone.normalize_layer_state`)."""


@dataclass
class BackboneInfo:
    """Facts about a loaded backbone, written into every artefact built from it."""

    name_or_path: str
    model_type: str
    family: Family
    num_layers: int
    hidden_size: int
    default_pooling: str
    default_layer_norm: LayerNorm
    prefix: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
