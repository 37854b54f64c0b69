"""Fine-tuning: hate classifiers and specialised embedding models.

* :class:`TrainingConfig` (YAML-loadable) with the ``classifier`` (HatePrototypes) and
  ``embedding`` (embedding paper) presets;
* :class:`HateClassifier`: Backbone + pooling + ``linear``/``mlp`` head (+ LoRA), a
  scikit-learn-style estimator: ``HateClassifier(config, dev=dev).fit(X, y)``, ``predict``,
  ``predict_proba``, ``save_pretrained``, ``from_pretrained``;
* :class:`Trainer`: the training loop (class-weighted CE, AdamW + warmup, bf16, dev selection);
* :mod:`~hateproto.training.registry`: classifier types other packages add (fusion);
* :mod:`~hateproto.training.checkpoint`: the checkpoint folder.

Example:
    >>> from hateproto.training import HateClassifier, TrainingConfig
    >>> clf = HateClassifier(TrainingConfig(backbone="minilm"), dev=dev)     # doctest: +SKIP
    >>> clf.fit(train.texts, train.labels).save_pretrained("checkpoints/ihc")  # doctest: +SKIP
"""

from hateproto.training.classifier import HateClassifier, read_classifier_meta
from hateproto.training.config import EMBEDDING_PREFIX, DataConfig, TrainingConfig
from hateproto.training.data import load_training_data, stratified_subsample
from hateproto.training.evaluate import evaluate_classifier
from hateproto.training.heads import HEAD_TYPES, LinearHead, MLPHead, build_head
from hateproto.training.lora import apply_lora, lora_target_modules
from hateproto.training.trainer import Trainer, TrainResult, balanced_class_weights

__all__ = [
    "EMBEDDING_PREFIX",
    "HEAD_TYPES",
    "DataConfig",
    "HateClassifier",
    "LinearHead",
    "MLPHead",
    "TrainResult",
    "Trainer",
    "TrainingConfig",
    "apply_lora",
    "balanced_class_weights",
    "build_head",
    "evaluate_classifier",
    "load_training_data",
    "lora_target_modules",
    "read_classifier_meta",
    "stratified_subsample",
]
