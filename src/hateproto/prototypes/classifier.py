"""HatePrototypes: per-layer class means of a backbone's representations, used by cosine
similarity.

``fit`` encodes labelled texts once (every requested layer in one forward pass), and keeps,
for each layer ``l`` and class ``c``, the prototype ``p[l, c]``: the mean of the
L2-normalised vectors of class ``c`` (``normalize="example"``, default) or the normalised mean
of the raw vectors (``normalize="mean"``). A text is assigned to the class whose prototype is
most cosine-similar at the chosen layer; ``predict_proba`` is a softmax over the similarities
divided by ``temperature``.

``save_pretrained(dir)`` writes ``prototypes.safetensors`` and ``prototypes.json`` (see
:mod:`hateproto.prototypes.files`); ``from_pretrained(dir, backbone)`` restores the classifier
and refuses a backbone that is not the one the prototypes were built from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from hateproto.data.sampling import sample_per_class
from hateproto.data.types import LabeledTexts
from hateproto.errors import HateprotoError
from hateproto.models.backbone import Backbone

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


class PrototypeClassifier:
    """Classify texts by cosine similarity to per-layer class prototypes.

    Args:
        backbone: a loaded :class:`~hateproto.models.Backbone` (frozen, fine-tuned or guard).
        layers: layers to build prototypes for ("all", "last", or indices; 0 = embeddings).
        pooling, layer_norm: representation settings (default: the backbone's).
        normalize: ``example`` (normalise each example, then average; default) or ``mean``.
        temperature: softmax temperature of :meth:`predict_proba`.

    Attributes set by fitting: ``prototypes_`` ``[layers, C, H]``, ``classes_``,
    ``n_per_class_``, ``sampling_`` (per_class, seed), ``source_`` (dataset, protocol, split).
    Free to set: ``metadata`` (a JSON-able dict carried through save/load) and
    ``default_layer`` (the layer used when none is given; default the last fitted one).

    Example:
        >>> clf = PrototypeClassifier(Backbone.load("minilm"))  # doctest: +SKIP
        >>> clf.fit(train.texts, train.labels, per_class=50)     # doctest: +SKIP
        >>> clf.predict(["some post"])                           # doctest: +SKIP
    """

    def __init__(
        self,
        backbone: Backbone,
        layers: Sequence[int] | str | None = "all",
        pooling: str | None = None,
        layer_norm: str | None = None,
        normalize: Normalize = "example",
        temperature: float = 0.05,
        batch_size: int = 32,
        max_length: int = 256,
    ) -> None:
        if temperature <= 0:
            raise HateprotoError(f"temperature must be positive, got {temperature}")
        self.backbone = backbone
        self.layers = backbone.resolve_layers(layers)
        self.pooling = pooling or backbone.info.default_pooling
        self.layer_norm = layer_norm or backbone.info.default_layer_norm
        self.normalize: Normalize = normalize
        self.temperature = temperature
        self.batch_size = batch_size
        self.max_length = max_length
        self.classes_: np.ndarray | None = None
        self.prototypes_: torch.Tensor | None = None
        self.n_per_class_: dict[int, int] = {}
        self.sampling_: dict[str, int | None] = {"per_class": None, "seed": None}
        self.source_: dict[str, str | None] = {"dataset": None, "protocol": None, "split": None}
        self.metadata: dict[str, Any] = {}
        self.default_layer: int | None = None

    # ------------------------------------------------------------------ fitting
    def encode(
        self, texts: Sequence[str], show_progress: bool = False, description: str = "encoding"
    ) -> torch.Tensor:
        """Vectors ``[N, len(self.layers), H]`` with this classifier's settings."""
        return self.backbone.encode(
            texts,
            description=description,
            layers=self.layers,
            pooling=self.pooling,
            layer_norm=self.layer_norm,
            batch_size=self.batch_size,
            max_length=self.max_length,
            show_progress=show_progress,
        )

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[int],
        per_class: int | None = None,
        seed: int = 0,
        show_progress: bool = False,
    ) -> PrototypeClassifier:
        """Build prototypes from labelled texts (optionally ``per_class`` random ones each)."""
        data = LabeledTexts(list(texts), np.asarray(labels), name="fit")
        return self.fit_data(data, per_class=per_class, seed=seed, show_progress=show_progress)

    def fit_data(
        self,
        data: LabeledTexts,
        per_class: int | None = None,
        seed: int = 0,
        show_progress: bool = False,
    ) -> PrototypeClassifier:
        """Like :meth:`fit`, from a :class:`LabeledTexts`, recording its name, protocol and
        split as the prototypes' source (written by :meth:`save_pretrained`)."""
        if per_class is not None:
            data = sample_per_class(data, per_class, seed=seed)
        self.fit_vectors(self.encode(data.texts, show_progress), data.labels)
        self.sampling_ = {"per_class": per_class, "seed": seed if per_class is not None else None}
        self.source_ = {"dataset": data.name, "protocol": data.protocol, "split": data.split}
        return self

    def fit_vectors(self, vectors: torch.Tensor, labels: Sequence[int]) -> PrototypeClassifier:
        """Build prototypes from already-encoded ``vectors`` ``[N, len(layers), H]``."""
        labels = np.asarray(labels, dtype=np.int64)
        classes = np.unique(labels)
        if len(classes) < 2:
            raise HateprotoError(f"prototypes need at least two classes, got {classes.tolist()}")
        if vectors.shape[:2] != (len(labels), len(self.layers)):
            raise HateprotoError(
                f"vectors have shape {tuple(vectors.shape)}, expected "
                f"({len(labels)}, {len(self.layers)}, H)"
            )
        self.classes_ = classes
        self.prototypes_ = class_prototypes(vectors, labels, classes.tolist(), self.normalize)
        self.n_per_class_ = {int(c): int((labels == c).sum()) for c in classes}
        self.sampling_ = {"per_class": None, "seed": None}
        self.source_ = {"dataset": None, "protocol": None, "split": None}
        return self

    # ------------------------------------------------------------------ scoring
    def _check_fitted(self) -> torch.Tensor:
        if self.prototypes_ is None:
            raise HateprotoError("this PrototypeClassifier is not fitted yet: call fit() first")
        return self.prototypes_

    def layer_position(self, layer: int | None) -> int:
        """Position of ``layer`` among the fitted layers (``None`` → :attr:`default_layer` if
        set, else the last fitted layer)."""
        if layer is None:
            layer = self.default_layer
        if layer is None:
            return len(self.layers) - 1
        layer = self.backbone.resolve_layers([layer])[0]
        if layer not in self.layers:
            raise HateprotoError(f"no prototypes for layer {layer}; built for {self.layers}")
        return self.layers.index(layer)

    def similarities_from_vectors(self, vectors: torch.Tensor) -> torch.Tensor:
        """Cosine similarities ``[N, layers, C]`` of encoded vectors to every prototype."""
        return cosine_similarities(vectors, self._check_fitted())

    def similarities(self, texts: Sequence[str], layer: int | None = None) -> np.ndarray:
        """Cosine similarity ``[N, C]`` of each text to each class prototype at ``layer``."""
        sims = self.similarities_from_vectors(self.encode(texts))
        return sims[:, self.layer_position(layer)].numpy()

    def proba_from_similarities(self, similarities: np.ndarray | torch.Tensor) -> np.ndarray:
        """Softmax of ``similarities / temperature`` along the last axis (class order)."""
        sims = torch.as_tensor(similarities, dtype=torch.float32)
        return torch.softmax(sims / self.temperature, dim=-1).numpy()

    def predict_from_vectors(self, vectors: torch.Tensor, layer: int | None = None) -> np.ndarray:
        """:meth:`predict` for already-encoded ``vectors`` ``[N, len(layers), H]``."""
        sims = self.similarities_from_vectors(vectors)[:, self.layer_position(layer)]
        return self.classes_[sims.argmax(-1).numpy()]

    def predict_proba_from_vectors(
        self, vectors: torch.Tensor, layer: int | None = None
    ) -> np.ndarray:
        """:meth:`predict_proba` for already-encoded ``vectors`` ``[N, len(layers), H]``."""
        sims = self.similarities_from_vectors(vectors)[:, self.layer_position(layer)]
        return self.proba_from_similarities(sims)

    def predict_proba(self, texts: Sequence[str], layer: int | None = None) -> np.ndarray:
        """Softmax over similarities / temperature: ``[N, C]``, columns in ``classes_`` order."""
        return self.proba_from_similarities(self.similarities(texts, layer))

    def predict(self, texts: Sequence[str], layer: int | None = None) -> np.ndarray:
        """Class of the most similar prototype at ``layer`` (default: the last fitted layer)."""
        sims = self.similarities(texts, layer)
        return self.classes_[sims.argmax(axis=1)]

    def margin(self, texts: Sequence[str], layer: int | None = None) -> np.ndarray:
        """Top-1 minus top-2 similarity at ``layer`` (the early-exit confidence, Eq. 3)."""
        return similarity_margin(self.similarities(texts, layer))

    # ------------------------------------------------------------------ files
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``prototypes.safetensors`` and ``prototypes.json`` into ``directory``.

        The JSON records the backbone (reference, fingerprint, type, layers, width, prefix),
        the representation settings, class names, examples per class, the source data, the
        hateproto version, :attr:`metadata`, and the sha256 of the tensor file.
        """
        from hateproto.prototypes.files import save_prototypes

        return save_prototypes(self, directory)

    @classmethod
    def from_pretrained(
        cls,
        directory: str | Path,
        backbone: Backbone | None = None,
        dtype: str = "float32",
        device: str | None = None,
    ) -> PrototypeClassifier:
        """Load prototypes saved by :meth:`save_pretrained`.

        Args:
            directory: the folder holding ``prototypes.json`` and ``prototypes.safetensors``.
            backbone: the backbone to classify with; default: load the recorded reference.
            dtype: dtype used when the recorded backbone is loaded.
            device: where the backbone runs (``auto``, ``cpu``, ``cuda``, ``cuda:N``; default
                ``$HATEPROTO_DEVICE`` or ``auto``); a given ``backbone`` is moved there.

        Raises:
            MismatchError: ``backbone`` differs from the recorded one (fingerprint, hidden
                size, layer count, model type or prefix); the message names what differs.
            ModelError: a file is missing, truncated, edited or of an unknown format.
        """
        from hateproto.prototypes.files import load_prototypes, read_spec

        if backbone is None and device is not None:
            reference = read_spec(Path(directory)).backbone
            backbone = Backbone.load(reference, dtype=dtype, device=device)
        elif backbone is not None and device is not None:
            backbone.to(device)
        return load_prototypes(cls, directory, backbone=backbone, dtype=dtype)


def similarity_margin(similarities: np.ndarray | torch.Tensor) -> np.ndarray:
    """Top-1 minus top-2 value along the last axis."""
    sims = torch.as_tensor(similarities)
    top2 = sims.topk(2, dim=-1).values
    return (top2[..., 0] - top2[..., 1]).numpy()
