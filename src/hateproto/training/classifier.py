"""HateClassifier: a hateproto Backbone, a pooling, a head and optionally a LoRA adapter.

A checkpoint folder written by :meth:`HateClassifier.save_pretrained` (the project's
checkpoint contract):

* ``hateproto_backbone.json``: ``backbone`` (``"backbone"`` subfolder for full fine-tuning,
  else the base model reference), ``adapter`` (``"adapter"`` or ``null``), ``pooling``,
  ``prefix``, ``layer_norm``; so ``Backbone.load(folder)`` alone gives the fine-tuned encoder.
* ``backbone/`` (Hugging Face model + tokenizer) or ``adapter/`` (PEFT LoRA adapter).
* ``head.safetensors`` and ``hateproto_classifier.json`` (format version, head type and sizes,
  label names, pooling, prefix, base model, mode, training config, dev metrics).

Example:
    >>> clf = HateClassifier.from_config(TrainingConfig(backbone="minilm"))  # doctest: +SKIP
    >>> clf.fit(train, dev)                                                   # doctest: +SKIP
    >>> clf.save_pretrained("out/ihc"); HateClassifier.from_pretrained("out/ihc")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from hateproto.data import LABEL_NAMES, LabeledTexts
from hateproto.errors import ConfigError, MismatchError, ModelError
from hateproto.models.backbone import CHECKPOINT_FILE, Backbone
from hateproto.models.pooling import pool
from hateproto.training.config import TrainingConfig
from hateproto.training.heads import build_head, head_spec
from hateproto.training.lora import apply_lora
from hateproto.training.registry import classifier_type, section_classifier

CLASSIFIER_FILE = "hateproto_classifier.json"
HEAD_FILE = "head.safetensors"
FORMAT_VERSION = 1


class HateClassifier(nn.Module):
    """Fine-tunable hate speech classifier over any hateproto :class:`Backbone`.

    Build a new one with :meth:`from_config`, train with :meth:`fit`, load a saved one with
    :meth:`from_pretrained`. ``backbone.info.prefix`` is prepended to every text, so prototypes
    and early exit built on ``Backbone.load(checkpoint)`` see what the classifier saw.

    Attributes:
        backbone: the hateproto Backbone (its ``model`` is this module's ``encoder``).
        head: the classification head (``linear`` or ``mlp``).
        pooling: how token states become one vector.
        label_names: one name per output column (``not_hate``, ``hate``).
        dev_metrics: metrics of the kept epoch on the dev set (after :meth:`fit`).
        history: per-epoch training records; run_info: free-form facts saved with it.
    """

    def __init__(
        self,
        backbone: Backbone,
        head: nn.Module,
        config: TrainingConfig,
        label_names: Sequence[str] = LABEL_NAMES,
        pooling: str | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.encoder = backbone.model
        self.head = head
        self.config = config
        self.label_names = tuple(label_names)
        self.pooling = pooling or config.resolved_pooling(backbone.info.default_pooling)
        self.pool_layers = check_pool_layers(config.pool_layers, backbone.num_layers)
        self.dev_metrics: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        self.run_info: dict[str, Any] = {}
        if config.mode == "probe":
            self.encoder.requires_grad_(False)
        _freeze_unused_pooler(self.encoder)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_config(cls, config: TrainingConfig) -> HateClassifier:
        """Load the backbone and build a freshly initialised head (and LoRA adapter)."""
        extension = section_classifier(config) if cls is HateClassifier else None
        if extension is not None:  # e.g. a FusionClassifier for a `fusion` section
            return extension.from_config(config)
        torch.manual_seed(config.seed)
        backbone = Backbone.load(config.backbone, dtype=config.dtype)
        pooling = config.resolved_pooling(backbone.info.default_pooling)
        backbone.info.default_pooling = pooling
        backbone.info.prefix = config.resolved_prefix()
        if config.mode == "lora":
            backbone.model = apply_lora(
                backbone.model,
                config.lora_r,
                config.lora_alpha,
                config.lora_dropout,
                config.lora_target_modules,
            )
        check_pool_layers(config.pool_layers, backbone.num_layers)
        head = build_head(
            config.resolved_head(),
            backbone.hidden_size * len(config.pool_layers or [None]),
            num_labels=len(LABEL_NAMES),
            hidden_size=config.mlp_hidden_size,
            dropout=config.dropout,
        )
        return cls(
            backbone,
            head.to(device=backbone.device, dtype=backbone.dtype),
            config,
            LABEL_NAMES,
            pooling,
        )

    def train(self, mode: bool = True) -> HateClassifier:
        """Set training mode; in ``probe`` mode the frozen encoder always stays in eval mode."""
        super().train(mode)
        if self.config.mode == "probe":
            self.encoder.eval()
        return self

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        pooled: torch.Tensor | None = None,
        **_: Any,
    ) -> torch.Tensor:
        """Logits ``[B, 2]`` from token ids (with mask) or from already pooled vectors."""
        if pooled is None:
            extra = {"use_cache": False} if self.backbone.family == "decoder" else {}
            if self.pool_layers is not None:
                extra["output_hidden_states"] = True
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra)
            pooled = self._pool_output(out, attention_mask)
        return self.logits_from_pooled(pooled)

    @property
    def feature_size(self) -> int:
        """Width of the head's input: ``H``, or ``H * len(pool_layers)``."""
        return self.backbone.hidden_size * len(self.pool_layers or [None])

    def _pool_output(self, out: Any, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Pooled features of one encoder output (the last layer, or ``pool_layers``)."""
        if self.pool_layers is None:
            return pool(out.last_hidden_state, attention_mask, self.pooling)
        layer_norm = self.backbone.info.default_layer_norm
        states = self.backbone.layer_states(out.hidden_states, self.pool_layers, layer_norm)
        pooled = [pool(state, attention_mask, self.pooling) for state in states]
        return torch.cat([F.normalize(p, dim=-1) for p in pooled], dim=-1)

    def logits_from_pooled(self, pooled: torch.Tensor) -> torch.Tensor:
        """Head logits ``[B, 2]`` for pooled vectors ``[B, feature_size]`` (for instance
        ``Backbone.encode(texts, layers="last")[:, 0]`` of the same checkpoint, or
        :meth:`encode`'s output)."""
        weight = next(self.head.parameters())
        if pooled.is_inference() and torch.is_grad_enabled():
            pooled = pooled.clone()  # vectors from Backbone.encode (inference mode)
        return self.head(pooled.to(weight.device, weight.dtype))

    def encode(
        self, texts: Sequence[str], cache: bool = False, show_progress: bool = False
    ) -> torch.Tensor:
        """Pooled features ``[N, feature_size]`` (prefix applied, length-sorted batches): the
        last layer's vectors, or each of ``pool_layers`` L2-normalised and concatenated."""
        with self._autocast():
            vectors = self.backbone.encode(
                texts,
                layers="last" if self.pool_layers is None else self.pool_layers,
                pooling=self.pooling,
                batch_size=self.config.eval_batch_size,
                max_length=self.config.max_length,
                show_progress=show_progress,
                cache=cache,
            )
        if self.pool_layers is None:
            return vectors[:, 0]
        return F.normalize(vectors, dim=-1).flatten(1)

    def _autocast(self) -> Any:
        """bf16 autocast when configured; never in ``probe`` mode, whose cached features are
        keyed by the backbone's dtype (load it in bfloat16 for speed instead)."""
        device = next(self.encoder.parameters()).device.type
        enabled = self.config.bf16 and self.config.mode != "probe"
        return torch.autocast(device, dtype=torch.bfloat16, enabled=enabled)

    # ------------------------------------------------------------------ prediction
    @torch.inference_mode()
    def proba_from_pooled(self, pooled: torch.Tensor) -> np.ndarray:
        """Class probabilities ``[N, 2]`` for pooled vectors ``[N, H]``."""
        self.eval()
        return torch.softmax(self.logits_from_pooled(pooled).float(), dim=-1).cpu().numpy()

    def predict_proba(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Class probabilities ``[N, 2]`` (columns in ``label_names`` order)."""
        self.eval()
        return self.proba_from_pooled(self.encode(texts, show_progress=show_progress))

    def predict(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Predicted label index per text (1 = hate)."""
        return self.predict_proba(texts, show_progress).argmax(axis=1)

    # ------------------------------------------------------------------ training
    def fit(
        self,
        train: LabeledTexts,
        dev: LabeledTexts | None = None,
        log_path: str | Path | None = None,
    ) -> HateClassifier:
        """Train with this classifier's config; keep the epoch best on ``dev`` (if given)."""
        from hateproto.training.trainer import Trainer

        Trainer(self.config, log_path=log_path).fit(self, train, dev)
        return self

    # ------------------------------------------------------------------ saving
    def base_model_reference(self) -> str:
        """The base model as given in the config (absolute path if it is a local path)."""
        ref = self.config.backbone
        path = Path(ref).expanduser()
        return str(path.resolve()) if path.exists() else ref

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write the checkpoint folder atomically (:func:`hateproto.outputs.replace_folder`:
        written beside it, then swapped in; the old checkpoint or the new one, never a mix)."""
        from hateproto.outputs import replace_folder

        def write(staging: Path) -> None:
            staging.mkdir()
            self._write(staging)

        return replace_folder(folder, write)

    def _write(self, folder: Path) -> None:
        mode = self.config.mode
        inner, adapter = "backbone", None
        if mode == "full":
            model = self.backbone.model
            for attr in ("quantization_config",):  # GGUF-loaded models refuse to save with it
                if hasattr(model.config, attr):
                    delattr(model.config, attr)
            model.save_pretrained(folder / "backbone")
            self.backbone.tokenizer.save_pretrained(folder / "backbone")
        else:
            inner = self.base_model_reference()
            if mode == "lora":
                adapter = "adapter"
                self.backbone.model.save_pretrained(folder / "adapter")
        info = self.backbone.info
        spec = {
            "backbone": inner,
            "adapter": adapter,
            "pooling": self.pooling,
            "prefix": info.prefix,
            "layer_norm": info.default_layer_norm,
        }
        _write_json(folder / CHECKPOINT_FILE, spec)
        head_state = {k: v.contiguous() for k, v in self.head.state_dict().items()}
        save_file(head_state, folder / HEAD_FILE)
        meta = {
            "format_version": FORMAT_VERSION,
            "head": head_spec(self.head),
            "label_names": list(self.label_names),
            "pooling": self.pooling,
            "pool_layers": self.pool_layers,
            "prefix": info.prefix,
            "mode": mode,
            "base_model": self.base_model_reference(),
            "family": info.family,
            "training_config": self.config.model_dump(mode="json", exclude={"data"}),
            "dev_metrics": self.dev_metrics,
            "history": self.history,
            "run": self.run_info,
        }
        _write_json(folder / CLASSIFIER_FILE, meta)

    @classmethod
    def from_pretrained(cls, folder: str | Path, dtype: str = "float32") -> HateClassifier:
        """Load a checkpoint folder (LoRA adapters are merged into the backbone)."""
        folder = Path(folder).expanduser()
        meta = read_classifier_meta(folder)
        extension = classifier_type(meta["head"].get("type")) if cls is HateClassifier else None
        if extension is not None:  # a head type registered by an extension (fusion)
            return extension.from_pretrained(folder, dtype)
        spec = meta["head"]
        head = cls._head_from_spec(spec, folder)
        backbone = Backbone.load(str(folder), dtype=dtype)
        pool_layers = meta.get("pool_layers", meta["training_config"].get("pool_layers"))
        width = backbone.hidden_size * len(pool_layers or [None])
        if spec["input_size"] != width:
            raise MismatchError(
                f"{folder / CLASSIFIER_FILE}: head input size {spec['input_size']} does not match "
                f"the backbone's hidden size {backbone.hidden_size} x {len(pool_layers or [None])} "
                "pooled layer(s)"
            )
        _load_head_weights(head, folder / HEAD_FILE, spec)
        mode = "full" if meta["mode"] == "lora" else meta["mode"]
        config = TrainingConfig.from_dict(
            {**meta["training_config"], "mode": mode, "pool_layers": pool_layers},
            source=str(folder / CLASSIFIER_FILE),
        )
        clf = cls(
            backbone,
            head.to(device=backbone.device, dtype=backbone.dtype),
            config,
            meta["label_names"],
            meta["pooling"],
        )
        clf.dev_metrics = meta.get("dev_metrics", {})
        clf.history = meta.get("history", [])
        clf.run_info = meta.get("run", {})
        return clf.eval()

    @classmethod
    def _head_from_spec(cls, spec: dict[str, Any], folder: Path) -> nn.Module:
        """An untrained head of the shape a checkpoint's ``head`` entry describes."""
        return build_head(
            spec["type"],
            spec["input_size"],
            spec["num_labels"],
            spec["hidden_size"],
            spec["dropout"],
        )

    def check_labels(self, expected: Sequence[str] = LABEL_NAMES) -> None:
        """Raise :class:`MismatchError` unless this classifier predicts ``expected`` labels."""
        if tuple(expected) != self.label_names:
            raise MismatchError(
                f"this classifier predicts labels {list(self.label_names)}, but the data uses "
                f"{list(expected)}"
            )


def check_pool_layers(layers: Sequence[int] | None, num_layers: int) -> list[int] | None:
    """``layers`` as a list, after checking each index is in ``0..num_layers`` (0 =
    embeddings, ``num_layers`` = last); ``None`` stays ``None`` (the last layer alone)."""
    if layers is None:
        return None
    bad = [i for i in layers if not 0 <= int(i) <= num_layers]
    if bad or not layers:
        raise ConfigError(
            f"pool_layers {list(layers)}: every layer must be in 0..{num_layers} (0 = embeddings, "
            f"{num_layers} = the last of this backbone's layers)"
        )
    return [int(i) for i in layers]


def _freeze_unused_pooler(encoder: nn.Module) -> None:
    """Freeze a BERT/MPNet ``pooler`` (dense + tanh on [CLS]): the head reads the pooled token
    states instead, so it gets no gradient (and multi-process DDP would stop on it)."""
    pooler = getattr(encoder, "pooler", None)
    if pooler is None:
        base = getattr(encoder, "get_base_model", lambda: None)()
        pooler = getattr(base, "pooler", None)
    if isinstance(pooler, nn.Module):
        pooler.requires_grad_(False)


def read_classifier_meta(folder: Path) -> dict[str, Any]:
    """Read and check ``hateproto_classifier.json`` of a checkpoint folder."""
    path = folder / CLASSIFIER_FILE
    if not folder.is_dir():
        raise ModelError(f"checkpoint folder not found: {folder}")
    if not path.is_file():
        raise ModelError(
            f"{folder} is not a HateClassifier checkpoint: {CLASSIFIER_FILE} is missing"
        )
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from None
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(f"{path}: format version {version!r}, expected {FORMAT_VERSION}")
    required = ("head", "label_names", "pooling", "mode", "training_config")
    missing = [k for k in required if k not in meta]
    if missing:
        raise ModelError(f"{path} lacks the key(s) {missing}")
    if len(meta["label_names"]) != meta["head"].get("num_labels"):
        raise MismatchError(
            f"{path}: {len(meta['label_names'])} label names {meta['label_names']} but the head "
            f"has {meta['head'].get('num_labels')} outputs"
        )
    return meta


def _load_head_weights(head: nn.Module, path: Path, spec: dict[str, Any]) -> None:
    if not path.is_file():
        raise ModelError(f"head weights not found: {path}")
    state = load_file(str(path))
    expected = {k: tuple(v.shape) for k, v in head.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        raise MismatchError(
            f"{path} does not hold a {spec['type']} head of the sizes in {CLASSIFIER_FILE}: "
            f"expected tensors {expected}, found {found}"
        )
    head.load_state_dict(state)


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False))
