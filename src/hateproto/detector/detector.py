"""The :class:`Detector`: one object that turns texts into hate-speech decisions.

It wraps a backbone (frozen or fine-tuned) with per-layer class prototypes, or a fine-tuned
classifier checkpoint with its head, plus optional early-exit thresholds and metadata. It is
what ``hateproto classify`` and ``hateproto serve`` load.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hateproto.data.types import LABEL_NAMES
from hateproto.detector.calibration import CALIBRATION_FILE, DetectorCalibration
from hateproto.detector.components import (
    THRESHOLDS_FILE,
    ExitThresholds,
    early_exit_engine,
    fixed_layer_engine,
    is_classifier_checkpoint,
    load_classifier,
    load_prototypes,
    load_thresholds,
    save_prototypes,
)
from hateproto.detector.manifest import FORMAT_VERSION, DetectorManifest, ModelRecord
from hateproto.detector.neighbours import ExampleBank, nearest_examples
from hateproto.detector.policy import policy_info
from hateproto.detector.results import Explanation, LayerExplanation, Prediction
from hateproto.detector.settings import DetectorSettings
from hateproto.errors import HateprotoError, MismatchError, ModelError
from hateproto.models.backbone import Backbone, validate_texts
from hateproto.models.device import place
from hateproto.prototypes import PrototypeClassifier
from hateproto.prototypes.classifier import cosine_similarities

PROTOTYPES_DIR = "prototypes"


@dataclass
class Scores:
    """Decisions on a batch as arrays (the fast path behind :meth:`Detector.score`).

    ``proba`` is ``[N, 2]`` (columns not_hate, hate); the others are ``[N]``.
    """

    labels: np.ndarray
    proba: np.ndarray
    margins: np.ndarray
    exit_layers: np.ndarray

    def predictions(self) -> list[Prediction]:
        """One :class:`Prediction` per row."""
        return [
            Prediction.from_scores(label, proba[1], margin, layer)
            for label, proba, margin, layer in zip(
                self.labels, self.proba, self.margins, self.exit_layers, strict=True
            )
        ]


class Detector:
    """A hate-speech detector: model + optional prototypes + optional early-exit thresholds.

    Build one with :meth:`from_pretrained` (a detector folder), :meth:`from_model` (a model and
    a prototypes folder) or ``hateproto detector build``; save it with :meth:`save_pretrained`.

    Example:
        >>> detector = Detector.from_pretrained("detectors/ihc-minilm")  # doctest: +SKIP
        >>> detector.predict(["they are vermin", "nice weather"])        # doctest: +SKIP
        array([1, 0])
        >>> detector.score(["they are vermin"])[0].to_dict()             # doctest: +SKIP
        {'label': 'hate', 'label_id': 1, 'hate_probability': 0.93, 'margin': 0.11, 'exit_layer': 6}
    """

    def __init__(
        self,
        backbone: Backbone,
        prototypes: PrototypeClassifier | None = None,
        classifier: Any | None = None,
        thresholds: ExitThresholds | None = None,
        settings: DetectorSettings | None = None,
        metadata: dict[str, Any] | None = None,
        model_reference: str | None = None,
        calibration: DetectorCalibration | None = None,
    ) -> None:
        if prototypes is None and classifier is None:
            raise ModelError("a detector needs prototypes or a fine-tuned classifier head")
        if prototypes is not None and prototypes.prototypes_ is None:
            raise ModelError("the detector's prototypes are not fitted")
        self.backbone = backbone
        self.prototypes = prototypes
        self.classifier = classifier
        self.thresholds = thresholds
        self.settings = settings or DetectorSettings()
        self.metadata = dict(metadata or {})
        self.model_reference = model_reference or backbone.info.name_or_path
        self.calibration = calibration
        self.neighbours: ExampleBank | None = None
        self._engine_cache: tuple[Any, Any] | None = None
        self._check_settings()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_model(
        cls,
        model: str | None = None,
        prototypes: str | Path | None = None,
        settings: DetectorSettings | None = None,
        thresholds: str | Path | None = None,
    ) -> Detector:
        """A detector from a model reference and/or a prototypes folder.

        Without prototypes, ``model`` must be a fine-tuned classifier checkpoint; without a
        model, the backbone the prototypes record is loaded.
        """
        settings = settings or DetectorSettings()
        if model is None and prototypes is None:
            raise ModelError("give a model, a prototypes folder, or both")
        if model is None:
            protos = load_prototypes(prototypes, None, settings.device)
            backbone, classifier = protos.backbone, None
            model = protos.backbone.info.name_or_path
        else:
            with_head = prototypes is None or is_classifier_checkpoint(model)
            backbone, classifier = load_model(model, settings.dtype, with_head, settings.device)
            protos = load_prototypes(prototypes, backbone) if prototypes is not None else None
        exits = load_thresholds(thresholds, backbone.fingerprint) if thresholds else None
        return cls(backbone, protos, classifier, exits, settings, model_reference=model)

    @classmethod
    def from_pretrained(
        cls, folder: str | Path, model: str | None = None, **overrides: Any
    ) -> Detector:
        """Load a detector folder written by :meth:`save_pretrained`.

        Args:
            folder: the detector folder.
            model: load the model from here instead of the stored reference (for a detector
                moved to another machine); its weights must have the stored fingerprint.
            overrides: settings to change (``early_exit=True, delta=0.1``, ``batch_size=64``).
        """
        folder = Path(folder)
        manifest = DetectorManifest.read(folder)
        settings = DetectorSettings.from_dict(
            {**manifest.settings.model_dump(), **overrides}, source=f"{folder} settings"
        )
        reference = model or manifest.model.reference
        with_head = manifest.prototypes is None or is_classifier_checkpoint(reference)
        backbone, classifier = load_model(
            reference, settings.dtype, with_head=with_head, device=settings.device
        )
        if backbone.fingerprint != manifest.model.fingerprint:
            raise MismatchError(
                f"{folder}: the detector was built on weights with fingerprint "
                f"{manifest.model.fingerprint}, but {reference} has {backbone.fingerprint}"
            )
        protos = (
            load_prototypes(folder / manifest.prototypes, backbone) if manifest.prototypes else None
        )
        exits = (
            load_thresholds(folder / manifest.thresholds, backbone.fingerprint)
            if manifest.thresholds
            else None
        )
        calibration = None
        if manifest.calibration:
            calibration = DetectorCalibration.load(folder / manifest.calibration)
        detector = cls(
            backbone, protos, classifier, exits, settings, manifest.metadata, reference, calibration
        )
        detector.neighbours = ExampleBank.load(folder, backbone.fingerprint)
        return detector

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write this detector as a folder (``detector.json``, ``prototypes/``,
        ``early_exit.json``, ``calibration.json``); the model itself is referenced, not copied.
        Returns the folder.

        The folder is assembled beside its destination and swapped in atomically
        (:func:`hateproto.outputs.replace_folder`), so a reader sees the old detector or the
        new one, complete, never a mix.
        """
        from hateproto.outputs import replace_folder

        return replace_folder(folder, self._write_folder)

    def _write_folder(self, staging: Path) -> None:
        staging.mkdir(parents=True)
        if self.prototypes is not None:
            save_prototypes(self.prototypes, staging / PROTOTYPES_DIR)
        if self.thresholds is not None:
            self.thresholds.save(staging)
        if self.calibration is not None:
            self.calibration.save(staging)
        if self.neighbours is not None:
            self.neighbours.save(staging)
        self.manifest().write(staging)

    def manifest(self) -> DetectorManifest:
        """The ``detector.json`` contents describing this detector."""
        from hateproto.provenance import hateproto_version

        info = self.backbone.info
        return DetectorManifest(
            format_version=FORMAT_VERSION,
            hateproto_version=hateproto_version(),
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            model=ModelRecord(
                reference=_portable_reference(self.model_reference),
                kind="classifier" if self.classifier is not None else "backbone",
                fingerprint=self.backbone.fingerprint,
                family=info.family,
                num_layers=info.num_layers,
                hidden_size=info.hidden_size,
            ),
            settings=self.settings,
            prototypes=PROTOTYPES_DIR if self.prototypes is not None else None,
            thresholds=THRESHOLDS_FILE if self.thresholds is not None else None,
            calibration=CALIBRATION_FILE if self.calibration is not None else None,
            metadata=self.metadata,
        )

    # ------------------------------------------------------------------ facts
    @property
    def decides_with(self) -> str:
        """``head`` or ``prototypes``: what decides when early exit is off (and what decides
        rows that never exit early: the head, or the deepest prototypes)."""
        wanted = self.settings.decide_with
        if wanted == "auto":
            return "head" if self.classifier is not None else "prototypes"
        return wanted

    @property
    def decision_layer(self) -> int:
        """The layer that decides when early exit is off (``L`` for a classifier head)."""
        if self.decides_with == "head":
            return self.backbone.num_layers
        chosen = self.settings.decision_layer
        if chosen is None:
            chosen = self.prototypes.default_layer
        return self.prototypes.layers[-1] if chosen is None else chosen

    @property
    def max_length(self) -> int:
        """Tokens per text: the setting, capped at what the model's positions allow."""
        limits = [self.settings.max_length]
        model_max = getattr(self.backbone.tokenizer, "model_max_length", None)
        if isinstance(model_max, int) and model_max < 1_000_000:
            limits.append(model_max)
        positions = getattr(self.backbone.model.config, "max_position_embeddings", None)
        if isinstance(positions, int) and positions > 0:
            limits.append(positions)
        return min(limits)

    def exit_thresholds(self) -> dict[int, float] | None:
        """``{layer: delta}`` early exit uses now (``delta`` for every prototype layer below
        the last, or the calibrated ones); ``None`` when early exit is off."""
        if not self.settings.early_exit or self.prototypes is None:
            return None
        if self.settings.delta is not None:
            last = self.backbone.num_layers
            return {layer: self.settings.delta for layer in self.prototypes.layers if layer < last}
        return self.thresholds.finite() if self.thresholds is not None else None

    def info(self) -> dict[str, Any]:
        """A JSON-ready summary: model, prototypes, thresholds, settings, versions."""
        manifest = self.manifest()
        protos = None
        if self.prototypes is not None:
            protos = {
                "layers": self.prototypes.layers,
                "per_class": self.prototypes.n_per_class_,
                "pooling": self.prototypes.pooling,
                "temperature": self.prototypes.temperature,
            }
        exits = self.exit_thresholds()
        return {
            "format_version": manifest.format_version,
            "hateproto_version": manifest.hateproto_version,
            "model": manifest.model.model_dump(),
            "decision_layer": self.decision_layer,
            "prototypes": protos,
            "early_exit": self.settings.early_exit,
            "decides_with": self.decides_with,
            "thresholds": None if exits is None else {str(k): v for k, v in exits.items()},
            "calibration": None
            if self.calibration is None
            else {
                "threshold": self.calibration.threshold,
                **{k: v for k, v in self.calibration.dev.items() if k != "reliability"},
            },
            "settings": self.settings.model_dump(),
            "metadata": self.metadata,
            **policy_info(self.metadata, self.calibration),
        }

    # ------------------------------------------------------------------ decisions
    def score_arrays(self, texts: Sequence[str]) -> Scores:
        """Decisions on ``texts`` as arrays; texts must be non-empty strings.

        With a :attr:`calibration`, ``proba`` is the calibrated hate probability and the label
        compares it with the calibrated decision threshold.
        """
        scores = self._raw_scores(validate_texts(texts))
        if self.calibration is not None:
            scores.labels, scores.proba = self.calibration.apply(scores.proba[:, 1])
        return scores

    def _raw_scores(self, texts: list[str]) -> Scores:
        engine = self._engine()
        if engine == "head":
            return self._score_with_head(texts)
        if engine == "last_layer":
            return self._score_at_last_layer(texts)
        result = engine.run(texts)
        return Scores(
            labels=np.asarray(result.labels),
            proba=_as_binary_proba(np.asarray(result.proba), np.asarray(result.classes)),
            margins=np.asarray(result.margins, dtype=np.float64),
            exit_layers=np.asarray(result.exit_layers),
        )

    def score(self, texts: Sequence[str]) -> list[Prediction]:
        """One :class:`Prediction` (label, hate probability, margin, exit layer) per text."""
        if len(texts) == 0:
            return []
        return self.score_arrays(texts).predictions()

    def predict_one(self, text: str) -> Prediction:
        """The :class:`Prediction` for a single text."""
        return self.score([text])[0]

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Labels (1 = hate, 0 = not hate), one per text."""
        return self.score_arrays(texts).labels

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities ``[N, 2]`` (columns: not hate, hate)."""
        return self.score_arrays(texts).proba

    def explain(self, text: str, k: int = 5) -> Explanation:
        """Per-class similarity and margin at every prototype layer, the decision, and the
        ``k`` stored examples nearest at the decision layer (if the detector keeps examples).

        Example:
            >>> detector.explain("they are vermin").layers[-1].similarities  # doctest: +SKIP
            {'not_hate': 0.41, 'hate': 0.57}
        """
        if self.prototypes is None:
            raise HateprotoError(
                "explain needs prototypes; this detector decides with a classifier head only "
                "(build one with prototypes: `hateproto detector build`)"
            )
        vectors = self._encode(validate_texts([text]))
        sims = self.prototypes.similarities_from_vectors(vectors)[0]
        exits = self.exit_thresholds()
        names = [LABEL_NAMES[int(c)] for c in self.prototypes.classes_]
        layers = []
        for position, layer in enumerate(self.prototypes.layers):
            row = sims[position]
            top2 = row.topk(2).values
            layers.append(
                LayerExplanation(
                    layer=layer,
                    similarities={n: float(v) for n, v in zip(names, row.tolist(), strict=True)},
                    margin=float(top2[0] - top2[1]),
                    label=names[int(row.argmax())],
                    threshold=None if exits is None else exits.get(layer),
                )
            )
        neighbours = nearest_examples(self, vectors[0], k)
        return Explanation(text, self.predict_one(text), self.decision_layer, layers, neighbours)

    # ------------------------------------------------------------------ internals
    def _encode(self, texts: list[str]) -> torch.Tensor:
        assert self.prototypes is not None
        return self.backbone.encode(
            texts,
            layers=self.prototypes.layers,
            pooling=self.prototypes.pooling,
            layer_norm=self.prototypes.layer_norm,
            batch_size=self.settings.batch_size,
            max_length=self.max_length,
        )

    def _engine(self) -> Any:
        """The layer-by-layer engine for the current settings, or ``"head"`` / ``"last_layer"``
        when the whole model runs anyway (a plain forward pass is faster then). Rebuilt when
        settings or thresholds change."""
        key = (self.settings.model_dump_json(), id(self.thresholds), id(self.prototypes))
        if self._engine_cache is not None and self._engine_cache[0] == key:
            return self._engine_cache[1]
        exits = self.exit_thresholds()
        batch, length = self.settings.batch_size, self.max_length
        if exits is not None:
            head = self.classifier if self.decides_with == "head" else None
            engine = early_exit_engine(
                self.prototypes, exits, head, batch, length, self.settings.min_exit_layer
            )
        elif self.decides_with == "head":
            engine = "head"
        elif self.decision_layer == self.backbone.num_layers:
            engine = "last_layer"
        else:
            engine = fixed_layer_engine(self.prototypes, self.decision_layer, batch, length)
        self._engine_cache = (key, engine)
        return engine

    def _score_at_last_layer(self, texts: list[str]) -> Scores:
        """Prototypes of the last layer after one plain forward pass."""
        assert self.prototypes is not None
        last = self.backbone.num_layers
        position = self.prototypes.layers.index(last)
        vectors = self.backbone.encode(
            texts,
            layers=[last],
            pooling=self.prototypes.pooling,
            layer_norm=self.prototypes.layer_norm,
            batch_size=self.settings.batch_size,
            max_length=self.max_length,
        )
        sims = cosine_similarities(vectors, self.prototypes.prototypes_[position : position + 1])
        sims = sims[:, 0].double()
        top2 = sims.topk(2, dim=-1).values
        proba = torch.softmax(sims / self.prototypes.temperature, dim=-1).numpy()
        classes = np.asarray(self.prototypes.classes_)
        return Scores(
            labels=classes[sims.argmax(-1).numpy()],
            proba=_as_binary_proba(proba, classes),
            margins=(top2[:, 0] - top2[:, 1]).numpy(),
            exit_layers=np.full(len(texts), last),
        )

    def _score_with_head(self, texts: list[str]) -> Scores:
        proba = np.asarray(self.classifier.predict_proba(texts), dtype=np.float64)
        ordered = np.sort(proba, axis=1)
        return Scores(
            labels=proba.argmax(axis=1),
            proba=proba,
            margins=ordered[:, -1] - ordered[:, -2],
            exit_layers=np.full(len(texts), self.backbone.num_layers),
        )

    def _check_settings(self) -> None:
        if self.decides_with == "head" and self.classifier is None:
            raise ModelError("decide_with 'head' needs a fine-tuned classifier checkpoint")
        if self.prototypes is None:
            if self.settings.early_exit:
                raise ModelError("early exit needs prototypes; this detector has none")
            if self.decides_with == "prototypes":
                raise ModelError(
                    "decide_with 'prototypes' needs prototypes; this detector has none"
                )
            return
        if self.decision_layer not in self.prototypes.layers:
            raise ModelError(
                f"decision layer {self.decision_layer} has no prototypes; they exist for "
                f"layers {self.prototypes.layers}"
            )
        if self.settings.early_exit and self.exit_thresholds() is None:
            raise ModelError(
                "early exit needs a margin threshold: pass delta (--delta X) or use a detector "
                "with calibrated thresholds"
            )


def load_model(
    reference: str, dtype: str, with_head: bool, device: str | None = None
) -> tuple[Backbone, Any | None]:
    """Load ``reference`` as a backbone, or as a classifier (and its backbone) if asked, on
    ``device`` (default: ``$HATEPROTO_DEVICE`` or ``auto``)."""
    if with_head:
        if not is_classifier_checkpoint(reference):
            raise ModelError(
                f"{reference} has no classification head (hateproto_classifier.json); give "
                "prototypes too (--prototypes DIR) or use a fine-tuned classifier checkpoint"
            )
        classifier = place(load_classifier(reference, dtype), device)
        return classifier.backbone, classifier
    return Backbone.load(reference, dtype=dtype, device=device), None


def _portable_reference(reference: str) -> str:
    """Keep aliases and hub ids as they are; turn local paths into absolute ones."""
    from hateproto.models.fetch import DEFAULT_MODELS

    if reference in DEFAULT_MODELS:
        return reference
    path = Path(reference).expanduser()
    return str(path.resolve()) if path.exists() else reference


def _as_binary_proba(proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Columns (not hate, hate) from columns in ``classes`` order."""
    out = np.zeros((len(proba), 2), dtype=np.float64)
    for column, cls in enumerate(classes):
        out[:, int(cls)] = proba[:, column]
    return out
