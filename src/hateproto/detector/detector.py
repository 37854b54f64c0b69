"""The :class:`Detector`: one object that turns texts into hate-speech decisions.

It wraps a backbone (frozen or fine-tuned) with per-layer class prototypes, or a fine-tuned
classifier checkpoint with its head, plus optional early-exit thresholds and metadata. It is
what ``hateproto classify`` and ``hateproto serve`` load.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hateproto.data.spelling import normalizer
from hateproto.detector.attributes import AttributeHeads
from hateproto.detector.calibration import DetectorCalibration
from hateproto.detector.components import ExitThresholds
from hateproto.detector.engines import EngineCache, build_engine
from hateproto.detector.explanation import layer_explanations
from hateproto.detector.inputs import scorable_texts
from hateproto.detector.loading import DetectorParts, parts_from_folder, parts_from_model
from hateproto.detector.manifest import DetectorManifest, artifact_version
from hateproto.detector.neighbours import ExampleBank, nearest_examples
from hateproto.detector.results import (
    DEFAULT_ATTRIBUTES,
    DEFAULT_LANGUAGES,
    DEFAULT_THRESHOLD,
    DetectorFacts,
    Explanation,
    Prediction,
    Scores,
)
from hateproto.detector.routing import identify_languages, routed_scores
from hateproto.detector.scoring import (
    score_at_last_layer,
    score_with_head,
    scores_from_engine,
)
from hateproto.detector.settings import (
    DetectorSettings,
    with_actual_dtype,
    without_emulated_bf16,
)
from hateproto.early_exit.policies import served_policy
from hateproto.errors import HateprotoError, ModelError
from hateproto.models.backbone import Backbone
from hateproto.prototypes import PrototypeClassifier

__all__ = ["Detector"]

WARM_UP_TEXTS = (
    "A short post.",
    "A somewhat longer post, so that a warm-up batch holds posts of different lengths.",
    "A long post. " * 40,  # over SHORT_TOKENS (64) tokens
)
"""What :meth:`Detector.warm_up` scores: short and long posts (over 64 tokens, where the
attention kernel changes), alone and in batches."""


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
        attribute_heads: AttributeHeads | None = None,
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
        self.attribute_heads = attribute_heads
        """Heads for further attributes (TOXICITY, INSULT...) on the same features
        (:mod:`.attributes`); ``None``: the detector answers hate only."""
        self.routes: dict[str, Detector] = {}
        """Language -> the detector that scores the posts identified as that language
        (:mod:`.routing`); empty: this detector scores every post."""
        self.neighbours: ExampleBank | None = None
        self.base_model: str | None = None
        """The portable name of the base model recorded by the folder this detector was
        loaded from (``None``: worked out from :attr:`model_reference`)."""
        self.version = "unsaved"
        """The detector by name and content hash (``<folder name>@sha256:<12 hex>`` of the
        ``detector.json`` it was read from or last written to; ``unsaved`` otherwise)."""
        self._engines = EngineCache()
        self._check_settings()
        if self.settings.compile and not backbone.is_compiled:
            self._warn_if_compile_is_unused()
            backbone.compile()
        elif not self.settings.compile and backbone.device.type == "cpu":
            backbone.pack_linears()  # faster, same kernel (models.packed_linear)

    @classmethod
    def from_parts(
        cls,
        parts: DetectorParts,
        settings: DetectorSettings | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Detector:
        """A detector from already loaded :class:`~hateproto.detector.loading.DetectorParts`."""
        return cls(
            parts.backbone,
            parts.prototypes,
            parts.classifier,
            parts.thresholds,
            settings,
            metadata,
            parts.reference,
            parts.calibration,
            parts.attribute_heads,
        )

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
        return cls.from_parts(parts_from_model(model, prototypes, settings, thresholds), settings)

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
        if overrides.get("dtype") == "auto":  # auto: the dtype recorded in the folder
            overrides.pop("dtype")
        settings = DetectorSettings.from_dict(
            {**manifest.settings.model_dump(), **overrides}, source=f"{folder} settings"
        )
        if "dtype" not in overrides:  # the recorded dtype: never an emulated bfloat16
            settings, reason = without_emulated_bf16(settings)
            if reason:
                warnings.warn(reason, stacklevel=2)
        parts = parts_from_folder(folder, manifest, settings, model)
        detector = cls.from_parts(parts, settings, manifest.metadata)
        detector.base_model = parts.base
        detector.version = artifact_version(folder)
        detector.routes = {
            language: cls.from_pretrained(folder / path, **overrides)
            for language, path in (manifest.routes or {}).items()
        }
        detector.neighbours = ExampleBank.load(folder, parts.backbone.fingerprint)
        if detector.neighbours is not None:
            layers = detector.prototypes.layers if detector.prototypes is not None else []
            detector.neighbours.check_fits(layers, parts.backbone.hidden_size, folder)
        return detector

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write this detector as a self-contained folder (format 2, ``docs/artifacts.md``),
        atomically; returns the folder. See :func:`hateproto.detector.writing.write_detector`.
        """
        from hateproto.detector.writing import write_detector

        written = write_detector(self, folder)
        self.version = artifact_version(written)
        return written

    def manifest(self) -> DetectorManifest:
        """The ``detector.json`` contents describing this detector (without ``files``,
        which :meth:`save_pretrained` adds)."""
        from hateproto.detector.writing import detector_manifest

        return detector_manifest(self)

    # ------------------------------------------------------------------ facts
    @property
    def settings(self) -> DetectorSettings:
        """How this detector decides (:class:`DetectorSettings`); ``dtype`` is always the
        one its weights are in (``auto`` is resolved when settings are assigned)."""
        return self._settings

    @settings.setter
    def settings(self, value: DetectorSettings) -> None:
        self._settings = with_actual_dtype(value, self.backbone)

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

    @property
    def threshold(self) -> float:
        """The decision threshold on ``hate_probability`` (the calibrated one, if any)."""
        return DEFAULT_THRESHOLD if self.calibration is None else self.calibration.threshold

    def facts(self) -> DetectorFacts:
        """What the service tells clients about this detector (:class:`DetectorFacts`)."""
        return DetectorFacts(
            model=self.manifest().model.reference,
            version=self.version,
            threshold=self.threshold,
            calibrated=self.calibration is not None,
            attributes=DEFAULT_ATTRIBUTES
            if self.attribute_heads is None
            else self.attribute_heads.answered(),
            languages=self._languages(),
        )

    def _languages(self) -> tuple[str, ...]:
        """The languages this detector (with its routes) is validated on."""
        own = tuple(self.metadata.get("languages", DEFAULT_LANGUAGES))
        return own + tuple(code for code in self.routes if code not in own)

    def info(self) -> dict[str, Any]:
        """A JSON-ready summary: model, prototypes, thresholds, settings, versions
        (:func:`hateproto.detector.writing.describe`)."""
        from hateproto.detector.writing import describe

        return describe(self)

    # ------------------------------------------------------------------ decisions
    def score_arrays(self, texts: Sequence[str]) -> Scores:
        """Decisions on ``texts`` as arrays; texts must be non-empty strings.

        With a :attr:`calibration`, ``proba`` is the calibrated hate probability and the label
        compares it with the calibrated decision threshold. With :attr:`routes`, the posts of
        a routed language are scored by its detector (:mod:`.routing`).
        """
        checked = scorable_texts(texts)
        if self.routes:
            return routed_scores(checked, self._languages(), self._own_scores, self.routes)
        return self._own_scores(checked)

    def _own_scores(self, texts: list[str], languages: Sequence[str] | None = None) -> Scores:
        """:meth:`score_arrays` by this detector itself (no routing). With per-language
        thresholds, each post's language (``languages``, or identified here) picks its
        threshold and is answered in the ``language`` field."""
        prepared = self._normalized(texts)
        scores = self._raw_scores(prepared)
        if self.calibration is not None:
            if self.calibration.language_thresholds and languages is None:
                languages = identify_languages(texts, self._languages())
            scores.labels, scores.proba = self.calibration.apply(scores.proba[:, 1], languages)
            if languages is not None:
                scores.languages = np.array(languages, dtype=object)
        if self.attribute_heads is not None and scores.attributes is None:
            scores.attributes = self.attribute_heads.probabilities(
                self._attribute_features(prepared)
            )
        return scores

    def _raw_scores(self, texts: list[str]) -> Scores:
        engine = self._engine()
        if engine == "head":
            heads = self.attribute_heads
            if heads is not None and heads.features != "head":
                heads = None  # they read other features: scored after (score_arrays)
            return score_with_head(self.classifier, texts, self.backbone.num_layers, heads)
        if engine == "last_layer":
            assert self.prototypes is not None
            return score_at_last_layer(
                self.backbone, self.prototypes, texts, self.settings.batch_size, self.max_length
            )
        return scores_from_engine(engine.run(texts))

    def score(self, texts: Sequence[str]) -> list[Prediction]:
        """One :class:`Prediction` (label, hate probability, margin, exit layer) per text."""
        if len(texts) == 0:
            return []
        return self.score_arrays(texts).predictions()

    def warm_up(self) -> Detector:
        """Score short and long posts, alone and in batches, so that lazy work (compiling
        each kind of shape with ``compile``, kernel set-up) happens now and not in the first
        real calls; a service calls it before it listens. A routed detector warms up its
        own model and every route's (the texts are English, so routing alone would reach
        only the English route). Returns ``self``."""
        short, medium, long = WARM_UP_TEXTS
        for texts in ([short], [long], [short, medium], [short, medium, long]):
            self._own_scores(list(texts))
        for route in {id(r): r for r in self.routes.values()}.values():
            route.warm_up()
        return self

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
        vectors = self._encode(self._normalized(scorable_texts([text])))
        layers = layer_explanations(self.prototypes, vectors, self.exit_thresholds())
        neighbours = nearest_examples(self, vectors[0], k)
        return Explanation(text, self.predict_one(text), self.decision_layer, layers, neighbours)

    # ------------------------------------------------------------------ internals
    def _normalized(self, texts: list[str]) -> list[str]:
        """``texts`` as the detector's ``normalize`` setting prepares them for the model."""
        prepare = normalizer(self.settings.normalize)
        return texts if self.settings.normalize == "none" else [prepare(t) for t in texts]

    def _attribute_features(self, texts: list[str]) -> torch.Tensor:
        """The features the attribute heads read, when the decision did not compute them:
        the classifier's pooled features, or the prototype layers (pooled, each
        L2-normalised, concatenated)."""
        assert self.attribute_heads is not None
        if self.attribute_heads.features == "head":
            if self.classifier is None:
                raise ModelError("the attribute heads read a classifier's features; none here")
            return self.classifier.encode(texts)
        return torch.nn.functional.normalize(self._encode(texts).float(), dim=-1).flatten(1)

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
        """The engine for the current settings (:func:`.engines.build_engine`); rebuilt when
        the settings change or :attr:`thresholds`, :attr:`prototypes` or :attr:`classifier`
        is replaced by another object (:class:`.engines.EngineCache`)."""
        parts = (self.thresholds, self.prototypes, self.classifier)
        engine = self._engines.get(self.settings, parts)
        if engine is None:
            head = self.classifier if self.decides_with == "head" else None
            exits, depth = self.exit_thresholds(), self.backbone.num_layers
            args = (self.decision_layer, depth, self.settings, self.max_length)
            engine = build_engine(self.prototypes, head, exits, *args)
            self._engines.put(self.settings, parts, engine)
        return engine

    def _warn_if_compile_is_unused(self) -> None:
        """``compile`` speeds up plain forward passes only (a head, or prototypes at the last
        layer): say so when this detector steps layer by layer instead."""
        full_depth = self.decides_with == "head" or self.decision_layer == self.backbone.num_layers
        if self.settings.early_exit or not full_depth:
            where = "with early exit" if self.settings.early_exit else "below the last layer"
            warnings.warn(
                f"compile has no effect here: this detector decides {where} (layer by layer), "
                "and compile speeds up plain forward passes (a head, or prototypes at the "
                f"last layer, {self.backbone.num_layers}, without early exit)",
                stacklevel=3,
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
        if self.settings.early_exit:
            served_policy(self.settings.exit_policy)  # an unknown name fails here
        if self.settings.early_exit and self.exit_thresholds() is None:
            raise ModelError(
                "early exit needs a margin threshold: pass delta (--delta X) or use a detector "
                "with calibrated thresholds"
            )
