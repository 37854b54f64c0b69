"""Draw examples: a fixed number per class (prototypes, few-shot) or a stratified subset."""

from __future__ import annotations

import numpy as np

from hateproto.data.types import LABEL_NAMES, LabeledTexts
from hateproto.errors import ConfigError, DataError


def sample_per_class(
    dataset: LabeledTexts, n: int, seed: int = 0, allow_fewer: bool = False
) -> LabeledTexts:
    """Return ``n`` random examples of each class (0 then 1), without replacement.

    The draw is deterministic for a given ``seed``. Within each class the examples keep their
    original order. ``notes["sampled_per_class"]`` records ``n`` and ``notes["sample_seed"]``
    the seed.

    Args:
        dataset: the examples to draw from.
        n: examples per class (>= 1).
        seed: seed of ``numpy.random.default_rng``.
        allow_fewer: if a class has fewer than ``n`` examples, take all of them instead of
            raising.

    Raises:
        DataError: ``n < 1``, or a class has fewer than ``n`` examples (unless ``allow_fewer``).

    Example:
        >>> from hateproto.data import load_sample
        >>> few = sample_per_class(load_sample("train"), n=4, seed=1)
        >>> len(few), int(few.labels.sum())
        (8, 4)
    """
    if n < 1:
        raise DataError(f"sample_per_class: n must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    chosen: list[np.ndarray] = []
    for label, label_name in enumerate(LABEL_NAMES):
        members = np.flatnonzero(dataset.labels == label)
        if len(members) < n and not allow_fewer:
            raise DataError(
                f"{dataset.name}/{dataset.split}: class {label} ({label_name}) has only "
                f"{len(members)} examples, fewer than n={n} (pass allow_fewer=True to take all)"
            )
        take = min(n, len(members))
        chosen.append(np.sort(rng.choice(members, size=take, replace=False)))
    subset = dataset.subset(np.concatenate(chosen))
    subset.notes.update(sampled_per_class=n, sample_seed=seed)
    return subset


def stratified_indices(labels: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``n`` rows drawn without replacement, keeping the class proportions
    (largest-remainder rounding).

    Example:
        >>> stratified_indices(np.array([0, 0, 0, 1, 1, 1]), 4, seed=0).size
        4
    """
    labels = np.asarray(labels)
    if not 1 <= n <= len(labels):
        raise DataError(f"cannot draw {n} of {len(labels)} examples")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts / counts.sum() * n
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take))[: n - take.sum()]:
        take[i] += 1
    chosen = [
        rng.choice(np.flatnonzero(labels == c), size=k, replace=False)
        for c, k in zip(classes, take, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def check_per_class(data: LabeledTexts, per_class: int | None, option: str = "--per-class") -> None:
    """Refuse ``per_class`` when a class of ``data`` has fewer examples than that."""
    if per_class is None:
        return
    if per_class < 1:
        raise ConfigError(f"{option} must be at least 1, got {per_class}")
    counts = {label: int(np.sum(data.labels == label)) for label in range(len(LABEL_NAMES))}
    short = {label: n for label, n in counts.items() if n < per_class}
    if short:
        label, n = min(short.items(), key=lambda item: item[1])
        raise DataError(
            f"{data.name}/{data.split}: class {label} ({LABEL_NAMES[label]}) has only {n} "
            f"examples; lower {option} to {min(counts.values())} or less"
        )
