"""Size, class balance, length and train/test overlap of datasets (``hateproto data stats``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.data.benchmarks import PROTOCOLS, SPLITS, load_benchmark
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError

Tokenizer = Callable[[str], Any]


def _token_count(text: str, tokenizer: Tokenizer | None) -> int:
    """Whitespace tokens, or ``len(tokenizer(text)["input_ids"])`` with a tokenizer."""
    return len(text.split()) if tokenizer is None else len(tokenizer(text)["input_ids"])


def dataset_statistics(dataset: LabeledTexts, tokenizer: Tokenizer | None = None) -> dict:
    """Return a flat statistics row for ``dataset``.

    Keys: ``dataset``, ``protocol``, ``split``, ``n``, ``n_hate``, ``hate_fraction`` and
    ``mean_tokens`` (whitespace tokens, or tokenizer ``input_ids`` when a Hugging Face
    tokenizer is given).

    Example:
        >>> from hateproto.data import load_sample
        >>> row = dataset_statistics(load_sample("test"))
        >>> row["n"], row["n_hate"], row["hate_fraction"]
        (20, 10, 0.5)
    """
    lengths = [_token_count(text, tokenizer) for text in dataset.texts]
    return {
        "dataset": dataset.name,
        "protocol": dataset.protocol,
        "split": dataset.split,
        "n": len(dataset),
        "n_hate": int(dataset.labels.sum()),
        "hate_fraction": dataset.hate_fraction,
        "mean_tokens": float(np.mean(lengths)) if lengths else float("nan"),
    }


def train_test_overlap(train: LabeledTexts, test: LabeledTexts) -> int:
    """Count the test examples whose exact text also appears in ``train``.

    Example:
        >>> a = LabeledTexts(["x", "y"], np.array([0, 1]))
        >>> b = LabeledTexts(["y", "z", "y"], np.array([1, 0, 1]))
        >>> train_test_overlap(a, b)
        2
    """
    seen = set(train.texts)
    return sum(text in seen for text in test.texts)


def protocol_statistics(
    protocol: str,
    data_dir: str | Path | None = None,
    datasets: Sequence[str] | None = None,
    tokenizer: Tokenizer | None = None,
    seed: int = 42,
) -> list[dict]:
    """Statistics of every dataset x split of ``protocol`` (dev/test rows add
    ``duplicates_with_train``: how many of their texts also occur in train).

    Args:
        protocol: ``hateprototypes`` or ``ocampo2023``.
        data_dir: the datasets folder (default: ``$HATEPROTO_DATA`` or ``../shared/datasets``).
        datasets: restrict to these datasets (default: all of the protocol).
        tokenizer: optional tokenizer for ``mean_tokens``.
        seed: split seed passed to :func:`load_benchmark`.
    """
    if protocol not in PROTOCOLS:
        raise DataError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    names = list(datasets) if datasets else list(PROTOCOLS[protocol])
    rows: list[dict] = []
    for name in names:
        train = load_benchmark(name, "train", protocol, data_dir, seed)
        for split in SPLITS:
            data = (
                train if split == "train" else load_benchmark(name, split, protocol, data_dir, seed)
            )
            row = dataset_statistics(data, tokenizer)
            if split != "train":
                row["duplicates_with_train"] = train_test_overlap(train, data)
            rows.append(row)
    return rows
