"""Score a :class:`HateClassifier` on labelled test sets (metrics from scikit-learn)."""

from __future__ import annotations

import time
from typing import Any

from hateproto.data import LABEL_NAMES, LabeledTexts
from hateproto.evaluation import classification_metrics
from hateproto.training.classifier import HateClassifier
from hateproto.training.data import check_training_data


def evaluate_classifier(
    clf: HateClassifier, data: LabeledTexts, show_progress: bool = False
) -> dict[str, Any]:
    """Accuracy, macro-F1, binary F1 (hate) and PR-AUC of ``clf`` on ``data``.

    Returns a flat row with ``dataset``, ``split``, ``n``, the metrics and ``seconds``.

    Example:
        >>> evaluate_classifier(clf, load_benchmark("olid", "test"))["macro_f1"]  # doctest: +SKIP
        0.78
    """
    check_training_data(data, role="test")
    clf.check_labels(LABEL_NAMES)
    start = time.perf_counter()
    proba = clf.predict_proba(data.texts, show_progress=show_progress)
    metrics = classification_metrics(data.labels, proba.argmax(axis=1), proba[:, 1])
    return {
        "dataset": data.name,
        "split": data.split,
        **metrics,
        "seconds": time.perf_counter() - start,
    }
