"""The one way to load a model reference: a backbone, or a fine-tuned classifier with its
backbone. Detectors (:mod:`hateproto.detector.loading`), early exit
(:mod:`hateproto.early_exit.loading`) and detector builds all call :func:`load_model`.

Example:
    >>> backbone, classifier = load_model("minilm")          # doctest: +SKIP
    >>> classifier is None                                   # doctest: +SKIP
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hateproto.dtypes import resolve_dtype
from hateproto.errors import ModelError
from hateproto.models.backbone import Backbone
from hateproto.models.cpu_attention import use_cpu_attention
from hateproto.models.device import place, resolve_device
from hateproto.models.quantization import check_cpu
from hateproto.training.classifier import CLASSIFIER_FILE

__all__ = ["check_int8_device", "is_classifier_checkpoint", "load_model"]


def is_classifier_checkpoint(reference: str | Path) -> bool:
    """Whether ``reference`` is a fine-tuned classifier checkpoint folder (it holds
    ``hateproto_classifier.json``, so it has a classification head)."""
    path = Path(str(reference)).expanduser()
    return path.is_dir() and (path / CLASSIFIER_FILE).is_file()


def load_model(
    reference: str | Path,
    dtype: str = "auto",
    device: str | None = None,
    with_head: bool | None = None,
) -> tuple[Backbone, Any | None]:
    """``(backbone, classifier)`` for ``reference`` on ``device`` (default
    ``$HATEPROTO_DEVICE`` or ``auto``), in ``dtype`` (:mod:`hateproto.dtypes`).

    ``with_head``: ``None`` loads the classifier when ``reference`` is a classifier
    checkpoint (else ``classifier`` is ``None``); ``True`` requires one; ``False`` loads the
    backbone only. On the CPU, short texts take plain-product attention
    (:mod:`hateproto.models.cpu_attention`); ``int8`` quantises the linear layers
    (:mod:`hateproto.models.quantization`, CPU only).
    """
    reference = str(reference)
    concrete = resolve_dtype(dtype)
    is_checkpoint = is_classifier_checkpoint(reference)
    if with_head and not is_checkpoint:
        raise ModelError(
            f"{reference} has no classification head (hateproto_classifier.json); give "
            "prototypes too (--prototypes DIR) or use a fine-tuned classifier checkpoint"
        )
    if concrete == "int8":
        check_int8_device(device)
    if is_checkpoint and with_head is not False:
        from hateproto.training.classifier import HateClassifier

        path = str(Path(reference).expanduser())
        classifier = place(HateClassifier.from_pretrained(path, dtype=concrete), device)
        backbone: Backbone = classifier.backbone
    else:
        backbone, classifier = Backbone.load(reference, dtype=concrete, device=device), None
    if backbone.device.type == "cpu":
        use_cpu_attention(backbone.model)
    return backbone, classifier


def check_int8_device(device: str | None) -> None:
    """Refuse int8 (a CPU path) before anything is loaded when ``device`` is a GPU."""
    check_cpu(resolve_device(device))
