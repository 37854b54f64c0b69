"""FusionClassifier: a HateClassifier whose head fuses text, generated context and emotions.

The encoder pools the post and, separately, its LLM-generated context (same encoder, same
pooling); an emotion featurizer gives a vector per post; a :class:`FusionHead` turns the three
into logits. Contexts and emotions are derived from the texts (contexts through the on-disk
cache of :class:`~hateproto.context.ContextGenerator`), so the classifier keeps the
``HateClassifier`` interface: texts in, probabilities out.

"Pooled" vectors of a FusionClassifier are the concatenated features ``[text; context;
emotion]`` ``[N, 2H + E]``: :meth:`encode` returns them and :meth:`logits_from_pooled` takes
them, so the trainer's evaluation and ``probe`` mode (features cached once) work unchanged.

Checkpoints use the HateClassifier format; ``hateproto_classifier.json`` holds the fusion head
spec (``"type": "fusion"``) and the training config with its ``fusion`` section (context
prompt, emotion featurizer), so :meth:`HateClassifier.from_pretrained` rebuilds everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from hateproto.context import ContextGenerator
from hateproto.data import LABEL_NAMES, LabeledTexts
from hateproto.errors import ConfigError, MismatchError
from hateproto.features.emotion import EmotionFeatures, load_emotion_features
from hateproto.fusion.config import FusionConfig
from hateproto.fusion.heads import FusionHead
from hateproto.models.backbone import Backbone
from hateproto.models.pooling import pool
from hateproto.training.batching import BucketBatchSampler, ListDataset, feature_loader
from hateproto.training.classifier import (
    CLASSIFIER_FILE,
    HateClassifier,
)
from hateproto.training.config import TrainingConfig
from hateproto.training.registry import register_classifier_type

EMPTY_CONTEXT = "no explanation"
"""Encoded in place of a context the LM left empty (encoders reject empty texts)."""


class FusionClassifier(HateClassifier):
    """Text + context + emotion classifier; see the module docstring.

    Build one with ``HateClassifier.from_config(TrainingConfig(..., fusion=FusionConfig(...)))``
    (or :meth:`from_config`), or give the config to ``FusionClassifier(config, dev=dev)``;
    train it with ``fit(texts, labels)`` / :class:`~hateproto.training.Trainer`.

    Attributes:
        contexts: the cached context generator (its LM is loaded only for missing contexts).
        emotion: the emotion featurizer.
    """

    def _attach(
        self,
        backbone: Backbone,
        head: torch.nn.Module,
        label_names: Sequence[str] = LABEL_NAMES,
        pooling: str | None = None,
        emotion: EmotionFeatures | None = None,
        contexts: ContextGenerator | None = None,
    ) -> FusionClassifier:
        """Take ``backbone`` and the fusion ``head`` (and the emotion / context sources)."""
        fusion = _fusion(self.config)
        if self.config.pool_layers is not None:
            raise ConfigError("a FusionClassifier pools the last layer: leave pool_layers unset")
        super()._attach(backbone, head, label_names, pooling)
        self.emotion = emotion or load_emotion_features(fusion.emotion)
        self.contexts = contexts or ContextGenerator(fusion.context)
        if self.emotion.dim != head.emotion_size:
            raise MismatchError(
                f"emotion features have {self.emotion.dim} values, the fusion head expects "
                f"{head.emotion_size}"
            )
        return self

    # ------------------------------------------------------------------ building
    @classmethod
    def from_config(cls, config: TrainingConfig) -> FusionClassifier:
        """Load the backbone (as HateClassifier does) and build a fresh fusion head."""
        clf = cls(config)
        clf._build()
        return clf

    def _build(self) -> None:
        """Build the base classifier's backbone and a fresh fusion head on it."""
        fusion = _fusion(self.config)
        base = HateClassifier.from_config(self.config.model_copy(update={"fusion": None}))
        emotion = load_emotion_features(fusion.emotion)
        head = FusionHead(
            fusion.method,
            base.backbone.hidden_size,
            emotion.dim,
            hidden_size=fusion.hidden_size,
            num_labels=len(LABEL_NAMES),
            dropout=self.config.dropout,
            attention_heads=fusion.attention_heads,
        )
        head = head.to(base.backbone.dtype)
        self._attach(base.backbone, head, LABEL_NAMES, base.pooling, emotion=emotion)

    @classmethod
    def _head_from_spec(cls, spec: dict[str, Any], folder: Path) -> torch.nn.Module:
        """The fusion head a checkpoint describes; any other head type is a mismatch."""
        if spec.get("type") != "fusion":
            raise MismatchError(f"{folder / CLASSIFIER_FILE}: not a fusion classifier")
        return FusionHead.from_spec(spec)

    @property
    def feature_size(self) -> int:
        """Width of the concatenated features ``2H + E``."""
        return 2 * self.backbone.hidden_size + self.emotion.dim

    # ------------------------------------------------------------------ side inputs
    def context_texts(self, texts: Sequence[str], show_progress: bool = False) -> list[str]:
        """The generated context of every text (from the cache, generating missing ones)."""
        contexts = self.contexts.generate(texts, show_progress=show_progress)
        self.contexts.release()
        return [c if c.strip() else EMPTY_CONTEXT for c in contexts]

    def emotion_vectors(self, texts: Sequence[str]) -> torch.Tensor:
        """Emotion vectors ``[N, E]`` (float32)."""
        return torch.from_numpy(np.asarray(self.emotion.transform(list(texts)), np.float32))

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        pooled: torch.Tensor | None = None,
        context_input_ids: torch.Tensor | None = None,
        context_attention_mask: torch.Tensor | None = None,
        emotion: torch.Tensor | None = None,
        **_: Any,
    ) -> torch.Tensor:
        """Logits ``[B, 2]`` from token ids of texts and contexts plus emotion vectors, or from
        already concatenated features ``pooled`` ``[B, 2H + E]``."""
        if pooled is not None:
            return self.logits_from_pooled(pooled)
        if input_ids is None or context_input_ids is None or emotion is None:
            raise ConfigError("a fusion forward pass needs text and context token ids + emotion")
        text = self._pool(input_ids, attention_mask)
        context = self._pool(context_input_ids, context_attention_mask)
        weight = next(self.head.parameters())
        return self.head(text.to(weight.dtype), context.to(weight.dtype), emotion.to(weight))

    def _pool(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        extra = {"use_cache": False} if self.backbone.family == "decoder" else {}
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra)
        return pool(out.last_hidden_state, attention_mask, self.pooling)

    def logits_from_pooled(self, pooled: torch.Tensor) -> torch.Tensor:
        """Head logits ``[B, 2]`` for concatenated ``[text; context; emotion]`` features."""
        weight = next(self.head.parameters())
        if pooled.is_inference() and torch.is_grad_enabled():
            pooled = pooled.clone()
        return self.head.forward_features(pooled.to(weight.device, weight.dtype))

    def encode(
        self, texts: Sequence[str], cache: bool = False, show_progress: bool = False
    ) -> torch.Tensor:
        """Fusion features ``[N, 2H + E]``: pooled text, pooled context, emotion vector."""
        contexts = self.context_texts(texts, show_progress=show_progress)
        text = super().encode(texts, cache=cache, show_progress=show_progress)
        context = self._encode_contexts(contexts, cache, show_progress)
        return torch.cat([text, context, self.emotion_vectors(texts)], dim=1)

    def _encode_contexts(
        self, contexts: list[str], cache: bool, show_progress: bool
    ) -> torch.Tensor:
        with self._autocast():
            vectors = self.backbone.encode(
                contexts,
                layers="last",
                pooling=self.pooling,
                batch_size=self.config.eval_batch_size,
                max_length=_fusion(self.config).context_max_length,
                show_progress=show_progress,
                cache=cache,
            )
        return vectors[:, 0]

    # ------------------------------------------------------------------ training data
    def training_loader(self, data: LabeledTexts, config: TrainingConfig, show: bool) -> Any:
        """Batches for the trainer: cached features in ``probe`` mode, else token batches of
        texts and contexts (padded separately, length-bucketed) with emotion vectors."""
        if config.mode == "probe":
            features = self.encode(data.texts, cache=True, show_progress=show)
            return feature_loader(features, data.labels, config.batch_size, config.seed)
        contexts = self.context_texts(data.texts, show_progress=show)
        text_ids = self.backbone.tokenize(data.texts, max_length=config.max_length)
        context_ids = self.backbone.tokenize(
            contexts, max_length=_fusion(config).context_max_length
        )
        emotions = self.emotion_vectors(data.texts)
        items = list(zip(text_ids, context_ids, emotions, strict=True))
        sampler = BucketBatchSampler(
            [len(t) + len(c) for t, c in zip(text_ids, context_ids, strict=True)],
            config.batch_size,
            config.bucket_size,
            config.seed,
        )
        return DataLoader(
            ListDataset(items, data.labels), batch_sampler=sampler, collate_fn=self._collate
        )

    def _collate(self, items: list[tuple[tuple[Any, Any, torch.Tensor], int]]) -> dict:
        text = self.backbone.pad([t for (t, _, _), _ in items])
        context = self.backbone.pad([c for (_, c, _), _ in items])
        return {
            "input_ids": text["input_ids"],
            "attention_mask": text["attention_mask"],
            "context_input_ids": context["input_ids"],
            "context_attention_mask": context["attention_mask"],
            "emotion": torch.stack([e for (_, _, e), _ in items]),
            "labels": torch.tensor([label for _, label in items], dtype=torch.long),
        }


def _fusion(config: TrainingConfig) -> FusionConfig:
    if config.fusion is None:
        raise ConfigError("a FusionClassifier needs a TrainingConfig with a 'fusion' section")
    return config.fusion


register_classifier_type("fusion", FusionClassifier, FusionConfig)
