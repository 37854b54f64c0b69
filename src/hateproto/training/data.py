"""Training data: checks, stratified subsampling, and the train/dev pair a config names."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hateproto.data import LABEL_NAMES, LabeledTexts, load_benchmark, load_table
from hateproto.data.augment import counterfactual_augment
from hateproto.data.benchmarks import BENCHMARKS
from hateproto.data.mixture import Mixture, load_mixture, parse_sources
from hateproto.data.sampling import stratified_indices
from hateproto.errors import DataError
from hateproto.training.config import DataConfig


def check_training_data(data: LabeledTexts, role: str = "training") -> None:
    """Raise :class:`DataError` if ``data`` is empty or (for training) has a single class."""
    where = f"{data.name}/{data.split}"
    if len(data) == 0:
        raise DataError(f"the {role} set {where} is empty")
    if role == "training":
        present = np.unique(data.labels).tolist()
        if len(present) < 2:
            only = ", ".join(f"{c} ({LABEL_NAMES[c]})" for c in present)
            raise DataError(
                f"the training set {where} has only label {only} in its {len(data)} examples: "
                "a classifier needs examples of both classes"
            )


def stratified_subsample(data: LabeledTexts, n: int | None, seed: int = 0) -> LabeledTexts:
    """At most ``n`` examples drawn without replacement, keeping the class proportions.

    Returns ``data`` itself when ``n`` is ``None`` or not smaller than ``len(data)``. Picked
    examples keep their original order; ``notes["subsampled_from"]`` records the full size.

    Example:
        >>> d = LabeledTexts([str(i) for i in range(10)], np.array([0] * 8 + [1] * 2))
        >>> small = stratified_subsample(d, 5, seed=0)
        >>> len(small), int(small.labels.sum())
        (5, 1)
    """
    if n is None or n >= len(data):
        return data
    subset = data.subset(stratified_indices(data.labels, n, seed))
    subset.notes.update(subsampled_from=len(data), subsample_seed=seed)
    return subset


def split_off_dev(
    data: LabeledTexts, fraction: float, seed: int = 0
) -> tuple[LabeledTexts, LabeledTexts]:
    """Split ``data`` into (train, dev) with a stratified ``fraction`` as dev."""
    check_training_data(data)
    dev_rows = stratified_indices(data.labels, max(2, int(round(fraction * len(data)))), seed)
    mask = np.ones(len(data), dtype=bool)
    mask[dev_rows] = False
    train, dev = data.subset(np.flatnonzero(mask)), data.subset(dev_rows)
    return (
        LabeledTexts(train.texts, train.labels, data.name, data.protocol, "train", train.metadata),
        LabeledTexts(dev.texts, dev.labels, data.name, data.protocol, "dev", dev.metadata),
    )


def is_mixture(dataset: str) -> bool:
    """Whether a ``dataset`` value names several sources (``ihc,olid``) or weights one."""
    return not Path(dataset).exists() and ("," in dataset or ":" in dataset.rstrip(":"))


def load_training_data(config: DataConfig) -> tuple[LabeledTexts, LabeledTexts]:
    """The (subsampled, augmented) train and dev sets a :class:`DataConfig` describes."""
    train, dev = _load_pair(config)
    train = stratified_subsample(train, config.max_train_examples, config.sample_seed)
    dev = stratified_subsample(dev, config.max_dev_examples, config.sample_seed)
    if config.counterfactual_copies:
        train = counterfactual_augment(train, config.counterfactual_copies, config.sample_seed)
    return train, dev


def load_mixture_for(config: DataConfig) -> Mixture:
    """The :class:`~hateproto.data.mixture.Mixture` a mixture ``DataConfig`` names."""
    return load_mixture(
        parse_sources(config.dataset),
        config.data_dir,
        config.sample_seed,
        config.max_dev_per_source,
        config.text_column,
        config.label_column,
    )


def _load_pair(config: DataConfig) -> tuple[LabeledTexts, LabeledTexts]:
    if is_mixture(config.dataset):
        mixture = load_mixture_for(config)
        return mixture.train, mixture.dev
    if config.dataset in BENCHMARKS and not Path(config.dataset).exists():
        train = load_benchmark(config.dataset, "train", config.protocol, config.data_dir)
        dev = load_benchmark(config.dataset, "dev", config.protocol, config.data_dir)
    else:
        table = load_table(config.dataset, config.text_column, config.label_column, split="train")
        if config.dev:
            train = table
            dev = load_table(config.dev, config.text_column, config.label_column, split="dev")
        else:
            train, dev = split_off_dev(table, config.dev_fraction, config.sample_seed)
    return train, dev
