"""A loaded transformer plus its tokenizer and the facts other modules need about it.

:class:`Backbone` (with :mod:`hateproto.models.layers`) is the only place that touches
``transformers`` model internals for representation extraction: pooling, decoder per-layer
normalisation, padding and dtype. Layer numbering everywhere in hateproto: ``0`` is the
embedding output, ``1..L`` are the outputs of the transformer layers
(``L = backbone.num_layers``).

How a reference becomes a model lives beside it: :mod:`hateproto.models.references` (aliases,
folders, GGUF files, hub ids, portable references), :mod:`hateproto.models.loading` (dtypes,
checkpoint specs, PEFT adapters, sentence-transformers pooling), :mod:`.info`, :mod:`.fingerprint`,
:mod:`.quantization` (int8). Their public names are importable from here, as they were.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from hateproto.errors import ModelError
from hateproto.models.compiled import compile_failure, compile_forward, default_mode
from hateproto.models.device import module_device, place, to_device
from hateproto.models.fingerprint import compute_fingerprint
from hateproto.models.info import BackboneInfo, Family, LayerNorm
from hateproto.models.layers import final_norm_module, normalize_state, select_layers
from hateproto.models.loading import (
    checkpoint_backbone,
    detect_family,
    load_transformer,
    merge_adapter,
    read_checkpoint_spec,
    sentence_transformers_pooling,
    torch_dtype,
)
from hateproto.models.packed_linear import pack_linears
from hateproto.models.pooling import POOLINGS, pool
from hateproto.models.prefetch import Batch, iter_batches, pad_token_ids
from hateproto.models.references import (
    CHECKPOINT_FILE,
    backbone_reference,
    portable_reference,
    resolve_model_reference,
)
from hateproto.models.texts import validate_texts
from hateproto.progress import progress_bar

__all__ = [
    "CHECKPOINT_FILE",
    "Backbone",
    "BackboneInfo",
    "Family",
    "LayerNorm",
    "backbone_reference",
    "compute_fingerprint",
    "detect_family",
    "final_norm_module",
    "portable_reference",
    "read_checkpoint_spec",
    "resolve_model_reference",
    "sentence_transformers_pooling",
]


class Backbone:
    """A transformer encoder or decoder, ready to turn texts into per-layer vectors.

    Load with :meth:`load`; get vectors with :meth:`encode`.

    Example:
        >>> bb = Backbone.load("minilm")  # doctest: +SKIP
        >>> vecs = bb.encode(["hello there"], layers=[3, 6])  # [1, 2, 384]  # doctest: +SKIP
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        info: BackboneInfo,
        lm: torch.nn.Module | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.info = info
        self.lm = lm
        self._fingerprint: str | None = None
        self._compiled: Any = None

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls,
        name_or_path: str,
        dtype: str = "float32",
        with_lm_head: bool = False,
        pooling: str | None = None,
        layer_norm: LayerNorm | None = None,
        prefix: str | None = None,
        device: str | torch.device | None = None,
    ) -> Backbone:
        """Load a model by alias (``minilm``, ``mpnet``, ``smollm2``), folder, GGUF file,
        hub id, or hateproto checkpoint folder.

        Args:
            dtype: ``float32`` (default), ``bfloat16`` or ``int8`` (:mod:`.quantization`).
            with_lm_head: also keep the causal-LM head (``self.lm``), e.g. for guard models.
            pooling, layer_norm, prefix: override the defaults the model declares.
            device: ``auto`` (a GPU if any), ``cpu``, ``cuda[:N]``; default ``$HATEPROTO_DEVICE``.
        """
        if dtype == "int8":
            from hateproto.models.quantization import load_quantized as int8

            return int8(cls, name_or_path, with_lm_head, pooling, layer_norm, prefix, device)
        torch_dtype(dtype)  # an unknown dtype fails before anything is read
        path, gguf_file = resolve_model_reference(name_or_path)
        spec = read_checkpoint_spec(path) if gguf_file is None else None
        if spec is not None:
            backbone = cls._load_checkpoint(path, spec, dtype, with_lm_head, device)
        else:
            backbone = cls(*load_transformer(path, gguf_file, dtype, with_lm_head))
        backbone.info.name_or_path = name_or_path
        backbone.to(device)
        backbone._override_defaults(pooling, layer_norm, prefix)
        return backbone

    def _override_defaults(
        self, pooling: str | None, layer_norm: LayerNorm | None, prefix: str | None
    ) -> None:
        """Replace the declared pooling, layer norm and prefix by those given (not ``None``)."""
        if pooling is not None:
            if pooling not in POOLINGS:
                raise ModelError(f"unknown pooling {pooling!r}; choose from {', '.join(POOLINGS)}")
            self.info.default_pooling = pooling
        if layer_norm is not None:
            self.info.default_layer_norm = layer_norm
        if prefix is not None:
            self.info.prefix = prefix

    @classmethod
    def _load_checkpoint(
        cls,
        path: str,
        spec: dict[str, Any],
        dtype: str,
        with_lm_head: bool,
        device: str | torch.device | None = None,
    ) -> Backbone:
        """Load a hateproto checkpoint folder: its base model, its merged adapter (if any)
        and the defaults its spec declares (see :func:`read_checkpoint_spec`)."""
        reference = checkpoint_backbone(path, spec)
        backbone = cls.load(reference, dtype=dtype, with_lm_head=with_lm_head, device=device)
        if spec.get("adapter"):
            backbone.model = merge_adapter(backbone.model, Path(path) / spec["adapter"])
        backbone.info.default_pooling = spec.get("pooling", backbone.info.default_pooling)
        backbone.info.prefix = spec.get("prefix", backbone.info.prefix)
        backbone.info.default_layer_norm = spec.get("layer_norm", backbone.info.default_layer_norm)
        backbone.info.extra["checkpoint"] = str(path)
        inside = reference != spec.get("backbone")  # the checkpoint's own subfolder
        backbone.info.extra["base"] = None if inside or spec.get("adapter") else reference
        backbone._fingerprint = None
        return backbone

    # ------------------------------------------------------------------ facts
    @property
    def num_layers(self) -> int:
        """Number of transformer layers ``L`` (layer indices run 0..L, 0 = embeddings)."""
        return self.info.num_layers

    @property
    def hidden_size(self) -> int:
        """Width of every layer's vectors."""
        return self.info.hidden_size

    @property
    def family(self) -> Family:
        """``encoder`` or ``decoder``."""
        return self.info.family

    @property
    def device(self) -> torch.device:
        """Where the model's weights are (every tensor built for it goes there too)."""
        return module_device(self.model)

    def to(self, device: str | torch.device | None) -> Backbone:
        """Move the model (and the LM head, if kept) to ``device`` (``None``: the process
        default, see :func:`~hateproto.models.device.resolve_device`); returns ``self``."""
        place(self.model, device)
        if self.lm is not None:
            place(self.lm, device)
        return self

    def astype(self, dtype: str) -> Backbone:
        """This backbone in ``dtype`` (``self`` if it already is, else a copy)."""
        import copy

        target = torch_dtype(dtype)
        if self.dtype == target:
            return self
        clone = copy.copy(self)
        clone.model = copy.deepcopy(self.model).to(target)
        clone.lm = None if self.lm is None else copy.deepcopy(self.lm).to(target)
        clone._compiled = None
        return clone

    @property
    def dtype(self) -> torch.dtype:
        """Parameter dtype of the loaded model."""
        return next(self.model.parameters()).dtype

    @property
    def fingerprint(self) -> str:
        """A short hash of the configuration and (a strided sample of) the weights.

        Values are rounded to bfloat16 before hashing, so the same weights loaded in fp32 or
        bf16 share a fingerprint, while any fine-tuning step changes it.
        """
        if self._fingerprint is None:
            self._fingerprint = compute_fingerprint(self.model)
        return self._fingerprint

    @property
    def is_compiled(self) -> bool:
        """Whether :meth:`compile` was called."""
        return self._compiled is not None

    def compile(self, mode: str | None = None) -> Backbone:
        """Run plain forward passes through ``torch.compile`` (see
        :func:`~hateproto.models.compiled.compile_forward`; ``None``: the mode that pays on
        this backbone's device); batches are then padded to a multiple of 8 tokens, so few
        shapes are compiled. Returns ``self``."""
        self._compiled = compile_forward(self.model, mode or default_mode(self.device))
        return self

    def pack_linears(self) -> Backbone:
        """Pack the linear layers' weights once for oneDNN, for faster inference on the CPU
        (:mod:`hateproto.models.packed_linear`; the same kernel, equal results up to bfloat16
        rounding). Returns ``self``."""
        pack_linears(self.model)
        return self

    # ------------------------------------------------------------------ encoding
    def tokenize(self, texts: Sequence[str], max_length: int = 256) -> list[list[int]]:
        """Token ids of each text (prefix applied, truncated, no padding).

        ``max_length`` is capped at the model's position limit (``max_position_embeddings``,
        less 2 for models whose positions start after the padding index, as in MPNet/RoBERTa).
        """
        prefixed = [self.info.prefix + t for t in texts]
        return self.tokenizer(
            list(prefixed),
            truncation=True,
            max_length=self.max_input_length(max_length),
            padding=False,
        )["input_ids"]

    def max_input_length(self, requested: int) -> int:
        """The smaller of ``requested`` and the longest input the model's positions allow."""
        config = getattr(self.model, "config", None)
        limit = getattr(config, "max_position_embeddings", None)
        if not limit:
            return requested
        if getattr(config, "model_type", "") in {"mpnet", "roberta", "xlm-roberta", "camembert"}:
            limit -= 2
        return min(requested, int(limit))

    def batches(self, texts: Sequence[str], batch_size: int, max_length: int) -> Iterator[Batch]:
        """Length-sorted padded batches of ``texts`` on the model's device, the next ones
        tokenised in the background (see :func:`~hateproto.models.prefetch.iter_batches`)."""
        return iter_batches(
            lambda chunk: self.tokenize(chunk, max_length), self.pad, texts, batch_size, self.device
        )

    def pad(self, ids: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
        """Pad a list of token-id lists into ``input_ids``/``attention_mask`` tensors (to a
        multiple of 8 tokens once compiled, so that few shapes are compiled)."""
        side = getattr(self.tokenizer, "padding_side", "right")
        multiple = 8 if self.is_compiled else 1
        return pad_token_ids(ids, self.tokenizer.pad_token_id, side, multiple)

    def resolve_layers(self, layers: Sequence[int] | str | None) -> list[int]:
        """Normalise a layer selection: ``None``/"all" → 1..L, "last" → [L], negatives count
        from the end (-1 = L)."""
        return select_layers(layers, self.num_layers, self.info.name_or_path)

    def layer_states(
        self, hidden_states: Sequence[torch.Tensor], layers: Sequence[int], layer_norm: LayerNorm
    ) -> list[torch.Tensor]:
        """Pick ``layers`` from a forward pass's ``hidden_states`` and normalise them.

        For decoders only the last hidden state has passed the final norm; ``final_norm``
        applies that norm to the others, ``standardize`` z-scores every token vector.
        """
        last = len(hidden_states) - 1
        return [
            self.normalize_layer_state(hidden_states[layer], layer_norm, is_last=layer == last)
            for layer in layers
        ]

    def normalize_layer_state(
        self, state: torch.Tensor, layer_norm: LayerNorm, is_last: bool
    ) -> torch.Tensor:
        """Normalise one layer's token states ``[B, T, H]`` as :meth:`layer_states` does.

        ``is_last`` marks the last hidden state, which has already passed a decoder's final
        norm (``final_norm`` leaves it alone).
        """
        return normalize_state(self.model, state, layer_norm, is_last)

    def forward_hidden_states(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """One forward pass returning every layer's token states (``L + 1`` tensors); the batch
        is moved to the model's device first."""
        batch = to_device(batch, self.device)
        model = self.model if self._compiled is None else self._compiled
        extra = {"use_cache": False} if self.family == "decoder" else {}
        try:
            out = model(**batch, output_hidden_states=True, **extra)
        except Exception as exc:
            failure = compile_failure(exc) if self._compiled is not None else None
            if failure is not None:
                raise failure from exc
            raise
        return out.hidden_states

    @torch.inference_mode()
    def encode(
        self,
        texts: Sequence[str],
        layers: Sequence[int] | str | None = None,
        pooling: str | None = None,
        layer_norm: LayerNorm | None = None,
        batch_size: int = 32,
        max_length: int = 256,
        show_progress: bool = False,
        cache: bool = False,
        description: str = "encoding",
    ) -> torch.Tensor:
        """Pooled vectors of every text at every requested layer, in one forward pass each.

        Texts are sorted by length and batched with dynamic padding, then returned in input
        order as a float32 tensor ``[N, len(layers), H]``.

        Args:
            layers: layer indices (0 = embeddings, 1..L), "all" (default) or "last".
            pooling: ``cls``, ``mean``, ``last``, ``normalized_sum`` or ``max``; default is
                what the model declares (sentence-transformers config), else ``cls`` for
                encoders and ``last`` for decoders.
            layer_norm: ``none``, ``final_norm`` (default for decoders) or ``standardize``.
            description: label of the progress bar.
            cache: reuse/store the result in ``$HATEPROTO_HOME/cache/reps`` (safetensors),
                keyed by fingerprint, texts and settings.
        """
        texts = validate_texts(texts)
        layer_ids = self.resolve_layers(layers)
        pooling = pooling or self.info.default_pooling
        if pooling not in POOLINGS:
            raise ModelError(f"unknown pooling {pooling!r}; choose from {', '.join(POOLINGS)}")
        layer_norm = layer_norm or self.info.default_layer_norm
        settings = {
            "layers": layer_ids,
            "pooling": pooling,
            "layer_norm": layer_norm,
            "max_length": max_length,
            "prefix": self.info.prefix,
            "dtype": str(self.dtype),
        }
        if cache:
            from hateproto.models.cache import RepresentationCache

            store = RepresentationCache()
            key = store.key(self.fingerprint, texts, settings)
            hit = store.get(key)
            if hit is not None:
                return hit
        result = self._encode_uncached(
            texts,
            layer_ids,
            pooling,
            layer_norm,
            batch_size,
            max_length,
            show_progress,
            description,
        )
        if cache:
            store.put(key, result)
        return result

    def _encode_uncached(
        self,
        texts: list[str],
        layers: list[int],
        pooling: str,
        layer_norm: LayerNorm,
        batch_size: int,
        max_length: int,
        show_progress: bool,
        description: str = "encoding",
    ) -> torch.Tensor:
        out = torch.empty(len(texts), len(layers), self.hidden_size, dtype=torch.float32)
        with progress_bar(len(texts), description, enabled=show_progress) as advance:
            for batch in self.batches(texts, batch_size, max_length):
                states = self.layer_states(
                    self.forward_hidden_states(batch.tensors), layers, layer_norm
                )
                mask = batch.tensors["attention_mask"]
                pooled = torch.stack([pool(s, mask, pooling) for s in states], dim=1)
                out[batch.rows] = pooled.float().cpu()  # back to the host once per batch
                advance(len(batch.rows))
        return out
