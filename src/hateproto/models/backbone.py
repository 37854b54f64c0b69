"""A loaded transformer plus its tokenizer and the facts other modules need about it.

:class:`Backbone` is the only place that touches ``transformers`` model internals for
representation extraction: pooling, decoder per-layer normalisation, padding and dtype.
Layer numbering everywhere in hateproto: ``0`` is the embedding output, ``1..L`` are the
outputs of the transformer layers (``L = backbone.num_layers``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from hateproto.errors import ModelError
from hateproto.models.device import module_device, place, to_device
from hateproto.models.pooling import POOLINGS, pool
from hateproto.models.prefetch import Batch, iter_batches
from hateproto.optional import require
from hateproto.progress import progress_bar

Family = Literal["encoder", "decoder"]
LayerNorm = Literal["none", "final_norm", "standardize"]
CHECKPOINT_FILE = "hateproto_backbone.json"
"""A folder holding this file is a hateproto checkpoint; see :func:`read_checkpoint_spec`."""

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
}


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


def resolve_model_reference(name_or_path: str) -> tuple[str, str | None]:
    """Turn an alias (``minilm``), folder, GGUF file or hub id into ``(path_or_id, gguf_file)``.

    Raises :class:`ModelError` for a local-looking path that does not exist and for an alias
    that has not been fetched yet (naming the command that fetches it).
    """
    from hateproto.models.fetch import DEFAULT_MODELS, is_fetched, model_path

    if name_or_path in DEFAULT_MODELS:
        if not is_fetched(name_or_path):
            raise ModelError(
                f"model {name_or_path!r} is not fetched yet: run `hateproto models fetch "
                f"{name_or_path}` (it goes to {model_path(name_or_path)})"
            )
        return str(model_path(name_or_path)), None
    path = Path(name_or_path).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError(f"GGUF file not found: {path}")
        return str(path.parent), path.name
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"{path} is neither a model folder nor a .gguf file")
        ggufs = sorted(path.glob("*.gguf"))
        if not (path / "config.json").is_file() and not (path / CHECKPOINT_FILE).is_file():
            if len(ggufs) == 1:
                return str(path), ggufs[0].name
            raise ModelError(f"model folder {path} has no config.json (is it a model folder?)")
        return str(path), None
    looks_local = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    if looks_local:
        raise ModelError(f"model folder not found: {path}")
    return name_or_path, None


def read_checkpoint_spec(folder: str | Path) -> dict[str, Any] | None:
    """Read ``hateproto_backbone.json`` of a hateproto checkpoint folder, if there is one.

    Keys: ``backbone`` (subfolder with a Hugging Face model, relative to ``folder``, or a
    model reference), optional ``adapter`` (subfolder with a PEFT adapter to merge),
    ``pooling``, ``prefix``, ``layer_norm``.
    """
    spec_path = Path(folder) / CHECKPOINT_FILE
    if not spec_path.is_file():
        return None
    try:
        return json.loads(spec_path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{spec_path} is not valid JSON: {exc}") from None


def detect_family(config: Any) -> Family:
    """Encoder (bidirectional, masked-LM family) or decoder (causal LM)."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    architectures = getattr(config, "architectures", None) or []
    if any("CausalLM" in arch for arch in architectures):
        return "decoder"
    return "encoder" if config.model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES else "decoder"


def sentence_transformers_pooling(folder: str | Path) -> str | None:
    """The pooling a sentence-transformers folder declares (``modules.json``), if any."""
    folder = Path(folder)
    modules = folder / "modules.json"
    if not modules.is_file():
        return None
    for module in json.loads(modules.read_text()):
        if module.get("type", "").endswith("Pooling"):
            config_path = folder / module.get("path", "") / "config.json"
            if not config_path.is_file():
                return None
            cfg = json.loads(config_path.read_text())
            for key, name in (
                ("pooling_mode_cls_token", "cls"),
                ("pooling_mode_mean_tokens", "mean"),
                ("pooling_mode_lasttoken", "last"),
                ("pooling_mode_max_tokens", "max"),
            ):
                if cfg.get(key):
                    return name
    return None


def _final_norm(model: torch.nn.Module) -> torch.nn.Module | None:
    for path in ("norm", "final_layernorm", "final_layer_norm", "ln_f", "decoder.final_layer_norm"):
        module: Any = model
        for part in path.split("."):
            module = getattr(module, part, None)
            if module is None:
                break
        if isinstance(module, torch.nn.Module):
            return module
    return None


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
            dtype: ``float32`` (default) or ``bfloat16`` (1.5-2x faster on CPU here).
            with_lm_head: also keep the causal-LM head (``self.lm``), e.g. for guard models.
            pooling, layer_norm, prefix: override the defaults the model declares.
            device: ``auto`` (a GPU when torch sees one), ``cpu``, ``cuda`` or ``cuda:N``;
                default ``$HATEPROTO_DEVICE`` or ``auto`` (see :mod:`hateproto.models.device`).
        """
        if dtype not in _DTYPES:
            raise ModelError(f"unknown dtype {dtype!r}; choose from {', '.join(_DTYPES)}")
        path, gguf_file = resolve_model_reference(name_or_path)
        spec = read_checkpoint_spec(path) if gguf_file is None else None
        if spec is not None:
            backbone = cls._load_checkpoint(path, spec, dtype, with_lm_head, device)
        else:
            backbone = cls._load_plain(path, gguf_file, dtype, with_lm_head)
        backbone.info.name_or_path = name_or_path
        backbone.to(device)
        if pooling is not None:
            if pooling not in POOLINGS:
                raise ModelError(f"unknown pooling {pooling!r}; choose from {', '.join(POOLINGS)}")
            backbone.info.default_pooling = pooling
        if layer_norm is not None:
            backbone.info.default_layer_norm = layer_norm
        if prefix is not None:
            backbone.info.prefix = prefix
        return backbone

    @classmethod
    def _load_plain(
        cls, path: str, gguf_file: str | None, dtype: str, with_lm_head: bool
    ) -> Backbone:
        from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

        kwargs: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
        if gguf_file:
            require("gguf", extra="gguf", purpose=f"loading {gguf_file}")
        try:
            config = AutoConfig.from_pretrained(path, **kwargs)
            tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
            family = detect_family(config)
            if with_lm_head:
                if family != "decoder":
                    raise ModelError(f"{path} is an encoder; with_lm_head needs a causal LM")
                lm = AutoModelForCausalLM.from_pretrained(path, dtype=_DTYPES[dtype], **kwargs)
                model = lm.get_decoder() if hasattr(lm, "get_decoder") else lm.base_model
            else:
                lm = None
                model = AutoModel.from_pretrained(path, dtype=_DTYPES[dtype], **kwargs)
        except ModelError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"could not load model {path!r}: {exc}") from None
        if gguf_file:
            model.hf_quantizer = None
        return cls._assemble(path, model, tokenizer, config, family, lm)

    @classmethod
    def _load_checkpoint(
        cls,
        path: str,
        spec: dict[str, Any],
        dtype: str,
        with_lm_head: bool,
        device: str | torch.device | None = None,
    ) -> Backbone:
        inner = spec.get("backbone")
        if not inner:
            raise ModelError(f"{Path(path) / CHECKPOINT_FILE} has no 'backbone' entry")
        inner_path = Path(path) / inner
        reference = str(inner_path) if inner_path.exists() else inner
        backbone = cls.load(reference, dtype=dtype, with_lm_head=with_lm_head, device=device)
        if spec.get("adapter"):
            backbone._merge_adapter(Path(path) / spec["adapter"])
        backbone.info.default_pooling = spec.get("pooling", backbone.info.default_pooling)
        backbone.info.prefix = spec.get("prefix", backbone.info.prefix)
        backbone.info.default_layer_norm = spec.get("layer_norm", backbone.info.default_layer_norm)
        backbone.info.extra["checkpoint"] = str(path)
        backbone._fingerprint = None
        return backbone

    def _merge_adapter(self, adapter_dir: Path) -> None:
        from peft import PeftModel

        if not adapter_dir.is_dir():
            raise ModelError(f"LoRA adapter folder not found: {adapter_dir}")
        merged = PeftModel.from_pretrained(self.model, str(adapter_dir)).merge_and_unload()
        self.model = merged.eval()

    @classmethod
    def _assemble(
        cls,
        path: str,
        model: torch.nn.Module,
        tokenizer: Any,
        config: Any,
        family: Family,
        lm: torch.nn.Module | None,
    ) -> Backbone:
        if tokenizer.pad_token is None:
            if tokenizer.eos_token is None:
                raise ModelError(f"{path}: the tokenizer has neither a pad nor an eos token")
            tokenizer.pad_token = tokenizer.eos_token
        text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
        st_pooling = sentence_transformers_pooling(path) if Path(path).is_dir() else None
        info = BackboneInfo(
            name_or_path=path,
            model_type=config.model_type,
            family=family,
            num_layers=int(text_config.num_hidden_layers),
            hidden_size=int(text_config.hidden_size),
            default_pooling=st_pooling or ("cls" if family == "encoder" else "last"),
            default_layer_norm="none" if family == "encoder" else "final_norm",
        )
        return cls(model, tokenizer, info, lm)

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
        """Pad a list of token-id lists into ``input_ids``/``attention_mask`` tensors."""
        batch = self.tokenizer.pad({"input_ids": [list(x) for x in ids]}, return_tensors="pt")
        return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}

    def resolve_layers(self, layers: Sequence[int] | str | None) -> list[int]:
        """Normalise a layer selection: ``None``/"all" → 1..L, "last" → [L], negatives count
        from the end (-1 = L)."""
        L = self.num_layers
        if layers is None or layers == "all":
            return list(range(1, L + 1))
        if layers == "last":
            return [L]
        if isinstance(layers, str):
            raise ModelError(f"unknown layer selection {layers!r}; use all, last or numbers")
        out = [L + 1 + int(i) if int(i) < 0 else int(i) for i in layers]
        bad = [i for i in out if not 0 <= i <= L]
        if bad:
            raise ModelError(f"layer(s) {bad} out of range 0..{L} for {self.info.name_or_path}")
        return out

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
        if layer_norm == "final_norm" and not is_last:
            norm = _final_norm(self.model)
            return norm(state) if norm is not None else state
        if layer_norm == "standardize":
            return torch.nn.functional.layer_norm(state, state.shape[-1:])
        return state

    def forward_hidden_states(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """One forward pass returning every layer's token states (``L + 1`` tensors); the batch
        is moved to the model's device first."""
        batch = to_device(batch, self.device)
        out = (
            self.model(**batch, output_hidden_states=True, use_cache=False)
            if self.family == "decoder"
            else self.model(**batch, output_hidden_states=True)
        )
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


def validate_texts(texts: Sequence[str]) -> list[str]:
    """Check that ``texts`` is a non-empty list of non-empty strings; return it as a list."""
    if isinstance(texts, str):
        raise ModelError("expected a list of texts, got a single string")
    texts = list(texts)
    if not texts:
        raise ModelError("no texts given")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ModelError(f"text {i} is {type(text).__name__}, not a string")
        if not text.strip():
            raise ModelError(f"text {i} is empty")
    return texts


def compute_fingerprint(model: torch.nn.Module, samples_per_tensor: int = 256) -> str:
    """Hash of a model's configuration and a strided, bf16-rounded sample of every weight."""
    digest = hashlib.sha256()
    config = getattr(model, "config", None)
    if config is not None:
        values = {
            k: v
            for k, v in config.to_dict().items()
            if not k.startswith("_")
            and k
            not in {
                "transformers_version",
                "torch_dtype",
                "dtype",
                "architectures",
                "quantization_config",
                "name_or_path",
            }
        }
        digest.update(json.dumps(values, sort_keys=True, default=str).encode())
    with torch.no_grad():
        for name, tensor in sorted(model.state_dict().items()):
            flat = tensor.detach().reshape(-1)
            step = max(1, flat.numel() // samples_per_tensor)
            sample = flat[::step][:samples_per_tensor].cpu().to(torch.bfloat16).float()
            digest.update(name.encode())
            digest.update(str(tuple(tensor.shape)).encode())
            digest.update(sample.numpy().tobytes())
    return digest.hexdigest()[:16]
