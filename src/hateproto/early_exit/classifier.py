"""The early-exit classifier: a backbone, an exit policy, and the engine loop.

A scikit-learn-style estimator: ``fit(X, y)`` builds per-layer prototypes of the texts and a
prototype-margin exit policy (HatePrototypes Eq. 3); a policy given to ``__init__`` (entropy
or patience gates, calibrated margins...) makes it ready without fitting.

Example:
    >>> from hateproto.early_exit import EarlyExitClassifier
    >>> clf = EarlyExitClassifier(model="minilm", delta=0.05, per_class=50)     # doctest: +SKIP
    >>> clf.fit(train.texts, train.labels).predict(["some post"])               # doctest: +SKIP
    >>> clf.save_pretrained("exits/ihc")                                        # doctest: +SKIP
    >>> EarlyExitClassifier.from_pretrained("exits/ihc").predict(["a post"])    # doctest: +SKIP
    >>> EarlyExitClassifier.from_prototypes(protos, delta=0.05)  # fitted ones  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from hateproto.data.types import LabeledTexts
from hateproto.early_exit.engine import ExitResult, run_early_exit
from hateproto.early_exit.policies import ExitPolicy, PrototypeMarginPolicy, served_policy
from hateproto.early_exit.scorers import HeadScorer, LayerScorer, PrototypeScorer
from hateproto.early_exit.thresholds import THRESHOLDS_FILE, ExitThresholds
from hateproto.early_exit.timing import interleaved_timings, load_average
from hateproto.errors import HateprotoError, ModelError
from hateproto.evaluation import classification_metrics
from hateproto.models.backbone import Backbone
from hateproto.models.stepping import LayerRunner
from hateproto.prototypes.classifier import PrototypeClassifier
from hateproto.prototypes.estimator import ModelLoader, ModelParam, keep_params

PROTOTYPES_DIR = "prototypes"
Delta = float | Mapping[int, float] | ExitThresholds
_PROTOTYPE_PARAMS = (
    *("layers", "pooling", "layer_norm", "temperature"),
    *("batch_size", "max_length", "per_class", "seed"),
)
"""The parameters :meth:`EarlyExitClassifier.fit` passes on to its PrototypeClassifier."""


class EarlyExitClassifier(ClassifierMixin, BaseEstimator):
    """Classify texts layer by layer, letting each example leave as soon as the policy allows.

    Args:
        model: the backbone: a reference (``"minilm"``, hub id, folder, checkpoint; loaded on
            first use) or a loaded :class:`~hateproto.models.Backbone`.
        policy: a ready :class:`~hateproto.early_exit.policies.ExitPolicy`; then the
            classifier needs no fitting. Leave ``None`` to build a prototype-margin policy in
            :meth:`fit`.
        batch_size: rows per batch (texts are sorted by length, as in ``Backbone.encode``).
        max_length: truncation length in tokens.
        layers, pooling, layer_norm, temperature, per_class, seed: the prototypes ``fit``
            builds (see :class:`~hateproto.prototypes.PrototypeClassifier`).
        delta: exit margin: one delta, ``{layer: delta}`` or calibrated
            :class:`ExitThresholds`; ``inf`` (default) never exits early.
        min_layer: no early exit before this layer.
        head: the full-model fallback at the last layer (a scorer or a fine-tuned
            ``HateClassifier``); default: the last layer's prototypes.
        refill: keep batches full as rows exit, by merging the survivors of consecutive
            batches that reached the same layer (fewer, fuller layer calls: for GPUs; on a
            CPU it did not pay, see ``benchmarks/results/early-exit-refill-cpu.md``).
        exit_policy: how ``delta`` is used, a name of
            :data:`~hateproto.early_exit.policies.SERVED_POLICIES` (``margin``: HatePrototypes'
            prototype margin).

    Attributes set by fitting: ``prototypes_`` (a PrototypeClassifier), ``policy_`` (the
    policy in use; ``policy`` itself when one was given) and ``classes_``.
    """

    def __init__(
        self,
        model: ModelParam = None,
        policy: ExitPolicy | None = None,
        batch_size: int = 32,
        max_length: int = 256,
        layers: Sequence[int] | str | None = "all",
        pooling: str | None = None,
        layer_norm: str | None = None,
        temperature: float = 0.05,
        per_class: int | None = None,
        seed: int = 0,
        delta: Delta = math.inf,
        min_layer: int = 1,
        head: Any = None,
        refill: bool = False,
        exit_policy: str = "margin",
    ) -> None:
        if batch_size < 1:
            raise HateprotoError(f"batch_size must be at least 1, got {batch_size}")
        self._loader = ModelLoader()
        keep_params(self, locals())
        if policy is not None and isinstance(model, Backbone):
            _check_policy(policy, model)

    # ------------------------------------------------------------------ state
    @property
    def backbone(self) -> Backbone:
        """The live backbone: ``model`` itself, or the one it names (loaded once)."""
        return self._loader.get(self.model, "float32", None, "EarlyExitClassifier")

    @property
    def runner(self) -> LayerRunner:
        """The layer-by-layer runner of :attr:`backbone` (made once)."""
        runner = self.__dict__.get("_runner")
        if runner is None or runner.backbone is not self.backbone:
            runner = LayerRunner(self.backbone)
            self.__dict__["_runner"] = runner
        return runner

    @property
    def policy_(self) -> ExitPolicy:
        """The policy in use: the one :meth:`fit` built, else the one given."""
        fitted = self.__dict__.get("_fitted_policy")
        if fitted is not None:
            return fitted
        if self.policy is None:
            raise HateprotoError(
                "this EarlyExitClassifier is not fitted yet: call fit(texts, labels) or give "
                "a policy"
            )
        return self.policy

    @property
    def classes_(self) -> np.ndarray:
        """The class labels, in the column order of :meth:`predict_proba`."""
        protos = self.__dict__.get("prototypes_")
        if protos is not None:
            return protos.classes_
        self.policy_  # noqa: B018 - raises when not fitted
        return np.arange(2)

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted after :meth:`fit` / :meth:`from_pretrained`, or when given a policy."""
        return self.policy is not None or self.__dict__.get("_fitted_policy") is not None

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        X: Sequence[str],  # noqa: N803 - the scikit-learn name
        y: Sequence[int] | np.ndarray,
        show_progress: bool = False,
    ) -> EarlyExitClassifier:
        """Build prototypes of texts ``X`` with labels ``y`` and their margin exit policy."""
        if self.policy is not None:
            raise HateprotoError(
                "this EarlyExitClassifier runs the policy it was given; to fit prototypes and "
                "their margin policy, leave policy=None"
            )
        settings = {name: getattr(self, name) for name in _PROTOTYPE_PARAMS}
        protos = PrototypeClassifier(self.backbone, **settings)
        protos.fit(X, y, show_progress=show_progress)
        self._use_prototypes(protos)
        return self

    def _use_prototypes(self, protos: PrototypeClassifier) -> None:
        """Run the prototype-margin policy of ``protos`` with this classifier's settings."""
        self.prototypes_ = protos
        self.__dict__["_fitted_policy"] = margin_policy(
            protos, self.delta, self.head, self.min_layer, self.exit_policy
        )

    @classmethod
    def from_prototypes(
        cls,
        prototypes: PrototypeClassifier,
        delta: Delta = math.inf,
        head: LayerScorer | object | None = None,
        batch_size: int = 32,
        max_length: int = 256,
        min_layer: int = 1,
        refill: bool = False,
        exit_policy: str = "margin",
    ) -> EarlyExitClassifier:
        """Prototype-margin early exit (HatePrototypes Eq. 3) from fitted prototypes.

        Args:
            prototypes: fitted prototypes (for every layer that may exit, and the last one
                if ``head`` is not given).
            delta: one delta, ``{layer: delta}``, or calibrated :class:`ExitThresholds`;
                ``inf`` (default) never exits early.
            head: the full-model fallback at the last layer: a scorer, or a fine-tuned
                ``HateClassifier`` (its head); default: the last layer's prototypes (or, if
                there are none for the last layer, the deepest prototype layer's, and the
                layers above it are not run).
            min_layer: no early exit before this layer.
            refill: keep batches full as rows exit (see the class's ``refill``).
            exit_policy: the threshold policy, a name of
                :data:`~hateproto.early_exit.policies.SERVED_POLICIES`.
        """
        clf = cls(
            prototypes.backbone,
            batch_size=batch_size,
            max_length=max_length,
            layers=prototypes.layers,
            pooling=prototypes.pooling,
            layer_norm=prototypes.layer_norm,
            temperature=prototypes.temperature,
            delta=delta,
            min_layer=min_layer,
            head=head,
            refill=refill,
            exit_policy=exit_policy,
        )
        clf._use_prototypes(prototypes)
        return clf

    # ------------------------------------------------------------------ inference
    def run(self, texts: Sequence[str], show_progress: bool = False) -> ExitResult:
        """Labels, probabilities, exit layers, margins and wall time for ``texts``."""
        return run_early_exit(
            self.runner,
            self.policy_,
            texts,
            self.batch_size,
            self.max_length,
            show_progress,
            refill=self.refill,
        )

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Predicted class of each text."""
        return self.run(texts).labels

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``[N, C]`` at each text's exit layer."""
        return self.run(texts).proba

    def exit_layers(self, texts: Sequence[str]) -> np.ndarray:
        """The layer (1..L) at which each text exits."""
        return self.run(texts).exit_layers

    def full_depth(self) -> EarlyExitClassifier:
        """The same classifier without early exits (for reference runs and timing)."""
        return EarlyExitClassifier(
            self.backbone, self.policy_.full_depth(), self.batch_size, self.max_length
        )

    # ------------------------------------------------------------------ files
    def save_pretrained(self, folder: str | Path) -> Path:
        """Write the prototypes (``prototypes/``) and the exit settings (``early_exit.json``).

        Only a fitted prototype-margin classifier without a ``head`` can be saved this way
        (save a fine-tuned head as its own checkpoint; a given policy is not saved)."""
        protos = self.__dict__.get("prototypes_")
        policy = self.__dict__.get("_fitted_policy")
        if protos is None or not isinstance(policy, PrototypeMarginPolicy):
            raise HateprotoError("save_pretrained needs an EarlyExitClassifier fitted by fit()")
        if self.head is not None:
            raise HateprotoError("an EarlyExitClassifier with a head cannot be saved as one folder")
        folder = Path(folder)
        protos.save_pretrained(folder / PROTOTYPES_DIR)
        engine = {
            "min_layer": self.min_layer,
            "batch_size": self.batch_size,
            "max_length": self.max_length,
        }
        thresholds = ExitThresholds(
            dict(policy.deltas), None, protos.backbone.fingerprint, {"engine": engine}
        )
        thresholds.save(folder)
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path, **load: Any) -> EarlyExitClassifier:
        """Load a folder written by :meth:`save_pretrained` (a fitted classifier); ``load``
        (``backbone``, ``dtype``, ``device``) goes to ``PrototypeClassifier.from_pretrained``."""
        folder = Path(folder)
        if not (folder / THRESHOLDS_FILE).is_file():
            raise ModelError(
                f"{folder} is not an EarlyExitClassifier folder: {THRESHOLDS_FILE} missing"
            )
        protos = PrototypeClassifier.from_pretrained(folder / PROTOTYPES_DIR, **load)
        thresholds = ExitThresholds.load(folder, fingerprint=protos.backbone.fingerprint)
        engine = thresholds.metadata.get("engine", {})
        return cls.from_prototypes(
            protos,
            delta=thresholds.finite(),
            batch_size=engine.get("batch_size", 32),
            max_length=engine.get("max_length", 256),
            min_layer=engine.get("min_layer", 1),
        )

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self, data: LabeledTexts, repeats: int = 1, show_progress: bool = False
    ) -> dict[str, object]:
        """Macro-F1, mean exit layer and measured speed-up against full depth on ``data``.

        The early-exit run and the full-depth run (same batch size, same code path without
        exits) are interleaved ``repeats`` times after a warm-up; times are medians.
        """
        full = self.full_depth()
        results: dict[str, ExitResult] = {}

        def variant(name: str, clf: EarlyExitClassifier):  # noqa: ANN202
            return lambda: results.__setitem__(name, clf.run(data.texts, show_progress))

        times = interleaved_timings(
            {"early_exit": variant("early_exit", self), "full": variant("full", full)},
            repeats=repeats,
            warmup=0,
        )
        early, reference = results["early_exit"], results["full"]
        metrics = classification_metrics(data.labels, early.labels, early.hate_scores)
        return {
            **self.policy_.describe(),
            "dataset": data.name,
            "n": len(data),
            "num_layers": early.num_layers,
            "batch_size": self.batch_size,
            "mean_exit_layer": early.mean_exit_layer,
            "layer_saving": early.layer_saving,
            "counted_speedup": early.counted_speedup,
            "macro_f1": metrics["macro_f1"],
            "accuracy": metrics["accuracy"],
            "full_macro_f1": classification_metrics(data.labels, reference.labels)["macro_f1"],
            "wall_time_s": times.median("early_exit"),
            "full_wall_time_s": times.median("full"),
            "measured_speedup": times.speedup("early_exit", "full"),
            "cpu_time_s": times.median("early_exit", "cpu"),
            "full_cpu_time_s": times.median("full", "cpu"),
            "measured_cpu_speedup": times.speedup("early_exit", "full", "cpu"),
            "load_average": load_average(),
        }


def as_final_scorer(head: LayerScorer | object) -> LayerScorer:
    """A scorer as it is, or a fine-tuned ``HateClassifier`` wrapped as a :class:`HeadScorer`."""
    if hasattr(head, "assess") and hasattr(head, "spec"):
        return head  # type: ignore[return-value]
    if hasattr(head, "logits_from_pooled"):
        return HeadScorer.from_classifier(head)
    raise HateprotoError(
        f"cannot use a {type(head).__name__} as the final classifier: give a scorer or an "
        "object with logits_from_pooled (a fine-tuned HateClassifier)"
    )


def margin_policy(
    prototypes: PrototypeClassifier,
    delta: Delta,
    head: Any,
    min_layer: int,
    exit_policy: str = "margin",
) -> ExitPolicy:
    """The threshold policy ``exit_policy`` (a name of
    :data:`~hateproto.early_exit.policies.SERVED_POLICIES`; default the prototype margin)
    of fitted ``prototypes`` (see :meth:`from_prototypes`)."""
    backbone = prototypes.backbone
    if isinstance(delta, ExitThresholds):
        if delta.backbone_fingerprint and delta.backbone_fingerprint != backbone.fingerprint:
            raise HateprotoError(
                "the thresholds were calibrated for another backbone (fingerprint "
                f"{delta.backbone_fingerprint}, this one is {backbone.fingerprint})"
            )
        delta = delta.finite()
    final = as_final_scorer(head) if head is not None else None
    build = served_policy(exit_policy)
    return build(PrototypeScorer(prototypes), delta, final, backbone.num_layers, min_layer)


def _check_policy(policy: ExitPolicy, backbone: Backbone) -> None:
    if policy.num_layers != backbone.num_layers:
        raise HateprotoError(
            f"the policy is for {policy.num_layers} layers, {backbone.info.name_or_path} has "
            f"{backbone.num_layers}"
        )
