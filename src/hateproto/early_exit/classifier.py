"""The early-exit classifier: a backbone, an exit policy, and the engine loop.

Example:
    >>> from hateproto import Backbone, PrototypeClassifier
    >>> from hateproto.early_exit import EarlyExitClassifier
    >>> backbone = Backbone.load("minilm")                                   # doctest: +SKIP
    >>> protos = PrototypeClassifier(backbone).fit(train.texts, train.labels)  # doctest: +SKIP
    >>> clf = EarlyExitClassifier.from_prototypes(protos, delta=0.05)         # doctest: +SKIP
    >>> clf.predict(["some post"]), clf.exit_layers(["some post"])           # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from hateproto.data.types import LabeledTexts
from hateproto.early_exit.calibration import ExitThresholds
from hateproto.early_exit.engine import ExitResult, run_early_exit
from hateproto.early_exit.policies import ExitPolicy, PrototypeMarginPolicy
from hateproto.early_exit.scorers import HeadScorer, LayerScorer, PrototypeScorer
from hateproto.early_exit.timing import interleaved_timings, load_average
from hateproto.errors import HateprotoError
from hateproto.evaluation import classification_metrics
from hateproto.models.backbone import Backbone
from hateproto.models.stepping import LayerRunner
from hateproto.prototypes.classifier import PrototypeClassifier


class EarlyExitClassifier:
    """Classify texts layer by layer, letting each example leave as soon as the policy allows.

    Args:
        backbone: the loaded backbone (frozen or a fine-tuned checkpoint).
        policy: an :class:`~hateproto.early_exit.policies.ExitPolicy`.
        batch_size: rows per batch (texts are sorted by length, as in ``Backbone.encode``).
        max_length: truncation length in tokens.
    """

    def __init__(
        self, backbone: Backbone, policy: ExitPolicy, batch_size: int = 32, max_length: int = 256
    ) -> None:
        if batch_size < 1:
            raise HateprotoError(f"batch_size must be at least 1, got {batch_size}")
        self.backbone = backbone
        self.runner = LayerRunner(backbone)
        if policy.num_layers != backbone.num_layers:
            raise HateprotoError(
                f"the policy is for {policy.num_layers} layers, {backbone.info.name_or_path} has "
                f"{backbone.num_layers}"
            )
        self.policy = policy
        self.batch_size = batch_size
        self.max_length = max_length

    @classmethod
    def from_prototypes(
        cls,
        prototypes: PrototypeClassifier,
        delta: float | Mapping[int, float] | ExitThresholds = math.inf,
        head: LayerScorer | object | None = None,
        batch_size: int = 32,
        max_length: int = 256,
        min_layer: int = 1,
    ) -> EarlyExitClassifier:
        """Prototype-margin early exit (HatePrototypes Eq. 3).

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
        """
        backbone = prototypes.backbone
        if isinstance(delta, ExitThresholds):
            if delta.backbone_fingerprint and delta.backbone_fingerprint != backbone.fingerprint:
                raise HateprotoError(
                    "the thresholds were calibrated for another backbone (fingerprint "
                    f"{delta.backbone_fingerprint}, this one is {backbone.fingerprint})"
                )
            delta = delta.finite()
        final = as_final_scorer(head) if head is not None else None
        policy = PrototypeMarginPolicy(
            PrototypeScorer(prototypes),
            delta,
            final=final,
            num_layers=backbone.num_layers,
            min_layer=min_layer,
        )
        return cls(backbone, policy, batch_size, max_length)

    # ------------------------------------------------------------------ inference
    def run(self, texts: Sequence[str], show_progress: bool = False) -> ExitResult:
        """Labels, probabilities, exit layers, margins and wall time for ``texts``."""
        return run_early_exit(
            self.runner, self.policy, texts, self.batch_size, self.max_length, show_progress
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
            self.backbone, self.policy.full_depth(), self.batch_size, self.max_length
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
            **self.policy.describe(),
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
