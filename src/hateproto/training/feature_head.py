"""Train a classification head on stored features of a frozen model (no encoder passes).

A logistic-regression probe on mean-pooled layers is linear: it can learn that "not" lowers
the score, but not that "not" flips an insult while "do not deserve rights" stays hateful.
A two-layer head (:class:`~hateproto.training.heads.MLPHead`) on the same stored features
can, and trains in seconds per epoch because the encoder never runs. The epoch with the best
dev macro-F1 is kept.

Example:
    >>> import numpy as np
    >>> from hateproto.training.heads import build_head
    >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    >>> y = (x[:, 0] * x[:, 1] > 0).astype(int)
    >>> head = build_head("mlp", 4, hidden_size=16)
    >>> facts = fit_head_on_features(head, x, y, x, y, epochs=3, seed=0)
    >>> sorted(facts)
    ['best_epoch', 'dev_macro_f1_per_epoch']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.metrics import f1_score
from torch import nn

from hateproto.training.trainer import balanced_class_weights, set_seed


def fit_head_on_features(
    head: nn.Module,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_dev: np.ndarray,
    y_dev: np.ndarray,
    epochs: int = 8,
    learning_rate: float = 1e-3,
    batch_size: int = 256,
    weight_decay: float = 1e-4,
    seed: int = 0,
) -> dict[str, Any]:
    """Train ``head`` in place (class-balanced cross-entropy, AdamW) on feature rows; keep
    the epoch with the best dev macro-F1. Returns ``best_epoch`` and the per-epoch scores."""
    set_seed(seed)
    features = torch.as_tensor(np.asarray(x_train, np.float32))
    labels = torch.as_tensor(np.asarray(y_train), dtype=torch.long)
    dev = torch.as_tensor(np.asarray(x_dev, np.float32))
    loss_fn = nn.CrossEntropyLoss(weight=balanced_class_weights(np.asarray(y_train)))
    optimizer = torch.optim.AdamW(head.parameters(), lr=learning_rate, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    scores: list[float] = []
    best: dict[str, torch.Tensor] | None = None
    for _ in range(epochs):
        head.train()
        for rows in torch.randperm(len(features), generator=generator).split(batch_size):
            optimizer.zero_grad(set_to_none=True)
            loss_fn(head(features[rows]), labels[rows]).backward()
            optimizer.step()
        head.eval()
        with torch.no_grad():
            predicted = head(dev).argmax(1).numpy()
        scores.append(float(f1_score(y_dev, predicted, average="macro")))
        if scores[-1] >= max(scores):
            best = {k: v.detach().clone() for k, v in head.state_dict().items()}
    assert best is not None
    head.load_state_dict(best)
    head.eval()
    return {"best_epoch": int(np.argmax(scores)) + 1, "dev_macro_f1_per_epoch": scores}
