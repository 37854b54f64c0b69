"""The maths of HatePrototypes: per-layer class means and cosine similarities to them.

Example:
    >>> v = torch.tensor([[[1.0, 0.0]], [[0.0, 2.0]]])
    >>> protos = class_prototypes(v, np.array([0, 1]), [0, 1])
    >>> similarity_margin(cosine_similarities(v, protos)[:, 0]).tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from hateproto.errors import HateprotoError

Normalize = Literal["example", "mean"]


def class_prototypes(
    vectors: torch.Tensor,
    labels: np.ndarray,
    classes: Sequence[int],
    normalize: Normalize = "example",
) -> torch.Tensor:
    """Class means of ``vectors`` ``[N, layers, H]`` → unit-norm prototypes ``[layers, C, H]``.

    Example:
        >>> v = torch.tensor([[[1.0, 0.0]], [[0.0, 2.0]]])
        >>> class_prototypes(v, np.array([0, 1]), [0, 1])[0].tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    labels = np.asarray(labels)
    if normalize not in ("example", "mean"):
        raise HateprotoError(f"normalize must be 'example' or 'mean', not {normalize!r}")
    vecs = (
        torch.nn.functional.normalize(vectors.float(), dim=-1)
        if normalize == "example"
        else vectors.float()
    )
    means = []
    for cls in classes:
        rows = torch.from_numpy(np.flatnonzero(labels == cls))
        if rows.numel() == 0:
            raise HateprotoError(f"no examples of class {cls} to build its prototype")
        means.append(vecs[rows].mean(dim=0))
    return torch.nn.functional.normalize(torch.stack(means, dim=1), dim=-1)


def cosine_similarities(vectors: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of ``vectors`` ``[N, layers, H]`` to ``prototypes`` ``[layers, C, H]``
    → ``[N, layers, C]`` (float32).

    Computed in float64 and rounded once, so a row's similarities do not depend on which
    other rows or layers are computed with it (early exit scores shrinking batches one layer
    at a time and must reproduce these values exactly)."""
    unit = torch.nn.functional.normalize(vectors.double(), dim=-1)
    return torch.einsum("nlh,lch->nlc", unit, prototypes.double()).float()


def similarity_margin(similarities: np.ndarray | torch.Tensor) -> np.ndarray:
    """Top-1 minus top-2 value along the last axis."""
    sims = torch.as_tensor(similarities)
    top2 = sims.topk(2, dim=-1).values
    return (top2[..., 0] - top2[..., 1]).numpy()
