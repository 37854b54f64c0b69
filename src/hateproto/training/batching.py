"""Length-bucketed batches with dynamic padding, as a PyTorch ``DataLoader``.

Each epoch the examples are shuffled, cut into buckets of ``bucket_size`` batches, sorted by
length inside each bucket and cut into batches; the batch order is shuffled again. Batches
then hold texts of similar length, so little padding is computed, while every epoch still sees
a different random order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class BucketBatchSampler(Sampler[list[int]]):
    """Yield lists of indices of similar ``lengths``, in a seeded random order per epoch.

    Example:
        >>> s = BucketBatchSampler([5, 1, 3, 2], batch_size=2, bucket_size=2, seed=0)
        >>> sorted(len(b) for b in s), len(s)
        ([2, 2], 2)
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        bucket_size: int = 50,
        seed: int = 0,
        shuffle: bool = True,
    ) -> None:
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.bucket_size = bucket_size
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose random order :meth:`__iter__` yields."""
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        """The batches of the current epoch."""
        n = len(self.lengths)
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        chunk = self.batch_size * self.bucket_size
        batches: list[list[int]] = []
        for start in range(0, n, chunk):
            rows = order[start : start + chunk]
            rows = rows[np.argsort(self.lengths[rows], kind="stable")]
            batches += [
                rows[i : i + self.batch_size].tolist() for i in range(0, len(rows), self.batch_size)
            ]
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches())

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)


class ListDataset(Dataset):
    """Items of a list (token-id lists or feature rows) with their labels."""

    def __init__(self, items: Sequence, labels: Sequence[int]) -> None:
        self.items = items
        self.labels = labels

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[object, int]:
        return self.items[index], int(self.labels[index])


def token_collator(pad: Callable[[list[list[int]]], dict[str, torch.Tensor]]) -> Callable:
    """A ``collate_fn`` turning ``(ids, label)`` items into a padded batch with ``labels``."""

    def collate(items: list[tuple[list[int], int]]) -> dict[str, torch.Tensor]:
        batch = pad([ids for ids, _ in items])
        batch["labels"] = torch.tensor([label for _, label in items], dtype=torch.long)
        return batch

    return collate


def paired_token_collator(
    pad: Callable[[list[list[int]]], dict[str, torch.Tensor]],
) -> Callable:
    """Like :func:`token_collator` for ``(ids, label, twin_ids | None)`` items; the twins of
    the rows that have one are padded into ``batch["twin"]`` with their ``rows``."""

    def collate(items: list[tuple[list[int], int, list[int] | None]]) -> dict:
        batch = pad([ids for ids, _, _ in items])
        batch["labels"] = torch.tensor([label for _, label, _ in items], dtype=torch.long)
        rows = [i for i, (_, _, twin) in enumerate(items) if twin is not None]
        if rows:
            batch["twin"] = {
                **pad([items[i][2] for i in rows]),
                "rows": torch.tensor(rows, dtype=torch.long),
            }
        return batch

    return collate


class PairedDataset(ListDataset):
    """Token ids with labels and an optional twin (token ids) per item."""

    def __init__(
        self, items: Sequence, labels: Sequence[int], twins: Sequence[list[int] | None]
    ) -> None:
        super().__init__(items, labels)
        self.twins = twins

    def __getitem__(self, index: int) -> tuple[object, int, list[int] | None]:
        return self.items[index], int(self.labels[index]), self.twins[index]


def feature_collate(items: list[tuple[torch.Tensor, int]]) -> dict[str, torch.Tensor]:
    """A ``collate_fn`` stacking ``(pooled vector, label)`` items into ``pooled``/``labels``."""
    return {
        "pooled": torch.stack([vec for vec, _ in items]),
        "labels": torch.tensor([label for _, label in items], dtype=torch.long),
    }


def token_loader(
    ids: Sequence[Sequence[int]],
    labels: Sequence[int],
    pad: Callable[[list[list[int]]], dict[str, torch.Tensor]],
    batch_size: int,
    bucket_size: int = 50,
    seed: int = 0,
    twins: Sequence[list[int] | None] | None = None,
) -> DataLoader:
    """A ``DataLoader`` of length-bucketed, dynamically padded token batches; with ``twins``
    (token ids or ``None`` per row), batches also carry each row's twin (``batch["twin"]``)."""
    sampler = BucketBatchSampler([len(x) for x in ids], batch_size, bucket_size, seed)
    if twins is None:
        dataset, collate = ListDataset(ids, labels), token_collator(pad)
    else:
        dataset, collate = PairedDataset(ids, labels, twins), paired_token_collator(pad)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate)


def feature_loader(
    features: torch.Tensor, labels: Sequence[int], batch_size: int, seed: int = 0
) -> DataLoader:
    """A ``DataLoader`` of shuffled batches of cached pooled vectors ``[N, H]``."""
    sampler = BucketBatchSampler([0] * len(features), batch_size, bucket_size=1, seed=seed)
    return DataLoader(
        ListDataset(features, labels), batch_sampler=sampler, collate_fn=feature_collate
    )
