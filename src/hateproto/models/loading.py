"""Loading the parts of a :class:`~hateproto.models.Backbone`: dtypes, hateproto checkpoint
specs, PEFT adapters, sentence-transformers pooling configs, and the ``transformers`` model,
tokenizer and config behind a resolved reference (see :mod:`hateproto.models.references`).

Only public ``transformers`` and ``peft`` APIs are called here; anything that depends on
``transformers`` internals goes through :mod:`hateproto.models.compat`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from hateproto.errors import ModelError
from hateproto.models.compat import drop_gguf_quantizer, masked_lm_model_types
from hateproto.models.info import BackboneInfo, Family
from hateproto.models.references import CHECKPOINT_FILE
from hateproto.optional import require

DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
}
"""Names accepted for a backbone's dtype, and the torch dtype each stands for."""

# Pooling modes of a sentence-transformers Pooling config, in the order they are checked.
_ST_POOLING_KEYS = (
    ("pooling_mode_cls_token", "cls"),
    ("pooling_mode_mean_tokens", "mean"),
    ("pooling_mode_lasttoken", "last"),
    ("pooling_mode_max_tokens", "max"),
)

Parts = tuple[torch.nn.Module, Any, BackboneInfo, torch.nn.Module | None]
"""``(model, tokenizer, info, lm)``: what :class:`~hateproto.models.Backbone` is built from."""


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype named ``name`` (a key of :data:`DTYPES`); :class:`ModelError` if unknown."""
    if name not in DTYPES:
        raise ModelError(f"unknown dtype {name!r}; choose from {', '.join(DTYPES)}")
    return DTYPES[name]


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
        spec = json.loads(spec_path.read_text())
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ModelError(f"{spec_path} is not valid JSON: {exc}") from None
    if not isinstance(spec, dict):
        raise ModelError(f"{spec_path} is invalid: expected an object, found {type(spec).__name__}")
    for key, optional in (
        ("backbone", False),
        ("adapter", True),
        ("pooling", True),
        ("prefix", True),
        ("layer_norm", True),
    ):
        value = spec.get(key)
        if not isinstance(value, str) and not (optional and value is None):
            raise ModelError(f"{spec_path} is invalid: {key!r} must be a string")
    return spec


def checkpoint_backbone(folder: str | Path, spec: dict[str, Any]) -> str:
    """The reference of the model a checkpoint builds on: its subfolder if that exists, else
    the ``backbone`` entry as it is (an alias, hub id or path)."""
    inner = spec.get("backbone")
    if not inner:
        raise ModelError(f"{Path(folder) / CHECKPOINT_FILE} has no 'backbone' entry")
    inner_path = Path(folder) / inner
    return str(inner_path) if inner_path.exists() else inner


def merge_adapter(model: torch.nn.Module, adapter_dir: Path) -> torch.nn.Module:
    """``model`` with the PEFT (LoRA) adapter in ``adapter_dir`` merged into its weights."""
    from peft import PeftModel

    if not adapter_dir.is_dir():
        raise ModelError(f"LoRA adapter folder not found: {adapter_dir}")
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    return merged.eval()


def detect_family(config: Any) -> Family:
    """Encoder (bidirectional, masked-LM family) or decoder (causal LM)."""
    architectures = getattr(config, "architectures", None) or []
    if any("CausalLM" in arch for arch in architectures):
        return "decoder"
    return "encoder" if config.model_type in masked_lm_model_types() else "decoder"


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
            declared = [name for key, name in _ST_POOLING_KEYS if cfg.get(key)]
            if declared:
                return declared[0]
    return None


def load_transformer(path: str, gguf_file: str | None, dtype: str, with_lm_head: bool) -> Parts:
    """Load a plain model folder, hub id or GGUF file (already resolved) as backbone parts.

    With ``with_lm_head`` the causal-LM model is loaded and its decoder becomes the backbone
    (``lm`` keeps the head); an encoder raises :class:`ModelError`.
    """
    kwargs: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
    if gguf_file:
        require("gguf", extra="gguf", purpose=f"loading {gguf_file}")
    try:
        config, tokenizer, family, model, lm = _from_pretrained(
            path, torch_dtype(dtype), with_lm_head, kwargs
        )
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - any library's failure on a damaged folder
        raise ModelError(f"could not load model {path!r}: {load_failure(exc)}") from None
    if gguf_file:
        drop_gguf_quantizer(model)
    ensure_pad_token(tokenizer, path)
    return model, tokenizer, describe_model(path, config, family), lm


def _from_pretrained(
    path: str, dtype: torch.dtype, with_lm_head: bool, kwargs: dict[str, Any]
) -> tuple[Any, Any, Family, torch.nn.Module, torch.nn.Module | None]:
    """``(config, tokenizer, family, model, lm)`` from ``transformers``' auto classes."""
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(path, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    family = detect_family(config)
    if not with_lm_head:
        model = AutoModel.from_pretrained(path, dtype=dtype, **kwargs)
        return config, tokenizer, family, model, None
    if family != "decoder":
        raise ModelError(f"{path} is an encoder; with_lm_head needs a causal LM")
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **kwargs)
    model = lm.get_decoder() if hasattr(lm, "get_decoder") else lm.base_model
    return config, tokenizer, family, model, lm


def load_failure(exc: BaseException) -> str:
    """A one-line reason for a failed model load, safe to show: a pickled weights file is
    named as such (never with torch's advice to pass ``weights_only=False``, which would run
    the file's code), a damaged safetensors file as damaged."""
    text = " ".join(str(exc).split())
    kind = type(exc).__name__
    if "weights_only" in text or "pickle" in text.lower() or "Unpickl" in kind:
        return (
            "its weights file is a pickle that cannot be loaded safely (hateproto never runs "
            "code from a model file); use a model saved as safetensors"
        )
    if "Safetensor" in kind or "safetensors" in text.lower():
        return f"a safetensors weights file is damaged or truncated ({kind})"
    return f"{text[:300]} ({kind})" if text else kind


def ensure_pad_token(tokenizer: Any, path: str) -> None:
    """Give a tokenizer without a pad token its eos token as one (decoders usually lack it)."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelError(f"{path}: the tokenizer has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token


def describe_model(path: str, config: Any, family: Family) -> BackboneInfo:
    """The :class:`BackboneInfo` of a freshly loaded model, with the defaults it declares:
    its sentence-transformers pooling, else ``cls`` (encoders) or ``last`` (decoders); no
    layer norm for encoders, the final norm for decoders."""
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    st_pooling = sentence_transformers_pooling(path) if Path(path).is_dir() else None
    return BackboneInfo(
        name_or_path=path,
        model_type=config.model_type,
        family=family,
        num_layers=int(text_config.num_hidden_layers),
        hidden_size=int(text_config.hidden_size),
        default_pooling=st_pooling or ("cls" if family == "encoder" else "last"),
        default_layer_norm="none" if family == "encoder" else "final_norm",
    )
