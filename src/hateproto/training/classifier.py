"""HateClassifier: a hateproto Backbone, a pooling, a head and optionally a LoRA adapter.

A scikit-learn-style estimator whose one hyper-parameter object is a :class:`TrainingConfig`
(plus the dev set that picks the epoch, and a log file); its checkpoint folder is described in
:mod:`hateproto.training.checkpoint`.

Example:
    >>> clf = HateClassifier(TrainingConfig(backbone="minilm"), dev=dev)     # doctest: +SKIP
    >>> clf.fit(train.texts, train.labels).predict(["some post"])            # doctest: +SKIP
    >>> clf.save_pretrained("out/ihc"); HateClassifier.from_pretrained("out/ihc")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from torch import nn
from torch.nn import functional as F

from hateproto.data import LABEL_NAMES, LabeledTexts
from hateproto.errors import ConfigError, HateprotoError, MismatchError
from hateproto.models.backbone import Backbone
from hateproto.models.pooling import pool
from hateproto.prototypes.estimator import (
    GivenParams,
    ResolvedParam,
    keep_params,
    labeled_texts,
    warn_deprecated,
)
from hateproto.training.building import build_model, check_pool_layers, freeze_unused_pooler
from hateproto.training.checkpoint import (
    CLASSIFIER_FILE,
    FORMAT_VERSION,
    HEAD_FILE,
    base_model_reference,
    check_head_width,
    config_of,
    load_head_weights,
    read_classifier_meta,
    write_checkpoint,
)
from hateproto.training.config import TrainingConfig
from hateproto.training.heads import build_head
from hateproto.training.registry import classifier_type, section_classifier
from hateproto.training.trainer import Trainer

__all__ = [
    "CLASSIFIER_FILE",
    "FORMAT_VERSION",
    "HEAD_FILE",
    "HateClassifier",
    "check_pool_layers",
    "read_classifier_meta",
]

_UNSET: Any = object()


class HateClassifier(GivenParams, ClassifierMixin, BaseEstimator, nn.Module):
    """Fine-tunable hate speech classifier over any hateproto :class:`Backbone`.

    A scikit-learn estimator (``fit(X, y)``, ``predict``, ``predict_proba``, ``score``,
    ``get_params`` / ``set_params``, ``clone``, ``check_is_fitted``) and a torch module.
    ``fit`` builds the model from ``config`` if it is not built yet (loads the backbone, a
    fresh head, LoRA), then trains it; :meth:`from_config` builds without training, and
    :meth:`from_pretrained` loads a trained one. ``backbone.info.prefix`` is prepended to every
    text, so prototypes and early exit built on ``Backbone.load(checkpoint)`` see what the
    classifier saw.

    Args:
        config: the model and training settings (default: ``TrainingConfig()``).
        dev: the dev set that picks the kept epoch: a :class:`LabeledTexts` or
            ``(texts, labels)``; without one the last epoch is kept.
        log_path: a log file for the training run.

    ``fit(train, dev)`` with :class:`LabeledTexts` still works for one release, with a
    :class:`DeprecationWarning`.

    Attributes:
        backbone: the hateproto Backbone (its ``model`` is this module's ``encoder``).
        head: the classification head (``linear`` or ``mlp``).
        pooling: how token states become one vector; pool_layers: the pooled layers (or
            ``None``: the last one).
        label_names: one name per output column (``not_hate``, ``hate``).
        classes_: ``[0, 1]`` once trained (or loaded).
        dev_metrics: metrics of the kept epoch on the dev set (after :meth:`fit`).
        history: per-epoch training records; run_info: free-form facts saved with it.

    Example:
        >>> clf = HateClassifier(TrainingConfig(backbone="minilm", epochs=1))  # doctest: +SKIP
        >>> clf.fit(["they are vermin", "welcome"], [1, 0]).predict(["hi"])   # doctest: +SKIP
    """

    config = ResolvedParam(
        lambda self, given: given if given is not None else self._default_config(),
        "The config given, else the default ``TrainingConfig()``.",
    )

    def __init__(
        self,
        config: TrainingConfig | None = None,
        dev: LabeledTexts | tuple[Sequence[str], Sequence[int]] | None = None,
        log_path: str | Path | None = None,
    ) -> None:
        nn.Module.__init__(self)
        keep_params(self, locals())
        self.dev_metrics: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        self.run_info: dict[str, Any] = {}

    def _default_config(self) -> TrainingConfig:
        return self.__dict__.setdefault("_default_config_value", TrainingConfig())

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once trained by :meth:`fit` or loaded by :meth:`from_pretrained`."""
        return "classes_" in self.__dict__

    @property
    def is_built(self) -> bool:
        """Whether the backbone and head exist (built by :meth:`from_config`, fit or load)."""
        return "head" in self._modules

    def _attach(
        self,
        backbone: Backbone,
        head: nn.Module,
        label_names: Sequence[str] = LABEL_NAMES,
        pooling: str | None = None,
    ) -> HateClassifier:
        """Take ``backbone`` and ``head`` as this classifier's model."""
        config = self.config
        self.backbone = backbone
        self.encoder = backbone.model
        self.head = head
        self.label_names = tuple(label_names)
        self.pooling = pooling or config.resolved_pooling(backbone.info.default_pooling)
        self.pool_layers = check_pool_layers(config.pool_layers, backbone.num_layers)
        if config.mode == "probe":
            self.encoder.requires_grad_(False)
        freeze_unused_pooler(self.encoder)
        return self

    # ------------------------------------------------------------------ building
    @classmethod
    def from_config(cls, config: TrainingConfig) -> HateClassifier:
        """Load the backbone and build a freshly initialised head (and LoRA adapter)."""
        extension = section_classifier(config) if cls is HateClassifier else None
        if extension is not None:  # e.g. a FusionClassifier for a `fusion` section
            return extension.from_config(config)
        clf = cls(config)
        clf._build()
        return clf

    def _build(self) -> None:
        """Load the backbone of ``config`` and build a fresh head (and LoRA adapter)."""
        config = self.config
        extension = section_classifier(config)
        if extension is not None and not isinstance(self, extension):
            raise ConfigError(
                f"this config has a section for {extension.__name__}: use {extension.__name__}"
                "(config) or HateClassifier.from_config(config)"
            )
        backbone, head, pooling = build_model(config)
        self._attach(backbone, head, LABEL_NAMES, pooling)

    def train(self, mode: bool = True) -> HateClassifier:
        """Set training mode; in ``probe`` mode the frozen encoder always stays in eval mode."""
        super().train(mode)
        if self.config.mode == "probe" and "encoder" in self._modules:
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
        if not self.is_built:
            raise HateprotoError(
                "this HateClassifier has no model yet: call fit(X, y) (or use from_config / "
                "from_pretrained)"
            )
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
        X: Sequence[str] | LabeledTexts,  # noqa: N803 - the scikit-learn name
        y: Sequence[int] | np.ndarray | LabeledTexts | None = None,
        dev: LabeledTexts | None = _UNSET,
        log_path: str | Path | None = None,
    ) -> HateClassifier:
        """Train on texts ``X`` with labels ``y``; keep the epoch best on ``dev`` (if set).

        The old form ``fit(train, dev)`` with :class:`LabeledTexts` warns and still works.
        """
        if isinstance(X, LabeledTexts):
            warn_deprecated(
                "HateClassifier.fit(train, dev) with LabeledTexts",
                "HateClassifier(config, dev=dev).fit(train.texts, train.labels)",
            )
            train, dev_set = X, (y if dev is _UNSET else dev)
        else:
            if y is None:
                raise HateprotoError("fit(X, y) needs the labels y")
            train = labeled_texts(X, y, name="fit")
            dev_set = _dev_set(self.dev if dev is _UNSET else dev)
        if not self.is_built:
            self._build()
        Trainer(self.config, log_path=log_path or self.log_path).fit(self, train, dev_set)
        self.classes_ = np.arange(len(self.label_names))
        return self

    # ------------------------------------------------------------------ saving
    def base_model_reference(self) -> str:
        """The base model as given in the config (absolute path if it is a local path)."""
        return base_model_reference(self.config.backbone)

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write the checkpoint folder atomically (:func:`hateproto.outputs.replace_folder`:
        written beside it, then swapped in; the old checkpoint or the new one, never a mix)."""
        from hateproto.outputs import replace_folder

        def write(staging: Path) -> None:
            staging.mkdir()
            write_checkpoint(self, staging)

        return replace_folder(folder, write)

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
        check_head_width(meta, backbone, folder)
        load_head_weights(head, folder / HEAD_FILE, spec)
        clf = cls(config_of(meta, folder))
        head = head.to(device=backbone.device, dtype=backbone.dtype)
        clf._attach(backbone, head, meta["label_names"], meta["pooling"])
        clf.dev_metrics = meta.get("dev_metrics", {})
        clf.history = meta.get("history", [])
        clf.run_info = meta.get("run", {})
        clf.classes_ = np.arange(len(clf.label_names))
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


def _dev_set(dev: Any) -> LabeledTexts | None:
    """The ``dev`` parameter as a :class:`LabeledTexts` (``(texts, labels)`` accepted)."""
    if dev is None or isinstance(dev, LabeledTexts):
        return dev
    texts, labels = dev
    return labeled_texts(texts, labels, name="dev")
