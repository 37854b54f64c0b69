"""Running the audit: any scorer in, an :class:`AuditReport` out.

A *scorer* is any callable that maps a list of texts to 0/1 predictions (1 = hateful), as a
NumPy array, or to a ``(predictions, hate_probabilities)`` tuple. :func:`detector_scorer`
adapts a hateproto :class:`~hateproto.detector.Detector`; anything else (a TF-IDF baseline,
an API client) only needs to be such a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from hateproto.audit import results as audit_results
from hateproto.audit.languages import case_language
from hateproto.audit.suite import (
    FPR_FUNCTIONALITIES,
    FUNCTIONALITIES,
    SUITE_VERSION,
    AuditCase,
)
from hateproto.errors import HateprotoError

if TYPE_CHECKING:
    from hateproto.data.types import LabeledTexts

ScoreOutput = Union[np.ndarray, tuple[np.ndarray, Union[np.ndarray, None]]]  # noqa: UP007
Scorer = Callable[[list[str]], ScoreOutput]


def detector_scorer(detector: Any) -> Scorer:
    """A scorer from a hateproto ``Detector`` (or anything with ``score_arrays``)."""

    def score(texts: list[str]) -> ScoreOutput:
        scores = detector.score_arrays(texts)
        return np.asarray(scores.labels), np.asarray(scores.proba)[:, 1]

    return score


def load_detector_scorer(folder: str | Path, **overrides: Any) -> tuple[Scorer, dict[str, Any]]:
    """Load a detector folder; returns its scorer and a short description for the report."""
    from hateproto.detector import Detector

    detector = Detector.from_pretrained(folder, **overrides)
    described = {
        "folder": str(folder),
        "model": detector.model_reference,
        "decides_with": detector.decides_with,
        "decision_layer": detector.decision_layer,
    }
    return detector_scorer(detector), described


def _as_scorer(detector: Scorer | Any) -> Scorer:
    if hasattr(detector, "score_arrays"):
        return detector_scorer(detector)
    if callable(detector):
        return detector
    raise HateprotoError("run_audit needs a scorer callable or an object with score_arrays()")


def _normalise(output: ScoreOutput, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Check a scorer's output: ``n`` 0/1 predictions and optional ``n`` probabilities."""
    labels, proba = output if isinstance(output, tuple) else (output, None)
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != n or not np.isin(labels, (0, 1)).all():
        raise HateprotoError(f"the scorer must return {n} predictions, each 0 or 1")
    if proba is not None:
        proba = np.asarray(proba, dtype=np.float64).reshape(-1)
        if proba.shape[0] != n:
            raise HateprotoError(f"the scorer returned {proba.shape[0]} probabilities for {n}")
    return labels.astype(np.int64), proba


def score_cases(
    scorer: Scorer,
    cases: Sequence[AuditCase],
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions (and probabilities, if the scorer gives them) for every case, in batches."""
    return score_texts(scorer, [case.text for case in cases], batch_size, progress)


def score_texts(
    scorer: Scorer,
    all_texts: Sequence[str],
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions (and probabilities, if the scorer gives them) for every text, in batches."""
    labels, probas = [], []
    for start in range(0, len(all_texts), batch_size):
        texts = list(all_texts[start : start + batch_size])
        batch_labels, batch_proba = _normalise(scorer(texts), len(texts))
        labels.append(batch_labels)
        probas.append(batch_proba)
        if progress is not None:
            progress(len(texts))
    has_proba = bool(probas) and all(p is not None for p in probas)
    proba = np.concatenate(probas) if has_proba else None
    return (np.concatenate(labels) if labels else np.zeros(0, np.int64)), proba


def macro_f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    """Mean F1 of the two classes (a class absent from both gold and predictions scores 0)."""
    scores = []
    for label in (0, 1):
        tp = int(((predicted == label) & (gold == label)).sum())
        fp = int(((predicted == label) & (gold != label)).sum())
        fn = int(((predicted != label) & (gold == label)).sum())
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


def _functionality_results(
    cases: Sequence[AuditCase], predicted: np.ndarray, proba: np.ndarray | None
) -> list[audit_results.FunctionalityResult]:
    results = []
    for item in FUNCTIONALITIES:
        rows = [i for i, case in enumerate(cases) if case.functionality == item.name]
        if not rows:
            continue
        right = predicted[rows] == item.label_gold
        results.append(
            audit_results.FunctionalityResult(
                functionality=item.name,
                family=item.family,
                label_gold=item.label_gold,
                n=len(rows),
                correct=int(right.sum()),
                accuracy=float(right.mean()),
                mean_hate_probability=None if proba is None else float(proba[rows].mean()),
                failed_ids=[cases[i].id for i, ok in zip(rows, right, strict=True) if not ok],
            )
        )
    return results


def _group_results(
    cases: Sequence[AuditCase], predicted: np.ndarray
) -> list[audit_results.GroupResult]:
    """Accuracy on every case naming the group; FPR on its group-balanced non-hateful cases."""
    results = []
    groups = sorted({c.target_group for c in cases if c.target_group}, key=_group_order)
    for group in groups:
        rows = [i for i, c in enumerate(cases) if c.target_group == group]
        negatives = [i for i in rows if cases[i].functionality in FPR_FUNCTIONALITIES]
        gold = np.array([cases[i].label_gold for i in rows])
        false_pos = int(predicted[negatives].sum()) if negatives else 0
        results.append(
            audit_results.GroupResult(
                group=group,
                n=len(rows),
                accuracy=float((predicted[rows] == gold).mean()),
                n_non_hateful=len(negatives),
                false_positives=false_pos,
                fpr=false_pos / len(negatives) if negatives else None,
            )
        )
    return results


def _group_order(key: str) -> tuple[int, str]:
    from hateproto.audit.groups import group_keys

    keys = group_keys()
    return (keys.index(key) if key in keys else len(keys), key)


def _goals(
    functionalities: list[audit_results.FunctionalityResult],
    spread: float | None,
    external: Sequence[audit_results.ExternalResult],
    goals: audit_results.AuditGoals,
) -> list[audit_results.GoalResult]:
    worst = min((f.accuracy for f in functionalities), default=None)
    results = [
        audit_results.GoalResult(
            name="min_functionality_accuracy",
            description="no functionality under this accuracy",
            threshold=goals.min_functionality_accuracy,
            value=worst,
            passed=worst is not None and worst >= goals.min_functionality_accuracy,
        )
    ]
    for item in functionalities:
        threshold = goals.functionality_accuracy.get(item.functionality)
        if threshold is not None:
            results.append(
                audit_results.GoalResult(
                    name=f"{item.functionality}_accuracy",
                    description=f"{item.functionality.replace('_', ' ')} cases passed",
                    threshold=threshold,
                    value=item.accuracy,
                    passed=item.accuracy >= threshold,
                )
            )
    results.append(
        audit_results.GoalResult(
            name="fpr_spread",
            description="max - min false positive rate across target groups",
            threshold=goals.max_fpr_spread,
            value=spread,
            passed=spread is not None and spread <= goals.max_fpr_spread,
        )
    )
    for item in external:
        if item.fpr is not None:
            results.append(
                audit_results.GoalResult(
                    name=f"{item.name}_fpr",
                    description=f"false positive rate on {item.name}",
                    threshold=goals.max_external_fpr,
                    value=item.fpr,
                    passed=item.fpr <= goals.max_external_fpr,
                )
            )
    return results


def _targets(data: LabeledTexts) -> list[str]:
    """The target of every text of ``data`` (metadata ``target``; unspecified when absent)."""
    if "target" not in data.metadata:
        return [audit_results.UNSPECIFIED_TARGET] * len(data)
    return [
        str(t) if isinstance(t, str) and t else audit_results.UNSPECIFIED_TARGET
        for t in data.metadata["target"]
    ]


def external_result(
    name: str,
    data: LabeledTexts,
    predicted: np.ndarray,
    proba: np.ndarray | None = None,
) -> audit_results.ExternalResult:
    """The row of an external set: ``n``, the share passed (``accuracy``), the false positive
    rate on its non-hateful texts (``fpr``) and that rate per target (metadata ``target``)."""
    if not len(data):
        raise HateprotoError(f"the external set {name!r} has no texts")
    predicted = np.asarray(predicted).astype(np.int64).reshape(-1)
    if predicted.shape[0] != len(data):
        raise HateprotoError(f"{name}: {predicted.shape[0]} predictions for {len(data)} texts")
    negatives = data.labels == 0
    false_pos = int((predicted[negatives] == 1).sum())
    targets = np.array(_targets(data), dtype=object)
    rates = []
    for target in sorted(set(targets[negatives])):
        rows = negatives & (targets == target)
        n, wrong = int(rows.sum()), int(predicted[rows].sum())
        rates.append(
            audit_results.TargetRate(target=target, n=n, false_positives=wrong, fpr=wrong / n)
        )
    return audit_results.ExternalResult(
        name=name,
        source=f"{data.name}/{data.split}",
        n=len(data),
        correct=int((predicted == data.labels).sum()),
        accuracy=float((predicted == data.labels).mean()),
        n_non_hateful=int(negatives.sum()),
        false_positives=false_pos,
        fpr=false_pos / int(negatives.sum()) if negatives.any() else None,
        mean_hate_probability=None if proba is None else float(np.mean(proba)),
        targets=rates,
    )


def summarise(
    cases: Sequence[AuditCase],
    predicted: np.ndarray,
    proba: np.ndarray | None = None,
    goals: audit_results.AuditGoals | None = None,
    external: Sequence[audit_results.ExternalResult] = (),
) -> audit_results.AuditReport:
    """The report for ``predicted`` (0/1 per case, in the order of ``cases``); ``external``
    rows (from :func:`external_result`) are reported beside the suite, with their own goal."""
    if not cases:
        raise HateprotoError("the audit has no cases to report on")
    predicted = np.asarray(predicted).astype(np.int64)
    gold = np.array([case.label_gold for case in cases])
    functionalities = _functionality_results(cases, predicted, proba)
    groups = _group_results(cases, predicted)
    rates = [g.fpr for g in groups if g.fpr is not None]
    spread = round(float(max(rates) - min(rates)), 12) if rates else None
    goal_results = _goals(functionalities, spread, external, goals or audit_results.AuditGoals())
    splits = {case.split for case in cases}
    languages = {case_language(case.id) for case in cases}
    return audit_results.AuditReport(
        suite_version=SUITE_VERSION,
        split=splits.pop() if len(splits) == 1 else "all",
        language=languages.pop() if len(languages) == 1 else "mixed",
        n_cases=len(cases),
        accuracy=float((predicted == gold).mean()),
        macro_f1=macro_f1(gold, predicted),
        functionalities=functionalities,
        groups=groups,
        fpr_spread=spread,
        goals=goal_results,
        passed=all(g.passed for g in goal_results),
        external=list(external),
    )


def run_audit(
    detector: Scorer | Any,
    cases: Sequence[AuditCase],
    *,
    external: Mapping[str, LabeledTexts] | None = None,
    goals: audit_results.AuditGoals | None = None,
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> audit_results.AuditReport:
    """Score every case with ``detector`` (a scorer callable, or a ``Detector``) and report.

    ``external`` maps a row name to a labelled set scored beside the suite (for example
    ``{"conan_counter_test": conan_counter("test")}``): each set gets its own row in
    ``report.external`` and a false-positive-rate goal, and changes none of the suite's
    numbers.

    Example:
        >>> from hateproto.audit import build_suite, run_audit
        >>> report = run_audit(lambda texts: np.zeros(len(texts), int), build_suite("dev"))
        >>> report.functionality("identity_neutral").accuracy
        1.0
    """
    scorer = _as_scorer(detector)
    predicted, proba = score_cases(scorer, cases, batch_size, progress)
    rows = []
    for name, data in (external or {}).items():
        labels, probabilities = score_texts(scorer, data.texts, batch_size, progress)
        rows.append(external_result(name, data, labels, probabilities))
    return summarise(cases, predicted, proba, goals, rows)
