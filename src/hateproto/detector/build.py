"""Build a detector from a model and labelled examples (``hateproto detector build``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hateproto.data.types import LabeledTexts
from hateproto.detector.detector import Detector
from hateproto.detector.settings import DetectorSettings
from hateproto.errors import HateprotoError
from hateproto.evaluation import classification_metrics
from hateproto.models.backbone import Backbone
from hateproto.prototypes import PrototypeClassifier


def build_detector(
    model: str,
    train: LabeledTexts,
    per_class: int | None = 50,
    seed: int = 0,
    dev: LabeledTexts | None = None,
    layers: Sequence[int] | str = "all",
    decision_layer: int | str | None = "auto",
    settings: DetectorSettings | None = None,
    show_progress: bool = False,
) -> Detector:
    """Prototypes from ``per_class`` random training examples of each class → a detector.

    Args:
        model: alias, folder, hub id or fine-tuned checkpoint folder.
        train: labelled examples to draw the prototype examples from.
        per_class: examples per class (``None``: all of ``train``).
        dev: labelled examples to choose the decision layer on (macro-F1), if
            ``decision_layer="auto"``; without it the last layer decides.
        layers: layers to keep prototypes for ("all": every layer, so ``explain`` and early
            exit can use them).
        decision_layer: a layer number, ``"auto"`` (best dev macro-F1) or ``None`` (last).

    Example:
        >>> train = load_benchmark("ihc", "train", "hateprototypes")          # doctest: +SKIP
        >>> build_detector("minilm", train, per_class=50).save_pretrained("det")  # doctest: +SKIP
    """
    settings = settings or DetectorSettings()
    backbone = Backbone.load(model, dtype=settings.dtype)
    clf = PrototypeClassifier(
        backbone, layers=layers, batch_size=settings.batch_size, max_length=settings.max_length
    )
    clf.fit_data(train, per_class=per_class, seed=seed, show_progress=show_progress)
    metadata: dict[str, object] = {
        "built_from": {
            "dataset": train.name,
            "protocol": train.protocol,
            "split": train.split,
            "per_class": per_class,
            "seed": seed,
            "examples": sum(clf.n_per_class_.values()),
        }
    }
    chosen = _choose_layer(clf, decision_layer, dev, metadata, show_progress)
    clf.default_layer = chosen
    settings = settings.model_copy(update={"decision_layer": chosen})
    return Detector(backbone, clf, settings=settings, metadata=metadata, model_reference=model)


def _choose_layer(
    clf: PrototypeClassifier,
    decision_layer: int | str | None,
    dev: LabeledTexts | None,
    metadata: dict[str, object],
    show_progress: bool,
) -> int:
    """The decision layer: given, last, or the best dev macro-F1 (recorded in ``metadata``)."""
    if decision_layer is None or (decision_layer == "auto" and dev is None):
        return clf.layers[-1]
    if decision_layer != "auto":
        return clf.layers[clf.layer_position(int(decision_layer))]
    sims = clf.similarities_from_vectors(clf.encode(dev.texts, show_progress=show_progress))
    preds = clf.classes_[sims.argmax(-1).numpy()]
    f1 = [classification_metrics(dev.labels, preds[:, i])["macro_f1"] for i in range(sims.shape[1])]
    if not f1:
        raise HateprotoError("no prototype layers to choose from")
    best = int(np.argmax(f1))
    metadata["layer_selection"] = {
        "dataset": dev.name,
        "split": dev.split,
        "metric": "macro_f1",
        "per_layer": {str(layer): round(v, 4) for layer, v in zip(clf.layers, f1, strict=True)},
        "chosen": clf.layers[best],
    }
    return clf.layers[best]
