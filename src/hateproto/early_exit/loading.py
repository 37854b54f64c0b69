"""Load what early exit needs from folders: prototypes, their model, and its head.

Example:
    >>> protos, head = load_prototypes_and_head("protos/ihc")            # doctest: +SKIP
    >>> clf = EarlyExitClassifier.from_prototypes(protos, 0.05, head=head)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from hateproto.early_exit.scorers import HeadScorer
from hateproto.models.backbone import Backbone
from hateproto.models.device import place
from hateproto.prototypes.classifier import PrototypeClassifier
from hateproto.training.classifier import CLASSIFIER_FILE

__all__ = ["CLASSIFIER_FILE", "is_classifier_checkpoint", "load_prototypes_and_head"]


def is_classifier_checkpoint(reference: str | Path) -> bool:
    """Whether ``reference`` is a fine-tuned classifier checkpoint folder (it holds
    ``hateproto_classifier.json``, so it has a classification head)."""
    path = Path(str(reference)).expanduser()
    return path.is_dir() and (path / CLASSIFIER_FILE).is_file()


def load_prototypes_and_head(
    prototypes_dir: str | Path,
    model: str | None = None,
    dtype: str = "float32",
    device: str | None = None,
) -> tuple[PrototypeClassifier, HeadScorer | None]:
    """Prototypes from ``prototypes_dir`` on ``model`` (default: the model they record), and,
    when that model is a fine-tuned classifier checkpoint, its head as the full-model
    fallback (else ``None``: the last layer's prototypes decide). ``device``: where the model
    runs (default ``$HATEPROTO_DEVICE`` or ``auto``)."""
    from hateproto.prototypes.files import read_spec

    reference = model or read_spec(Path(prototypes_dir)).backbone
    if is_classifier_checkpoint(reference):
        from hateproto.training import HateClassifier

        classifier = place(HateClassifier.from_pretrained(reference, dtype=dtype), device)
        protos = PrototypeClassifier.from_pretrained(prototypes_dir, backbone=classifier.backbone)
        return protos, HeadScorer.from_classifier(classifier)
    backbone = Backbone.load(reference, dtype=dtype, device=device)
    return PrototypeClassifier.from_pretrained(prototypes_dir, backbone=backbone), None
