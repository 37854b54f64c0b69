"""Build a detector from a model and labelled examples (``hateproto detector build``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from hateproto.data.types import LabeledTexts
from hateproto.detector.autotune import autotune_detector, check_autotune
from hateproto.detector.components import ExitThresholds
from hateproto.detector.detector import Detector
from hateproto.detector.settings import DetectorSettings
from hateproto.early_exit.scorers import HeadScorer
from hateproto.early_exit.thresholds import choose_exit_thresholds
from hateproto.errors import HateprotoError
from hateproto.prototypes import PrototypeClassifier
from hateproto.prototypes.selection import choose_layer
from hateproto.training.loading import load_model

#: Largest macro-F1 loss budget accepted, in F1 units (1 = any loss; the command line
#: takes points and accepts at most 20).
MAX_BUDGET = 1.0


def build_detector(
    model: str,
    train: LabeledTexts,
    per_class: int | None = 50,
    seed: int = 0,
    dev: LabeledTexts | None = None,
    layers: Sequence[int] | str = "all",
    decision_layer: int | str | None = "auto",
    settings: DetectorSettings | None = None,
    exit_budget: float | None = None,
    show_progress: bool = False,
    autotune: Collection[str] = (),
) -> Detector:
    """Prototypes from ``per_class`` random training examples of each class → a detector.

    Args:
        model: alias, folder, hub id or fine-tuned checkpoint folder.
        train: labelled examples to draw the prototype examples from.
        per_class: examples per class (``None``: all of ``train``).
        dev: labelled examples to choose the decision layer on (macro-F1), if
            ``decision_layer="auto"``; without it the last layer decides.
        layers: layers to keep prototypes for ("all": every layer, so ``explain`` and early
            exit can use them).
        decision_layer: a layer number, ``"auto"`` (best dev macro-F1) or ``None`` (last).
        settings: detector settings (``early_exit=True`` needs ``delta`` or a calibration).
        exit_budget: calibrate per-layer early-exit thresholds on ``dev``, allowing this
            macro-F1 loss in F1 units (``0.005`` = half a point; 0 to 1) against the
            full-depth decisions. The command line takes points (``--exit-budget 0.5``).
        autotune: choices to measure on this machine, on up to 512 dev posts (else training
            posts) after building (:mod:`hateproto.detector.autotune`): ``"dtype"`` (float32
            or bfloat16) and/or ``"early_exit"`` (on only where it pays; needs
            ``exit_budget``). Recorded in ``metadata["dtype_choice"]`` and
            ``metadata["early_exit_choice"]``.

    Example:
        >>> train = load_benchmark("ihc", "train", "hateprototypes")          # doctest: +SKIP
        >>> build_detector("minilm", train, per_class=50).save_pretrained("det")  # doctest: +SKIP
    """
    settings = settings or DetectorSettings()
    check_autotune(autotune, exit_budget, dev, settings.delta)
    if "dtype" in autotune:
        settings = settings.model_copy(update={"dtype": "float32"})
    if exit_budget is not None:
        check_budget(exit_budget)
        if dev is None:
            raise HateprotoError(
                "calibrating early-exit thresholds needs a dev set (dev=...; on the command "
                "line --dev-data FILE, or a --dataset with a dev split)"
            )
    backbone, classifier = load_model(model, settings.dtype, settings.device)
    clf = PrototypeClassifier(
        backbone, layers=layers, batch_size=settings.batch_size, max_length=settings.max_length
    )
    clf.fit_data(train, per_class=per_class, seed=seed, show_progress=show_progress)
    metadata: dict[str, object] = {
        "built_from": {
            "dataset": train.name,
            "protocol": train.protocol,
            "split": train.split,
            "per_class": per_class,
            "seed": seed,
            "examples": sum(clf.n_per_class_.values()),
        }
    }
    chosen = _choose_layer(clf, decision_layer, dev, metadata, show_progress)
    clf.default_layer = chosen
    early = settings.early_exit
    settings = settings.model_copy(update={"decision_layer": chosen, "early_exit": False})
    detector = Detector(backbone, clf, classifier, None, settings, metadata, model)
    if exit_budget is not None:
        detector.thresholds = exit_thresholds_on_dev(detector, dev, exit_budget, show_progress)
    detector.settings = settings.model_copy(update={"early_exit": early})
    detector._check_settings()
    if autotune:
        sample = dev if dev is not None else train
        detector = autotune_detector(detector, sample, autotune, exit_budget)
    return detector


def check_budget(budget: float) -> None:
    """Refuse a loss budget outside 0..:data:`MAX_BUDGET` F1 units."""
    if not 0 <= budget <= MAX_BUDGET:
        raise HateprotoError(
            f"exit_budget {budget:g} is out of range: it is in F1 units (0.005 = half a "
            f"macro-F1 point), from 0 to {MAX_BUDGET:g}"
        )


def exit_thresholds_on_dev(
    detector: Detector, dev: LabeledTexts, budget: float, show_progress: bool = False
) -> ExitThresholds:
    """Per-layer early-exit deltas chosen on ``dev``: the lowest mean exit layer whose
    macro-F1 stays within ``budget`` (F1 units) of the detector's full-depth decisions
    (the head's, or the deepest prototypes'); see
    :func:`hateproto.early_exit.thresholds.choose_exit_thresholds`."""
    check_budget(budget)
    if detector.prototypes is None:
        raise HateprotoError("early-exit thresholds need prototypes")
    head = None
    if detector.decides_with == "head":
        head = HeadScorer.from_classifier(detector.classifier)
    settings = detector.settings
    return choose_exit_thresholds(
        detector.prototypes,
        dev,
        budget,
        head,
        settings.batch_size,
        detector.max_length,
        show_progress,
    )


def _choose_layer(
    clf: PrototypeClassifier,
    decision_layer: int | str | None,
    dev: LabeledTexts | None,
    metadata: dict[str, object],
    show_progress: bool,
) -> int:
    """The decision layer: given, last, or the best dev macro-F1 (recorded in ``metadata``)."""
    if decision_layer is None or (decision_layer == "auto" and dev is None):
        return clf.layers[-1]
    if decision_layer != "auto":
        return clf.layers[clf.layer_position(int(decision_layer))]
    choice = choose_layer(clf, dev, show_progress=show_progress)
    metadata["layer_selection"] = choice.as_metadata()
    return choice.chosen
