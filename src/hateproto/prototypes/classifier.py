"""HatePrototypes: per-layer class means of a backbone's representations, used by cosine
similarity.

``fit`` encodes labelled texts once (every requested layer in one forward pass), and keeps,
for each layer ``l`` and class ``c``, the prototype ``p[l, c]``: the mean of the
L2-normalised vectors of class ``c`` (``normalize="example"``, default) or the normalised mean
of the raw vectors (``normalize="mean"``). A text is assigned to the class whose prototype is
most cosine-similar at the chosen layer; ``predict_proba`` is a softmax over the similarities
divided by ``temperature``. The maths lives in :mod:`hateproto.prototypes.similarity`.

``save_pretrained(dir)`` writes ``prototypes.safetensors`` and ``prototypes.json`` (see
:mod:`hateproto.prototypes.files`); ``from_pretrained(dir, backbone)`` restores the classifier
and refuses a backbone that is not the one the prototypes were built from.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin

from hateproto.data.sampling import sample_per_class
from hateproto.data.types import LabeledTexts
from hateproto.errors import HateprotoError
from hateproto.models.backbone import Backbone
from hateproto.prototypes.estimator import (
    GivenParams,
    ModelLoader,
    ModelParam,
    ResolvedParam,
    keep_params,
    labeled_texts,
    warn_deprecated,
)
from hateproto.prototypes.files import (
    PrototypeSpec,
    load_prototype_files,
    save_prototype_files,
    spec_of_classifier,
)
from hateproto.prototypes.similarity import (
    Normalize,
    class_prototypes,
    cosine_similarities,
    similarity_margin,
)

__all__ = [
    "PrototypeClassifier",
    "class_prototypes",
    "cosine_similarities",
    "similarity_margin",
]

_UNSET: Any = object()


class PrototypeClassifier(GivenParams, ClassifierMixin, BaseEstimator):
    """Classify texts by cosine similarity to per-layer class prototypes.

    A scikit-learn estimator: hyper-parameters in ``__init__``, ``fit(X, y)`` with ``X`` texts
    and ``y`` labels, ``predict`` / ``predict_proba`` / ``score``, ``get_params`` /
    ``set_params``, ``sklearn.base.clone``, ``check_is_fitted`` and ``GridSearchCV`` work.

    Args:
        model: the backbone: a reference (``"minilm"``, a hub id, folder or checkpoint; loaded
            on first use, with ``dtype`` and ``device``) or a loaded
            :class:`~hateproto.models.Backbone` (frozen, fine-tuned or guard).
        layers: layers to build prototypes for ("all", "last", or indices; 0 = embeddings).
        pooling, layer_norm: representation settings (default: the backbone's).
        normalize: ``example`` (normalise each example, then average; default) or ``mean``.
        temperature: softmax temperature of :meth:`predict_proba`.
        per_class, seed: build from ``per_class`` random examples of each class (seeded);
            ``None`` = every example.

    ``get_params`` returns the arguments as given; the attributes ``backbone``, ``layers``,
    ``pooling`` and ``layer_norm`` hold the resolved values (the loaded backbone, the layer
    numbers, the backbone's default pooling...).

    Attributes set by fitting: ``prototypes_`` ``[layers, C, H]``, ``classes_``,
    ``n_per_class_``, ``sampling_`` (per_class, seed), ``source_`` (dataset, protocol, split).
    Free to set: ``metadata`` (a JSON-able dict carried through save/load) and
    ``default_layer`` (the layer used when none is given; default the last fitted one).

    Example:
        >>> clf = PrototypeClassifier(model="minilm", layers="all", per_class=50)  # doctest: +SKIP
        >>> clf.fit(train.texts, train.labels).predict(["some post"])            # doctest: +SKIP
        >>> from sklearn.model_selection import GridSearchCV                     # doctest: +SKIP
        >>> GridSearchCV(clf, {"temperature": [0.05, 0.1]}, cv=2).fit(X, y)      # doctest: +SKIP
    """

    layers = ResolvedParam(
        lambda self, given: self.backbone.resolve_layers(given),
        "The layer numbers of the ``layers`` given (``all`` -> ``1..L``).",
    )
    pooling = ResolvedParam(
        lambda self, given: given or self.backbone.info.default_pooling,
        "The pooling given, else the backbone's default.",
    )
    layer_norm = ResolvedParam(
        lambda self, given: given or self.backbone.info.default_layer_norm,
        "The layer normalisation given, else the backbone's default.",
    )

    def __init__(
        self,
        model: ModelParam = None,
        layers: Sequence[int] | str | None = "all",
        pooling: str | None = None,
        layer_norm: str | None = None,
        normalize: Normalize = "example",
        temperature: float = 0.05,
        batch_size: int = 32,
        max_length: int = 256,
        per_class: int | None = None,
        seed: int = 0,
        dtype: str = "float32",
        device: str | None = None,
    ) -> None:
        if not temperature > 0:
            raise HateprotoError(f"temperature must be positive, got {temperature}")
        self._loader = ModelLoader()
        keep_params(self, locals())
        self.metadata: dict[str, Any] = {}
        self.default_layer: int | None = None
        # fitted state, None/empty until fit (callers test `prototypes_ is None`)
        self.classes_: np.ndarray | None = None
        self.prototypes_: torch.Tensor | None = None
        self.n_per_class_: dict[int, int] = {}
        self.sampling_: dict[str, int | None] = {"per_class": None, "seed": None}
        self.source_: dict[str, str | None] = {"dataset": None, "protocol": None, "split": None}

    # ------------------------------------------------------------------ resolved settings
    @property
    def backbone(self) -> Backbone:
        """The live backbone: ``model`` itself, or the one it names (loaded once)."""
        return self._loader.get(self.model, self.dtype, self.device, "PrototypeClassifier")

    @backbone.setter
    def backbone(self, value: Backbone) -> None:
        self.model = value

    def with_backbone(self, backbone: Backbone) -> PrototypeClassifier:
        """A copy of this classifier on ``backbone`` (e.g. the same weights in another dtype);
        the fitted prototypes are shared, ``self`` is unchanged."""
        import copy

        twin = copy.copy(self)
        twin.__dict__["_given"] = dict(self._given_params())
        twin._loader = ModelLoader()
        twin.backbone = backbone
        return twin

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once it has prototypes (by :meth:`fit` or :meth:`from_pretrained`)."""
        return getattr(self, "prototypes_", None) is not None

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
            layer_norm=self.layer_norm,  # type: ignore[arg-type]
            batch_size=self.batch_size,
            max_length=self.max_length,
            show_progress=show_progress,
        )

    def fit(
        self,
        X: Sequence[str],  # noqa: N803 - the scikit-learn name
        y: Sequence[int] | np.ndarray,
        per_class: int | None = _UNSET,
        seed: int = _UNSET,
        show_progress: bool = False,
    ) -> PrototypeClassifier:
        """Build prototypes from texts ``X`` and labels ``y`` (``per_class`` random ones of
        each class if set in ``__init__``).

        ``fit(X, y, per_class=..., seed=...)`` still works for one release, with a
        :class:`DeprecationWarning`: give them to ``PrototypeClassifier(...)`` instead.
        """
        if per_class is not _UNSET or seed is not _UNSET:
            warn_deprecated(
                "PrototypeClassifier.fit(texts, labels, per_class=..., seed=...)",
                "PrototypeClassifier(model, per_class=..., seed=...).fit(texts, labels)",
            )
        per_class = self.per_class if per_class is _UNSET else per_class
        seed = self.seed if seed is _UNSET else seed
        data = labeled_texts(X, y)
        return self.fit_data(data, per_class=per_class, seed=seed, show_progress=show_progress)

    def fit_data(
        self,
        data: LabeledTexts,
        per_class: int | None = _UNSET,
        seed: int = _UNSET,
        show_progress: bool = False,
    ) -> PrototypeClassifier:
        """Like :meth:`fit`, from a :class:`LabeledTexts`, recording its name, protocol and
        split as the prototypes' source (written by :meth:`save_pretrained`); ``per_class``
        and ``seed`` default to this classifier's."""
        per_class = self.per_class if per_class is _UNSET else per_class
        seed = self.seed if seed is _UNSET else seed
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
        prototypes = getattr(self, "prototypes_", None)
        if prototypes is None:
            raise HateprotoError("this PrototypeClassifier is not fitted yet: call fit() first")
        return prototypes

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
        return save_prototype_files(
            directory, self._check_fitted(), partial(spec_of_classifier, self)
        )

    @classmethod
    def from_pretrained(
        cls,
        directory: str | Path,
        backbone: Backbone | None = None,
        dtype: str = "float32",
        device: str | None = None,
    ) -> PrototypeClassifier:
        """Load prototypes saved by :meth:`save_pretrained` (a fitted classifier).

        Args:
            directory: the folder holding ``prototypes.json`` and ``prototypes.safetensors``.
            backbone: the backbone to classify with; default: load the recorded reference
                (then ``model`` is that reference, so a clone loads it again).
            dtype: dtype used when the recorded backbone is loaded.
            device: where the backbone runs (``auto``, ``cpu``, ``cuda``, ``cuda:N``; default
                ``$HATEPROTO_DEVICE`` or ``auto``); a given ``backbone`` is moved there.

        Raises:
            MismatchError: ``backbone`` differs from the recorded one (fingerprint, hidden
                size, layer count, model type or prefix); the message names what differs.
            ModelError: a file is missing, truncated, edited or of an unknown format.
        """
        if backbone is not None and device is not None:
            backbone.to(device)
        spec, tensor, live = load_prototype_files(Path(directory), backbone, dtype, device)
        clf = cls(
            backbone if backbone is not None else spec.backbone,
            layers=spec.layers,
            pooling=spec.pooling,
            layer_norm=spec.layer_norm,
            normalize=spec.normalize,  # type: ignore[arg-type]
            temperature=spec.temperature,
            batch_size=spec.batch_size,
            max_length=spec.max_length,
            per_class=spec.per_class,
            seed=spec.seed if spec.seed is not None else 0,
            dtype=dtype,
            device=device,
        )
        if backbone is None:
            clf._loader.put(spec.backbone, dtype, device, live)
        clf._restore(spec, tensor)
        return clf

    def _restore(self, spec: PrototypeSpec, tensor: torch.Tensor) -> None:
        """Set the fitted state recorded in ``spec`` (checked by the file reader)."""
        self.prototypes_ = tensor
        self.classes_ = np.asarray(spec.classes, dtype=np.int64)
        self.n_per_class_ = {int(k): v for k, v in spec.examples_per_class.items()}
        self.sampling_ = {"per_class": spec.per_class, "seed": spec.seed}
        self.source_ = {
            "dataset": spec.source_dataset,
            "protocol": spec.source_protocol,
            "split": spec.source_split,
        }
        self.metadata = dict(spec.metadata)
        self.default_layer = spec.default_layer
