"""Load what early exit needs from folders: prototypes, their model, and its head.

Example:
    >>> protos, head = load_prototypes_and_head("protos/ihc")            # doctest: +SKIP
    >>> clf = EarlyExitClassifier.from_prototypes(protos, 0.05, head=head)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from hateproto.early_exit.scorers import HeadScorer
from hateproto.prototypes.classifier import PrototypeClassifier
from hateproto.training.loading import is_classifier_checkpoint, load_model

__all__ = ["is_classifier_checkpoint", "load_prototypes_and_head"]


def load_prototypes_and_head(
    prototypes_dir: str | Path,
    model: str | None = None,
    dtype: str = "auto",
    device: str | None = None,
) -> tuple[PrototypeClassifier, HeadScorer | None]:
    """Prototypes from ``prototypes_dir`` on ``model`` (default: the model they record), and,
    when that model is a fine-tuned classifier checkpoint, its head as the full-model
    fallback (else ``None``: the last layer's prototypes decide). ``device``: where the model
    runs (default ``$HATEPROTO_DEVICE`` or ``auto``)."""
    from hateproto.prototypes.files import read_spec

    reference = model or read_spec(Path(prototypes_dir)).backbone
    backbone, classifier = load_model(reference, dtype, device)
    protos = PrototypeClassifier.from_pretrained(prototypes_dir, backbone=backbone)
    return protos, None if classifier is None else HeadScorer.from_classifier(classifier)
