"""What the audit reports: its goals (:class:`AuditGoals`) and its results, row by row
(:class:`FunctionalityResult`, :class:`GroupResult`, :class:`ExternalResult`,
:class:`GoalResult`) inside one :class:`AuditReport`. :mod:`.report` computes them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

Row = TypeVar("Row", bound=BaseModel)


def _find(rows: Sequence[Row], attribute: str, key: str) -> Row:
    """The row whose ``attribute`` is ``key`` (``KeyError`` when there is none)."""
    for row in rows:
        if getattr(row, attribute) == key:
            return row
    raise KeyError(key)


#: Functionalities with a goal above the floor (issue 23): stance and identity mentions.
FUNCTIONALITY_GOALS: dict[str, float] = {
    "negated_hate": 0.80,
    "counter_quote": 0.80,
    "counter_reference": 0.80,
    "identity_positive": 0.80,
    "identity_neutral": 0.90,
}
#: The target group of external texts that name none.
UNSPECIFIED_TARGET = "unspecified"


@dataclass(frozen=True)
class AuditGoals:
    """The targets a detector is judged on (issues 14 and 23).

    Attributes:
        min_functionality_accuracy: the floor for every functionality of the suite.
        functionality_accuracy: higher minimums for some functionalities (name -> accuracy);
            a mapping given here replaces :data:`FUNCTIONALITY_GOALS` as a whole.
        max_fpr_spread: the most the per-group false positive rates may differ.
        max_external_fpr: the highest false positive rate allowed on each external set
            (CONAN counter-speech).
    """

    min_functionality_accuracy: float = 0.70
    functionality_accuracy: Mapping[str, float] = field(
        default_factory=lambda: dict(FUNCTIONALITY_GOALS)
    )
    max_fpr_spread: float = 0.15
    max_external_fpr: float = 0.15

    def minimum(self, name: str) -> float:
        """The accuracy functionality ``name`` must reach."""
        return max(self.min_functionality_accuracy, self.functionality_accuracy.get(name, 0.0))


class FunctionalityResult(BaseModel):
    """Accuracy on one functionality."""

    functionality: str
    family: str
    label_gold: int
    n: int
    correct: int
    accuracy: float
    mean_hate_probability: float | None = None
    failed_ids: list[str] = []


class GroupResult(BaseModel):
    """Accuracy on the cases that target one group, and its false positive rate."""

    group: str
    n: int
    accuracy: float
    n_non_hateful: int
    false_positives: int
    fpr: float | None


class TargetRate(BaseModel):
    """The false positive rate of an external set on the texts aimed at one target."""

    target: str
    n: int
    false_positives: int
    fpr: float | None


class ExternalResult(BaseModel):
    """A labelled set scored beside the suite (CONAN counter-speech): reported in its own row,
    never mixed into the suite's accuracy, macro-F1 or group rates."""

    name: str
    source: str
    n: int
    correct: int
    accuracy: float
    n_non_hateful: int
    false_positives: int
    fpr: float | None
    mean_hate_probability: float | None = None
    targets: list[TargetRate] = []

    def target(self, key: str) -> TargetRate:
        """The rate on target ``key`` (``KeyError`` when no text names it)."""
        return _find(self.targets, "target", key)


class GoalResult(BaseModel):
    """One goal, the measured value and whether it is met."""

    name: str
    description: str
    threshold: float
    value: float | None
    passed: bool


class AuditReport(BaseModel):
    """Everything the audit measured (JSON-ready with ``model_dump``)."""

    suite_version: str
    split: str
    language: str = "en"
    n_cases: int
    accuracy: float
    macro_f1: float
    functionalities: list[FunctionalityResult]
    groups: list[GroupResult]
    fpr_spread: float | None
    goals: list[GoalResult]
    passed: bool
    detector: dict[str, Any] | None = None
    external: list[ExternalResult] = []

    def functionality(self, name: str) -> FunctionalityResult:
        """The result of functionality ``name`` (``KeyError`` when it was not run)."""
        return _find(self.functionalities, "functionality", name)

    def group(self, key: str) -> GroupResult:
        """The result of group ``key`` (``KeyError`` when no case targets it)."""
        return _find(self.groups, "group", key)

    def external_result(self, name: str) -> ExternalResult:
        """The row of external set ``name`` (``KeyError`` when it was not scored)."""
        return _find(self.external, "name", name)
