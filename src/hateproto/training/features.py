"""Pooled features of a frozen classifier backbone, computed once per text and kept on disk.

Probes (a linear head on a frozen encoder) are cheap to fit but the encoding is not: the
general recipe and its benchmark fit many probes (several regularisation strengths,
leave-one-dataset-out, with and without augmentation) on overlapping texts. A
:class:`FeatureStore` encodes each distinct text once with :meth:`HateClassifier.encode` (same
prefix, pooling and length limit as the classifier's own predictions) and keeps the vectors
under ``$HATEPROTO_HOME/cache/features/<key>/``, keyed by the backbone's fingerprint and those
settings.

Example:
    >>> store = FeatureStore(classifier)                     # doctest: +SKIP
    >>> x = store.vectors(["a post", "another post"])         # doctest: +SKIP
    >>> x.shape                                               # doctest: +SKIP
    (2, 384)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.paths import cache_dir


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _feature_size(classifier: Any) -> int:
    """Width of the classifier's :meth:`encode` vectors (``H`` or ``H * len(pool_layers)``)."""
    size = getattr(classifier, "feature_size", None)
    return int(size) if size is not None else int(classifier.backbone.hidden_size)


class FeatureStore:
    """Text -> pooled features (:meth:`HateClassifier.encode`) of a (frozen)
    :class:`HateClassifier`, cached on disk."""

    chunk_size: int = 16384
    """Texts encoded between two saves, so that an interrupted run keeps what it encoded."""

    def __init__(self, classifier: Any, root: Path | None = None) -> None:
        self.classifier = classifier
        settings = {
            "fingerprint": classifier.backbone.fingerprint,
            "pooling": classifier.pooling,
            "max_length": classifier.config.max_length,
            "prefix": classifier.backbone.info.prefix,
            "dtype": str(classifier.backbone.dtype),
        }
        pool_layers = getattr(classifier, "pool_layers", None)
        if pool_layers is not None:  # absent from the key otherwise: old caches stay valid
            settings["pool_layers"] = list(pool_layers)
        key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:24]
        self.folder = (root or cache_dir() / "features") / key
        self._index: dict[str, int] = {}
        self._vectors = np.zeros((0, _feature_size(classifier)), dtype=np.float32)
        self._load()

    def _load(self) -> None:
        index, vectors = self.folder / "index.json", self.folder / "vectors.npy"
        if index.is_file() and vectors.is_file():
            self._index = json.loads(index.read_text())
            self._vectors = np.load(vectors)
            if len(self._vectors) != len(self._index):  # a torn write: start over
                self._index, self._vectors = {}, self._vectors[:0]

    def _save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"vectors.npy.{os.getpid()}.tmp"
        with open(tmp, "wb") as handle:
            np.save(handle, self._vectors)
        os.replace(tmp, self.folder / "vectors.npy")
        tmp_index = self.folder / f"index.json.{os.getpid()}.tmp"
        tmp_index.write_text(json.dumps(self._index))
        os.replace(tmp_index, self.folder / "index.json")

    def vectors(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """``[N, feature_size]`` float32 vectors of ``texts`` (encoding only the ones not
        stored yet)."""
        keys = [_text_key(t) for t in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._index and key not in missing:
                missing[key] = text
        pending = list(missing.items())
        for start in range(0, len(pending), self.chunk_size):  # saved per chunk: resumable
            chunk = pending[start : start + self.chunk_size]
            new = self.classifier.encode([text for _, text in chunk], show_progress=show_progress)
            offset = len(self._vectors)
            self._vectors = np.concatenate([self._vectors, new.float().numpy()])
            self._index.update({key: offset + i for i, (key, _) in enumerate(chunk)})
            self._save()
        return self._vectors[[self._index[k] for k in keys]]
