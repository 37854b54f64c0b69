"""Classification metrics, all computed with scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, f1_score


def classification_metrics(
    y_true: Sequence[int], y_pred: Sequence[int], hate_scores: Sequence[float] | None = None
) -> dict[str, float]:
    """Accuracy, macro-F1, binary F1 (hate class) and, given scores, PR-AUC (average precision).

    Example:
        >>> classification_metrics([0, 1, 1, 0], [0, 1, 0, 0])["accuracy"]
        0.75
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    result = {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, average="macro", labels=[0, 1], zero_division=0)
        ),
        "binary_f1": float(f1_score(y_true, y_pred, pos_label=1, zero_division=0)),
    }
    if hate_scores is not None:
        both = len(np.unique(y_true)) == 2
        result["pr_auc"] = (
            float(average_precision_score(y_true, hate_scores)) if both else float("nan")
        )
    return result
