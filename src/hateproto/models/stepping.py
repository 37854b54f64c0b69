"""Run a backbone one transformer layer at a time, dropping rows between layers.

This is what early exit needs: embed a batch once, then advance it layer by layer; after any
layer the caller may remove rows (examples that have exited), so that the next layers really
compute less. Per-layer token states equal ``output_hidden_states`` of one full forward pass
(the same modules are called with the same masks and positions), and pooled vectors equal
:meth:`~hateproto.models.Backbone.encode` exactly.

Masks are built through the public ``transformers.masking_utils`` builders, called through
:func:`hateproto.models.compat.build_mask`, the one function that adapts to their signature
changes between releases. Each supported architecture has a small adapter that knows how its
model embeds tokens, builds its attention masks (bidirectional for BERT and MPNet, causal and
sliding-window for Llama and Gemma 3), its position inputs (MPNet's relative position bias,
Llama's and Gemma's rotary embeddings: computed once for the full batch, then shared or
row-sliced) and how one layer is called. Together with :mod:`hateproto.models.backbone`,
:mod:`hateproto.models.layers` and :mod:`hateproto.models.compat`, this is the only module that
touches ``transformers`` internals.

Example:
    >>> runner = LayerRunner(backbone)                      # doctest: +SKIP
    >>> batch = backbone.pad(backbone.tokenize(["a post", "another"]))  # doctest: +SKIP
    >>> state = runner.start(batch)                         # doctest: +SKIP
    >>> state = runner.step(state)                          # layer 1   # doctest: +SKIP
    >>> vecs = runner.pooled(state)                         # [2, H]    # doctest: +SKIP
    >>> state = runner.keep(state, torch.tensor([False, True]))  # drop row 0  # doctest: +SKIP
    >>> state = runner.merge([state, other])  # two batches at one layer  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from hateproto.errors import ModelError
from hateproto.models.backbone import Backbone
from hateproto.models.compat import build_mask, gemma3_bidirectional_window
from hateproto.models.device import to_device
from hateproto.models.info import LayerNorm
from hateproto.models.layers import final_norm_module
from hateproto.models.pooling import pool

Context = dict[str, Any]


@dataclass
class LayerState:
    """A batch part-way through the backbone.

    Attributes:
        layer: the layer whose output ``hidden`` is (0 = embeddings, 1..L).
        hidden: ``[b, T, H]`` raw output of that layer (for decoders, before the final norm).
        attention_mask: ``[b, T]`` padding mask of the rows still in the batch.
        rows: ``[b]`` positions of those rows in the batch given to :meth:`LayerRunner.start`.
        context: per-architecture layer inputs (masks, position bias, rotary embeddings).
    """

    layer: int
    hidden: torch.Tensor
    attention_mask: torch.Tensor
    rows: torch.Tensor
    context: Context = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of rows still in the batch."""
        return int(self.hidden.shape[0])


def take_rows(value: Any, rows: torch.Tensor) -> Any:
    """Select ``rows`` along the batch dimension of every tensor in ``value``.

    Tensors whose batch dimension is 1 are shared by every row (broadcast: rotary embeddings,
    MPNet's position bias) and are kept as they are; ``None`` stays ``None``; dicts and tuples
    are handled recursively.
    """
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: take_rows(item, rows) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(take_rows(item, rows) for item in value)
    if isinstance(value, torch.Tensor):
        return value if value.shape[0] == 1 else value.index_select(0, rows)
    return value


def _fit_tokens(values: torch.Tensor, length: int, left: bool) -> torch.Tensor:
    """Pad ``[b, T, ...]`` with zeros along dimension 1 to ``length``, or cut padding off
    (on the left or right)."""
    extra = length - int(values.shape[1])
    if extra <= 0:
        return values[:, -length:] if left else values[:, :length]
    sides = [extra, 0] if left else [0, extra]
    return torch.nn.functional.pad(values, [0, 0] * (values.dim() - 2) + sides)


class _Adapter:
    """How one architecture embeds a batch and calls one of its layers."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.config = model.config

    @property
    def layers(self) -> torch.nn.ModuleList:
        raise NotImplementedError

    def embed_tokens(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``[b, T, H]`` (the model's input to its first layer)."""
        raise NotImplementedError

    def context(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> Context:
        """The layer inputs (masks, position inputs) of a batch of states ``hidden`` with this
        padding mask: built at the start, and again when batches are merged."""
        raise NotImplementedError

    def embed(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, Context]:
        """Token embeddings and the context of every layer."""
        hidden = self.embed_tokens(input_ids)
        return hidden, self.context(hidden, attention_mask)

    def run_layer(self, index: int, hidden: torch.Tensor, context: Context) -> torch.Tensor:
        raise NotImplementedError

    def final_norm(self, hidden: torch.Tensor) -> torch.Tensor:
        """What the model applies after its last layer (decoders: the final norm)."""
        return hidden


class _EncoderAdapter(_Adapter):
    """Bidirectional encoders with ``embeddings`` and ``encoder.layer`` (BERT, MPNet)."""

    @property
    def layers(self) -> torch.nn.ModuleList:
        return self.model.encoder.layer

    def embed_tokens(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.embeddings(input_ids=input_ids)

    def context(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> Context:
        """The bidirectional attention mask built from the padding."""
        from transformers.masking_utils import create_bidirectional_mask

        mask = build_mask(
            create_bidirectional_mask,
            config=self.config,
            inputs_embeds=hidden,
            attention_mask=attention_mask,
        )
        return {"mask": mask}


class _BertAdapter(_EncoderAdapter):
    """BERT family (MiniLM, E5, BERT): absolute positions, bidirectional padding mask."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__(model)
        if getattr(self.config, "is_decoder", False):
            raise ModelError("layer stepping supports BERT as an encoder only (is_decoder=True)")

    def run_layer(self, index: int, hidden: torch.Tensor, context: Context) -> torch.Tensor:
        out = self.layers[index](hidden, context["mask"])
        return out[0] if isinstance(out, tuple) else out


class _MPNetAdapter(_EncoderAdapter):
    """MPNet: bidirectional mask plus a relative position bias shared by every layer."""

    def context(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> Context:
        # The bias depends only on positions: compute it for one row and broadcast it.
        bias = self.model.encoder.compute_position_bias(hidden[:1])
        return {**super().context(hidden, attention_mask), "position_bias": bias}

    def run_layer(self, index: int, hidden: torch.Tensor, context: Context) -> torch.Tensor:
        return self.layers[index](hidden, context["mask"], context["position_bias"])[0]


class _LlamaAdapter(_Adapter):
    """Llama family (SmolLM2, Llama): causal mask, rotary embeddings, final RMSNorm."""

    @property
    def layers(self) -> torch.nn.ModuleList:
        return self.model.layers

    def _positions(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.arange(hidden.shape[1], device=hidden.device).unsqueeze(0)

    def embed_tokens(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.embed_tokens(input_ids)

    def context(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> Context:
        from transformers.masking_utils import create_causal_mask

        positions = self._positions(hidden)
        mask = build_mask(
            create_causal_mask,
            config=self.config,
            inputs_embeds=hidden,
            attention_mask=attention_mask,
            position_ids=positions,
        )
        rotary = self.model.rotary_emb(hidden, position_ids=positions)
        return {"mask": mask, "rotary": rotary, "positions": positions}

    def run_layer(self, index: int, hidden: torch.Tensor, context: Context) -> torch.Tensor:
        return self.layers[index](
            hidden,
            attention_mask=context["mask"],
            position_embeddings=context["rotary"],
            position_ids=context["positions"],
            use_cache=False,
        )

    def final_norm(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.model.norm(hidden)


class _Gemma3Adapter(_LlamaAdapter):
    """Gemma 3 text models: scaled embeddings, full and sliding-window layers with their own
    masks and rotary embeddings."""

    def context(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> Context:
        from transformers import masking_utils

        positions = self._positions(hidden)
        kwargs: dict[str, Any] = {
            "config": self.config,
            "inputs_embeds": hidden,
            "attention_mask": attention_mask,
            "position_ids": positions,
        }
        sliding_kwargs = dict(kwargs)
        if getattr(self.config, "use_bidirectional_attention", False):
            kwargs["or_mask_function"] = lambda *args: torch.tensor(True, dtype=torch.bool)
            sliding_kwargs["or_mask_function"] = gemma3_bidirectional_window(
                self.config.sliding_window
            )
        masks = {
            "full_attention": build_mask(masking_utils.create_causal_mask, **kwargs),
            "sliding_attention": build_mask(
                masking_utils.create_sliding_window_causal_mask, **sliding_kwargs
            ),
        }
        rotary = {
            kind: self.model.rotary_emb(hidden, positions, kind)
            for kind in set(self.config.layer_types)
        }
        return {"masks": masks, "rotary": rotary, "positions": positions}

    def run_layer(self, index: int, hidden: torch.Tensor, context: Context) -> torch.Tensor:
        kind = self.config.layer_types[index]
        return self.layers[index](
            hidden,
            attention_mask=context["masks"][kind],
            position_embeddings=context["rotary"][kind],
            position_ids=context["positions"],
        )


_ADAPTERS: dict[str, type[_Adapter]] = {
    "bert": _BertAdapter,
    "mpnet": _MPNetAdapter,
    "llama": _LlamaAdapter,
    "gemma3_text": _Gemma3Adapter,
}
SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(_ADAPTERS)
"""Model types (``config.model_type``) that :class:`LayerRunner` can step through."""


def _adapter_for(backbone: Backbone) -> _Adapter:
    model = backbone.model
    model_type = getattr(model.config, "model_type", backbone.info.model_type)
    if model_type not in _ADAPTERS:
        raise ModelError(
            f"layer-by-layer stepping (early exit) does not support model type {model_type!r} "
            f"({backbone.info.name_or_path}); supported: {', '.join(SUPPORTED_MODEL_TYPES)}"
        )
    adapter = _ADAPTERS[model_type](model)
    if len(adapter.layers) != backbone.num_layers:
        raise ModelError(
            f"{backbone.info.name_or_path}: found {len(adapter.layers)} layers, the config says "
            f"{backbone.num_layers}"
        )
    return adapter


class LayerRunner:
    """Step a :class:`~hateproto.models.Backbone` through its layers, one at a time.

    Raises :class:`~hateproto.errors.ModelError` for architectures it does not know
    (see :data:`SUPPORTED_MODEL_TYPES`).
    """

    def __init__(self, backbone: Backbone) -> None:
        self.backbone = backbone
        self.adapter = _adapter_for(backbone)
        self.num_layers = backbone.num_layers
        self._has_final_norm = final_norm_module(backbone.model) is not None

    def start(self, batch: dict[str, torch.Tensor]) -> LayerState:
        """Embed a padded batch (``input_ids``, ``attention_mask``): the state at layer 0.

        The batch is moved to the model's device if it is not there yet; ``rows`` and every
        other tensor of the state live on that device."""
        batch = to_device(batch, self.backbone.device)  # a no-op for a batch already there
        input_ids = batch["input_ids"]
        attention_mask = batch["attention_mask"]
        hidden, context = self.adapter.embed(input_ids, attention_mask)
        rows = torch.arange(input_ids.shape[0], device=input_ids.device)
        return LayerState(0, hidden, attention_mask, rows, context)

    def step(self, state: LayerState) -> LayerState:
        """Run the next layer on the rows still in ``state`` (returns the updated state)."""
        if state.layer >= self.num_layers:
            raise ModelError(f"already at the last layer ({self.num_layers})")
        state.hidden = self.adapter.run_layer(state.layer, state.hidden, state.context)
        state.layer += 1
        return state

    def keep(self, state: LayerState, keep: torch.Tensor) -> LayerState:
        """Keep only the rows where the boolean mask ``keep`` ``[b]`` is true."""
        if bool(keep.all()):
            return state
        index = keep.to(state.hidden.device).nonzero().flatten()
        state.hidden = state.hidden.index_select(0, index)
        state.attention_mask = state.attention_mask.index_select(0, index)
        state.rows = state.rows.index_select(0, index)
        state.context = take_rows(state.context, index)
        return state

    def merge(self, states: Sequence[LayerState]) -> LayerState:
        """One state of the rows of several states that reached the same layer.

        Token states and padding masks are padded (or cut) along the sequence dimension to the
        longest row's tokens (on the tokenizer's padding side; the rows of a batch whose
        longest rows have left need less), rows and masks concatenated in order, and the layer
        inputs rebuilt from the merged mask by the same builders :meth:`start` uses. Real
        tokens never attend to the added padding, and positions enter only as differences
        (MPNet's relative bias, rotary embeddings) or were added at the embeddings, so the
        merged rows' next layers equal their own up to float rounding (left padding shifts a
        decoder's rotary positions).

        One state is returned as it is, or with the padding its rows no longer need cut off.
        Raises :class:`~hateproto.errors.ModelError` for no states or states at different
        layers.
        """
        if not states:
            raise ModelError("nothing to merge")
        layers = sorted({state.layer for state in states})
        if len(layers) != 1:
            raise ModelError(f"can only merge states at the same layer, got layers {layers}")
        length = int(torch.stack([s.attention_mask.sum(1).max() for s in states]).max())
        if len(states) == 1 and length == states[0].hidden.shape[1]:
            return states[0]
        left = getattr(self.backbone.tokenizer, "padding_side", "right") == "left"
        hidden = torch.cat([_fit_tokens(s.hidden, length, left) for s in states])
        mask = torch.cat([_fit_tokens(s.attention_mask, length, left) for s in states])
        rows = torch.cat([state.rows for state in states])
        return LayerState(layers[0], hidden, mask, rows, self.adapter.context(hidden, mask))

    def token_states(self, state: LayerState) -> torch.Tensor:
        """Token states ``[b, T, H]`` exactly as ``output_hidden_states[state.layer]`` gives
        them (the last layer of a decoder has passed its final norm)."""
        if state.layer == self.num_layers:
            return self.adapter.final_norm(state.hidden)
        return state.hidden

    def pooled(
        self, state: LayerState, pooling: str | None = None, layer_norm: LayerNorm | None = None
    ) -> torch.Tensor:
        """Pooled float32 vectors ``[b, H]`` of the current layer, as
        :meth:`~hateproto.models.Backbone.encode` computes them."""
        pooling = pooling or self.backbone.info.default_pooling
        layer_norm = layer_norm or self.backbone.info.default_layer_norm
        states = self.backbone.normalize_layer_state(
            self.token_states(state), layer_norm, is_last=state.layer == self.num_layers
        )
        return pool(states, state.attention_mask, pooling).float()

    def iterate(self, batch: dict[str, torch.Tensor]) -> Iterator[LayerState]:
        """Yield the state after every layer 1..L (the caller may :meth:`keep` in between;
        the loop stops early when no rows are left)."""
        state = self.start(batch)
        while state.layer < self.num_layers and state.size:
            yield self.step(state)
