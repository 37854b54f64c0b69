"""Fit :class:`~.attributes.AttributeHeads` on the detector's own stored features.

Per attribute (:mod:`hateproto.data.attributes` names its proxy data, with group-swapped copies
of every training post that names a group, same label): a two-layer head (the
hate head's kind, :class:`hateproto.training.heads.MLPHead`, classes balanced, the epoch with
the best dev macro-F1 kept) on the pooled features of its training split, with the directions
of group identity projected out (as for the hate head, so that naming a group does not move
the score) and folded into its first layer; then Platt calibration of its score on the dev
split and a decision threshold at the best dev macro-F1. Dev ROC AUC, two-layer vs logistic
regression: ``benchmarks/results/perspective-head-choice.json``. Test splits are not
read here (``benchmarks/perspective_attributes.py`` scores them once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.data.attributes import DEFINITIONS, attribute_sources, load_attribute
from hateproto.data.augment import counterfactual_augment
from hateproto.detector.attributes import AttributeHeads, HeadRecord
from hateproto.evaluation.calibration import choose_threshold, expected_calibration_error
from hateproto.training.consistency import project_out

Echo = Callable[[str], None]
Prepare = Callable[[str], str]


def fit_attribute_heads(
    vectors: Callable[[list[str]], np.ndarray],
    attributes: Sequence[str],
    data_dir: str | Path | None = None,
    basis: np.ndarray | None = None,
    hidden: int = 256,
    epochs: int = 10,
    max_per_source: int | None = None,
    counterfactual_copies: int = 1,
    repeats: dict[str, int] | None = None,
    prepare: Prepare = lambda text: text,
    seed: int = 0,
    echo: Echo = print,
    languages: tuple[str, ...] = ("en",),
) -> AttributeHeads:
    """One calibrated two-layer head per attribute on the features ``vectors(texts)`` returns
    (the classifier's pooled features, e.g. ``FeatureStore(classifier).vectors``)."""
    records, parts = [], []
    for name in attributes:
        train = load_attribute(name, "train", data_dir, max_per_source, seed, repeats, languages)
        train = counterfactual_augment(train, counterfactual_copies, seed)
        dev = load_attribute(name, "dev", data_dir, max_per_source, seed, None, languages)
        echo(f"{name}: {len(train):,} training and {len(dev):,} dev posts")
        x_train = _features(vectors, train.texts, prepare, basis)
        x_dev = _features(vectors, dev.texts, prepare, basis)
        tensors, facts = fit_two_layer_head(
            x_train, train.labels, x_dev, dev.labels, hidden, epochs, seed
        )
        # scored on the projected dev features before folding: the same as the folded head
        # on raw features (tested), without fetching the dev vectors again
        z_dev = AttributeHeads([HeadRecord(name=name)], _stack([tensors])).score(x_dev, 0)
        if basis is not None:  # W(x - B^T B x) = (W - W B^T B) x: the head on raw features
            tensors["dense.weight"] = project_out(tensors["dense.weight"], basis)
        facts.update(calibrate_score(z_dev, dev.labels))
        per_source = train.notes.get("per_source")
        facts.update(n_train=len(train), n_dev=len(dev), per_source=per_source)
        records.append(
            HeadRecord(
                name=name,
                platt_a=facts.pop("platt_a"),
                platt_b=facts.pop("platt_b"),
                threshold=facts.pop("threshold"),
                definition=DEFINITIONS[name],
                sources=attribute_sources(name, languages),
                dev=facts,
            )
        )
        parts.append(tensors)
    return AttributeHeads(records, _stack(parts), features="head")


def _stack(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.stack([p[key] for p in parts]) for key in AttributeHeads.TENSORS}


def fit_two_layer_head(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_dev: np.ndarray,
    y_dev: np.ndarray,
    hidden: int,
    epochs: int,
    seed: int,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A :class:`~hateproto.training.heads.MLPHead` trained on the features; returns its
    weights as one head of :class:`AttributeHeads` (the score is the logit difference)."""
    from hateproto.training.feature_head import fit_head_on_features
    from hateproto.training.heads import build_head

    head = build_head("mlp", x_train.shape[1], hidden_size=hidden)
    facts = fit_head_on_features(head, x_train, y_train, x_dev, y_dev, epochs, seed=seed)
    return two_layer_tensors(head), {"best_epoch": facts["best_epoch"]}


def two_layer_tensors(head: Any) -> dict[str, np.ndarray]:
    """A two-class :class:`~hateproto.training.heads.MLPHead` as one head of
    :class:`AttributeHeads`: its hidden layer, and the difference of its two output rows
    (the hate-minus-not logit is the score)."""
    state = {k: v.detach().float().numpy() for k, v in head.state_dict().items()}
    out_w, out_b = state["classifier.weight"], state["classifier.bias"]
    return {
        "dense.weight": state["dense.weight"],
        "dense.bias": state["dense.bias"],
        "out.weight": out_w[1] - out_w[0],
        "out.bias": np.float32(out_b[1] - out_b[0]),
    }


def calibrate_score(z_dev: np.ndarray, y_dev: np.ndarray) -> dict[str, Any]:
    """Platt ``a``, ``b`` of the scores ``z_dev`` on dev, the threshold at the best dev
    macro-F1 of the calibrated probability, and dev ROC AUC, macro-F1 and ECE."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    platt = LogisticRegression(C=1e6, max_iter=1000).fit(z_dev[:, None], y_dev)
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    proba = 1.0 / (1.0 + np.exp(-(a * z_dev + b)))
    chosen = choose_threshold(y_dev, proba)
    return {
        "platt_a": a,
        "platt_b": b,
        "threshold": float(chosen["threshold"]),
        "dev_roc_auc": float(roc_auc_score(y_dev, z_dev)),
        "dev_macro_f1": float(chosen["macro_f1"]),
        "dev_ece": expected_calibration_error(y_dev, proba),
    }


def _features(
    vectors: Callable[[list[str]], np.ndarray],
    texts: list[str],
    prepare: Prepare,
    basis: np.ndarray | None,
) -> np.ndarray:
    x = vectors([prepare(text) for text in texts])
    return x if basis is None else project_out(x, basis).astype(np.float32)
