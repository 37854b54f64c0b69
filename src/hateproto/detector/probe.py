"""The general recipe's probe heads, fitted on stored features of a frozen model: a logistic
regression (:func:`fit_probe`, copied exactly into a linear head by
:func:`load_probe_weights`) or a two-layer head (:func:`fit_mlp_probe`), with the directions
of group identity projected out of the features and folded into the head's weights.
``recipe`` arguments are a :class:`~hateproto.detector.recipe.GeneralRecipe` (its
``probe_hidden``, ``probe_epochs`` and ``seed``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hateproto.data.types import LabeledTexts
from hateproto.evaluation import classification_metrics
from hateproto.training import HateClassifier
from hateproto.training.consistency import project_out
from hateproto.training.feature_head import fit_head_on_features
from hateproto.training.features import FeatureStore
from hateproto.training.heads import build_head

__all__ = [
    "fit_mlp_head",
    "fit_mlp_probe",
    "fit_probe",
    "load_probe_weights",
    "probe_features",
    "project_out_in_place",
]


def probe_features(
    store: FeatureStore,
    train: LabeledTexts,
    dev: LabeledTexts,
    basis: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stored features of the training and dev texts, with the directions ``basis`` (if any)
    projected out."""
    x_train, x_dev = store.vectors(train.texts), store.vectors(dev.texts)
    if basis is None:
        return x_train, x_dev
    return project_out(x_train, basis), project_out(x_dev, basis)


def fit_probe(
    store: FeatureStore,
    train: LabeledTexts,
    dev: LabeledTexts,
    regularization: list[float],
    seed: int = 0,
    basis: np.ndarray | None = None,
) -> tuple[Any, dict[str, float]]:
    """Logistic regression on stored features, ``C`` chosen by dev macro-F1 (balanced
    classes), optionally with the directions ``basis`` projected out of the features (and so
    of its weights). Returns the fitted model and ``{C: dev macro-F1}``."""
    from sklearn.linear_model import LogisticRegression

    x_train, x_dev = probe_features(store, train, dev, basis)
    scores, models = {}, {}
    for c in regularization:
        model = LogisticRegression(
            C=c, max_iter=2000, class_weight="balanced", random_state=seed
        ).fit(x_train, train.labels)
        scores[c] = classification_metrics(dev.labels, model.predict(x_dev))["macro_f1"]
        models[c] = model
    best = max(scores, key=lambda c: scores[c])
    if basis is not None:  # w.(x - B^T B x) = (w - B^T B w).x: the same head on raw features
        models[best].coef_ = project_out(models[best].coef_, basis)
    return models[best], {str(c): float(v) for c, v in scores.items()}


def project_out_in_place(matrix: np.ndarray, basis: np.ndarray, rows: int = 4096) -> np.ndarray:
    """:func:`~hateproto.training.consistency.project_out` written into ``matrix`` itself, a
    block of ``rows`` rows at a time (the components computed in float64, as there), so that a
    float32 feature matrix is neither copied nor widened to float64. Returns ``matrix``."""
    for start in range(0, len(matrix), rows):
        block = matrix[start : start + rows]
        block -= ((block @ basis.T) @ basis).astype(matrix.dtype, copy=False)
    return matrix


def fit_mlp_probe(
    classifier: HateClassifier,
    store: FeatureStore,
    train: LabeledTexts,
    dev: LabeledTexts,
    recipe: Any,
    basis: np.ndarray | None = None,
) -> dict[str, Any]:
    """Train the classifier's two-layer head on stored features (``basis`` projected out of
    them, then folded into its first layer so that it applies to raw features)."""
    x_train, x_dev = store.vectors(train.texts), store.vectors(dev.texts)
    return fit_mlp_head(classifier, x_train, train.labels, x_dev, dev.labels, recipe, basis)


def fit_mlp_head(
    classifier: HateClassifier,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_dev: np.ndarray,
    y_dev: np.ndarray,
    recipe: Any,
    basis: np.ndarray | None = None,
) -> dict[str, Any]:
    """:func:`fit_mlp_probe` on feature matrices, which it owns: ``basis`` is projected out of
    them in place."""
    import torch

    if basis is not None:
        x_train, x_dev = project_out_in_place(x_train, basis), project_out_in_place(x_dev, basis)
    head = build_head("mlp", x_train.shape[1], hidden_size=recipe.probe_hidden)
    facts = fit_head_on_features(
        head, x_train, y_train, x_dev, y_dev, recipe.probe_epochs, seed=recipe.seed
    )
    if basis is not None:
        weight = head.dense.weight.detach().numpy()
        with torch.no_grad():
            head.dense.weight.copy_(torch.from_numpy(project_out(weight, basis)))
    classifier.head.load_state_dict(head.state_dict())
    return facts


def load_probe_weights(classifier: HateClassifier, model: Any) -> None:
    """Copy a binary scikit-learn linear model into the classifier's linear head, exactly:
    ``softmax([-z/2, z/2]) = [1 - sigmoid(z), sigmoid(z)]`` with ``z = w.x + b``."""
    import torch

    linear = classifier.head.classifier
    w = torch.as_tensor(model.coef_[0], dtype=linear.weight.dtype)
    b = float(model.intercept_[0])
    with torch.no_grad():
        linear.weight.copy_(torch.stack([-w / 2, w / 2]))
        linear.bias.copy_(torch.tensor([-b / 2, b / 2], dtype=linear.bias.dtype))
