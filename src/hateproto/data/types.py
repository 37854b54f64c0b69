"""The one data type every other module consumes: :class:`LabeledTexts`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hateproto.errors import DataError

LABEL_NAMES: tuple[str, str] = ("not_hate", "hate")


@dataclass(frozen=True)
class LabeledTexts:
    """Texts with binary labels (1 = hate, 0 = not hate) and optional per-example metadata.

    Attributes:
        texts: the posts.
        labels: ``int64`` array of 0/1, same length as ``texts``.
        name: dataset name (``ihc``, ``olid``... or a file name).
        protocol: how labels and splits were derived (``hateprototypes``, ``ocampo2023``,
            ``table``...).
        split: ``train``, ``dev``, ``test`` or ``all``.
        metadata: optional per-example columns such as ``category`` or ``target``
            (a DataFrame with one row per text, index 0..N-1).
        notes: counts and remarks gathered while loading (dropped rows, duplicates...).

    Example:
        >>> d = LabeledTexts(["a", "b"], np.array([0, 1]), name="toy")
        >>> len(d), d.hate_fraction
        (2, 0.5)
    """

    texts: list[str]
    labels: np.ndarray
    name: str = "data"
    protocol: str = "table"
    split: str = "all"
    metadata: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels, dtype=np.int64)
        object.__setattr__(self, "labels", labels)
        if len(self.texts) != len(labels):
            raise DataError(
                f"{self.name}/{self.split}: {len(self.texts)} texts but {len(labels)} labels"
            )
        if labels.size and not np.isin(labels, (0, 1)).all():
            raise DataError(f"{self.name}/{self.split}: labels must be 0 or 1")
        if len(self.metadata) not in (0, len(labels)):
            raise DataError(f"{self.name}/{self.split}: metadata rows do not match texts")
        if len(self.metadata):
            object.__setattr__(self, "metadata", self.metadata.reset_index(drop=True))

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def hate_fraction(self) -> float:
        """Fraction of examples labelled hate (``nan`` for an empty set)."""
        return float(self.labels.mean()) if len(self) else float("nan")

    def subset(self, indices: Sequence[int] | np.ndarray) -> LabeledTexts:
        """Return the examples at ``indices`` (in that order), metadata included."""
        idx = np.asarray(indices, dtype=np.int64)
        meta = self.metadata.iloc[idx] if len(self.metadata) else self.metadata
        return LabeledTexts(
            texts=[self.texts[i] for i in idx],
            labels=self.labels[idx],
            name=self.name,
            protocol=self.protocol,
            split=self.split,
            metadata=meta,
            notes=dict(self.notes),
        )

    def to_frame(self) -> pd.DataFrame:
        """Return a DataFrame with ``text``, ``label`` and the metadata columns."""
        frame = pd.DataFrame({"text": self.texts, "label": self.labels})
        if len(self.metadata):
            frame = pd.concat([frame, self.metadata], axis=1)
        return frame
