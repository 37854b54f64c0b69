"""Several prototypes per class: spherical k-means within each class, decided by the
class-wise maximum cosine similarity.

One mean per class underfits a class made of several kinds of posts (slurs, dehumanising
metaphors, calls to exclude...). :class:`MultiPrototypes` keeps ``k`` centroids per class at
one layer and assigns a text to the class of its most similar centroid; :func:`choose_k`
picks ``k`` on a dev set by macro-F1. It works on vectors (one layer), beside
:class:`~hateproto.prototypes.PrototypeClassifier`, which keeps one prototype per class and
layer; ``benchmarks/policy_adaptation.py`` measures whether it helps.

Example:
    >>> v = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> MultiPrototypes(k=1).fit(v, np.array([0, 0, 1, 1])).predict(v).tolist()
    [0, 0, 1, 1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from hateproto.errors import HateprotoError


def _unit(vectors: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(vectors.double(), dim=-1)


def spherical_kmeans(
    vectors: torch.Tensor, k: int, seed: int = 0, iterations: int = 50
) -> torch.Tensor:
    """``k`` unit centroids ``[k, H]`` of ``vectors`` ``[N, H]`` (cosine k-means, k-means++
    start); fewer rows than ``k`` → one centroid per row."""
    if k < 1:
        raise HateprotoError(f"k must be at least 1, got {k}")
    unit = _unit(vectors)
    k = min(k, len(unit))
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(unit)))]
    for _ in range(1, k):
        distance = (1 - (unit @ unit[chosen].T).max(dim=1).values).clamp(min=0).numpy()
        total = distance.sum()
        pick = rng.choice(len(unit), p=distance / total) if total > 0 else rng.integers(len(unit))
        chosen.append(int(pick))
    centroids = unit[chosen].clone()
    for _ in range(iterations):
        assign = (unit @ centroids.T).argmax(dim=1)
        updated = centroids.clone()
        for j in range(k):
            members = unit[assign == j]
            if len(members):
                updated[j] = _unit(members.sum(dim=0))
        if torch.allclose(updated, centroids):
            break
        centroids = updated
    return centroids.float()


class MultiPrototypes:
    """``k`` centroids per class at one layer; class = that of the most similar centroid.

    Attributes set by :meth:`fit`: ``centroids_`` ``[M, H]``, ``owners_`` (the class of each
    centroid), ``classes_``.
    """

    def __init__(self, k: int = 2, seed: int = 0) -> None:
        self.k = k
        self.seed = seed
        self.centroids_: torch.Tensor | None = None
        self.owners_: np.ndarray | None = None
        self.classes_: np.ndarray | None = None

    def fit(self, vectors: torch.Tensor, labels: Sequence[int] | np.ndarray) -> MultiPrototypes:
        """Centroids of each class of ``vectors`` ``[N, H]``."""
        labels = np.asarray(labels)
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise HateprotoError(f"need at least two classes, got {self.classes_.tolist()}")
        parts, owners = [], []
        for cls in self.classes_:
            rows = torch.from_numpy(np.flatnonzero(labels == cls))
            centroids = spherical_kmeans(vectors[rows], self.k, self.seed)
            parts.append(centroids)
            owners += [int(cls)] * len(centroids)
        self.centroids_ = torch.cat(parts)
        self.owners_ = np.asarray(owners)
        return self

    def similarities(self, vectors: torch.Tensor) -> np.ndarray:
        """``[N, C]``: per class, the largest cosine similarity to one of its centroids."""
        if self.centroids_ is None or self.owners_ is None or self.classes_ is None:
            raise HateprotoError("MultiPrototypes is not fitted yet: call fit() first")
        sims = _unit(vectors) @ _unit(self.centroids_).T
        columns = [
            sims[:, torch.from_numpy(self.owners_ == c)].max(dim=1).values for c in self.classes_
        ]
        return torch.stack(columns, dim=1).numpy()

    def predict(self, vectors: torch.Tensor) -> np.ndarray:
        """The class of the most similar centroid."""
        sims = self.similarities(vectors)
        assert self.classes_ is not None
        return self.classes_[sims.argmax(axis=1)]


def choose_k(
    train_vectors: torch.Tensor,
    train_labels: np.ndarray,
    dev_vectors: torch.Tensor,
    dev_labels: np.ndarray,
    candidates: Sequence[int] = (1, 2, 4, 8),
    seed: int = 0,
) -> tuple[int, dict[int, float]]:
    """The ``k`` with the best dev macro-F1 (ties → the smaller), and every ``k``'s score."""
    from hateproto.evaluation import classification_metrics

    scores = {}
    for k in candidates:
        model = MultiPrototypes(k, seed).fit(train_vectors, train_labels)
        predicted = model.predict(dev_vectors)
        scores[k] = float(classification_metrics(dev_labels, predicted)["macro_f1"])
    best = max(candidates, key=lambda k: (scores[k], -k))
    return best, scores
