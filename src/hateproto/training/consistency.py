"""Group consistency in training: counterfactual logit pairing (Garg et al., 2019).

A post that names a group and the same post about another group should get the same score.
Group-swapped copies in the training set (:mod:`hateproto.data.augment`) teach that only on
average; pairing each post with its twin *in the same batch* and penalising the difference of
their logit margins teaches it post by post, without per-group thresholds.

Example:
    >>> import torch
    >>> a = torch.tensor([[0.0, 2.0]]); b = torch.tensor([[0.0, 1.0]])
    >>> float(consistency_penalty(a, b))
    1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from hateproto.data.augment import swap_groups


def group_swapped_twins(texts: Sequence[str], seed: int = 0) -> list[str | None]:
    """For every text, the same text with each named group swapped for another (seeded), or
    ``None`` when it names no group (:func:`hateproto.data.augment.swap_groups`)."""
    rng = np.random.default_rng(seed)
    return [swap_groups(text, rng) for text in texts]


def consistency_penalty(logits: torch.Tensor, twin_logits: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of the margins ``logit[hate] - logit[not hate]`` of posts
    ``[B, 2]`` and their twins ``[B, 2]``."""
    margin = logits[:, 1] - logits[:, 0]
    twin_margin = twin_logits[:, 1] - twin_logits[:, 0]
    return ((margin - twin_margin) ** 2).mean()


def group_subspace(vectors: np.ndarray, twin_vectors: np.ndarray, k: int) -> np.ndarray:
    """An orthonormal basis ``[k, D]`` of the directions along which features move when only
    the named group changes: the top ``k`` right singular vectors of the differences between
    posts and their group-swapped twins (rows of ``vectors`` and ``twin_vectors``).

    A linear probe fitted on features with this subspace projected out cannot use which group
    is named (to first order), and its weights, projected the same way, apply to the raw
    features unchanged: see :func:`project_out`.
    """
    diffs = np.asarray(vectors, np.float64) - np.asarray(twin_vectors, np.float64)
    if k < 1 or len(diffs) == 0:
        return np.zeros((0, diffs.shape[1] if diffs.ndim == 2 else 0))
    # The right singular vectors of diffs are the eigenvectors of its [D, D] Gram matrix:
    # the same subspace without the SVD's [N, D] workspace.
    values, vectors_ = np.linalg.eigh(diffs.T @ diffs)
    order = np.argsort(values)[::-1][: min(k, len(diffs), len(values))]
    return vectors_[:, order].T.astype(np.float32)


def project_out(matrix: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``matrix`` (rows are vectors) with its components along ``basis`` (orthonormal rows)
    removed: ``X - (X B^T) B``."""
    if len(basis) == 0:
        return matrix
    return matrix - (matrix @ basis.T) @ basis
