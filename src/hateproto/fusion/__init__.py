"""Context and emotion fusion baselines on top of a fine-tuned encoder.

* :class:`FusionHead`: ``concat``, ``adaptive`` (softmax gates) or ``attention`` fusion of the
  pooled text vector, the pooled generated context and an emotion vector;
* :class:`FusionConfig`: the ``fusion`` section of a
  :class:`~hateproto.training.TrainingConfig`;
* :class:`FusionClassifier`: a :class:`~hateproto.training.HateClassifier` with a fusion head,
  trained by the same :class:`~hateproto.training.Trainer` and saved in the same checkpoint
  format (``HateClassifier.from_pretrained`` returns a FusionClassifier for such folders).

Importing :mod:`hateproto.fusion.classifier` registers the ``fusion`` head type and config
section with :mod:`hateproto.training.registry`; training itself never imports fusion.

Example:
    >>> from hateproto.training import HateClassifier, TrainingConfig
    >>> cfg = TrainingConfig(backbone="minilm", fusion={"method": "adaptive"})  # doctest: +SKIP
    >>> clf = HateClassifier.from_config(cfg).fit(train.texts, train.labels)   # doctest: +SKIP
"""

from hateproto.fusion.classifier import FusionClassifier
from hateproto.fusion.config import FusionConfig
from hateproto.fusion.heads import FUSION_METHODS, FusionHead

__all__ = ["FUSION_METHODS", "FusionClassifier", "FusionConfig", "FusionHead"]
