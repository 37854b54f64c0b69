"""Moderation policies taught by examples: add a team's labelled examples to a detector's
prototypes (``--mode add``), or replace them (``--mode replace``), without touching the model.

Each example source contributes, per layer and class, the direction of its class mean
(the mean of its unit vectors) weighted by ``weight x examples``; the current prototypes
count as one more source whose mass is the policy's recorded ``class_mass`` (or, for a
detector built before policies, its examples per class). With one source of weight 1 this
is exactly how ``detector build`` makes prototypes.

Adapting changes what the prototypes decide, so the detector then decides with its
prototypes (a head no longer does), and calibrated early-exit thresholds and the
probability calibration, fitted to the old prototypes, are dropped (the calibration is kept
with ``keep_calibration=True``). The folder records every source with its sha256 and a new
policy version (see :mod:`hateproto.detector.policy`).

Example:
    >>> base = Detector.from_pretrained("detectors/general")                   # doctest: +SKIP
    >>> team = load_example_file("policy.csv", weight=2.0)                      # doctest: +SKIP
    >>> ours = adapt_detector(base, [team], parent="detectors/general")         # doctest: +SKIP
    >>> ours.save_pretrained("detectors/ours")                                  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from hateproto.data import load_table
from hateproto.data.types import LABEL_NAMES, LabeledTexts
from hateproto.detector.detector import Detector
from hateproto.detector.neighbours import ExampleBank
from hateproto.detector.policy import current_policy, source_record
from hateproto.errors import DataError, ModelError

Mode = Literal["add", "replace"]


@dataclass
class ExampleSource:
    """Labelled examples with a weight and their provenance record."""

    data: LabeledTexts
    weight: float = 1.0
    path: Path | None = None

    def record(self) -> dict[str, Any]:
        """The JSON record written to ``metadata.policy.sources``."""
        return source_record(self.data, self.weight, self.path)


def parse_weighted(value: str) -> tuple[Path, float]:
    """``FILE`` or ``FILE:WEIGHT`` (from ``--data a.csv --data b.csv:2``).

    Example:
        >>> parse_weighted("b.csv:2")
        (PosixPath('b.csv'), 2.0)
    """
    path, sep, weight = value.rpartition(":")
    if not sep or Path(value).exists():
        return Path(value), 1.0
    try:
        parsed = float(weight)
    except ValueError:
        return Path(value), 1.0
    return Path(path), check_weight(parsed, value)


def check_weight(weight: float, where: str) -> float:
    """Refuse a weight that is not a positive finite number."""
    if not np.isfinite(weight) or weight <= 0:
        raise DataError(f"{where}: the weight must be a positive number, got {weight:g}")
    return float(weight)


def check_examples(data: LabeledTexts, where: str) -> None:
    """Refuse examples without both classes: a policy needs to say what is and is not hate."""
    counts = {name: int((data.labels == c).sum()) for c, name in enumerate(LABEL_NAMES)}
    missing = [name for name, n in counts.items() if n == 0]
    if missing:
        have = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
        raise DataError(
            f"{where}: the examples have only one class ({have or 'none'}); give labelled "
            f"examples of both classes (0 = not_hate, 1 = hate); missing: {', '.join(missing)}"
        )


def load_example_file(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    label_map: Mapping[object, int | None] | None = None,
    weight: float = 1.0,
) -> ExampleSource:
    """A team's labelled examples from any table format :func:`load_table` reads."""
    path = Path(path)
    data = load_table(path, text_column=text_column, label_column=label_column, label_map=label_map)
    check_examples(data, str(path))
    return ExampleSource(data, check_weight(weight, str(path)), path)


def class_directions(vectors: torch.Tensor, labels: np.ndarray) -> dict[int, torch.Tensor]:
    """Per class, the mean of the unit vectors ``[layers, H]`` (not normalised)."""
    unit = torch.nn.functional.normalize(vectors.double(), dim=-1)
    return {
        int(c): unit[torch.from_numpy(np.flatnonzero(labels == c))].mean(dim=0)
        for c in np.unique(labels)
    }


def blend_prototypes(
    current: torch.Tensor | None,
    mass: Mapping[int, float],
    additions: Sequence[tuple[dict[int, torch.Tensor], dict[int, float]]],
    classes: Sequence[int],
) -> tuple[torch.Tensor, dict[int, float]]:
    """New unit prototypes ``[layers, C, H]`` and class masses: ``current`` weighted by
    ``mass`` plus each addition's class directions weighted by its masses."""
    columns, masses = [], {}
    for position, cls in enumerate(classes):
        total = mass.get(cls, 0.0) if current is not None else 0.0
        summed = current[:, position].double() * total if current is not None else 0.0
        for directions, weights in additions:
            if cls in directions:
                unit_mean = torch.nn.functional.normalize(directions[cls], dim=-1)
                summed = summed + unit_mean * weights[cls]
                total += weights[cls]
        if total <= 0:
            raise DataError(f"no examples of class {cls} ({LABEL_NAMES[cls]}) for its prototype")
        columns.append(torch.nn.functional.normalize(summed, dim=-1))
        masses[cls] = float(total)
    return torch.stack(columns, dim=1).float(), masses


def adapt_detector(
    detector: Detector,
    sources: Sequence[ExampleSource],
    mode: Mode = "add",
    store_examples: bool = False,
    keep_calibration: bool = False,
    parent: str | Path | None = None,
    show_progress: bool = False,
) -> Detector:
    """A new detector whose prototypes include (``add``) or are (``replace``) ``sources``."""
    if mode not in ("add", "replace"):
        raise DataError(f"--mode must be add or replace, not {mode!r}")
    if detector.prototypes is None:
        raise ModelError(
            "adapt needs a detector with prototypes; this one decides with a classifier head "
            "only (build one with `hateproto detector build`)"
        )
    if not sources:
        raise DataError("give at least one file of labelled examples (--examples FILE)")
    for source in sources:
        check_examples(source.data, str(source.path or source.data.name))
    policy = copy.deepcopy(current_policy(detector.metadata))
    version = int(policy.get("version", 0)) + 1
    protos = copy.copy(detector.prototypes)
    encoded = [
        protos.encode(s.data.texts, show_progress, f"encoding {s.data.name}") for s in sources
    ]
    classes = [int(c) for c in protos.classes_]
    old_mass = {
        int(k): float(v) for k, v in (policy.get("class_mass") or protos.n_per_class_).items()
    }
    additions = [_addition(v, s) for v, s in zip(encoded, sources, strict=True)]
    current = protos.prototypes_ if mode == "add" else None
    protos.prototypes_, mass = blend_prototypes(current, old_mass, additions, classes)
    protos.n_per_class_ = _counts(protos.n_per_class_ if mode == "add" else {}, sources)
    bank = _bank(detector, encoded, sources, policy, mode, store_examples)
    adapted = _derived(detector, protos, keep_calibration)
    adapted.neighbours = bank
    adapted.metadata["policy"] = _next_policy(policy, sources, mode, version, mass, parent)
    return adapted


def apply_build_sources(
    detector: Detector,
    sources: Sequence[ExampleSource],
    store_examples: bool = False,
    per_class: int | None = None,
    seed: int = 0,
) -> Detector:
    """Record a freshly built detector's sources (policy version 1); with several sources
    or weights, its prototypes become their weighted blend. ``per_class`` and ``seed``: the
    draw :func:`draw_sources` made, recorded in ``metadata.built_from``."""
    detector.metadata.pop("policy", None)
    detector.metadata.setdefault("built_from", {}).update(per_class=per_class, seed=seed)
    built = adapt_detector(detector, sources, "replace", store_examples, keep_calibration=True)
    built.metadata["policy"].update(version=1, parent_version=None, parent=None)
    built.metadata["policy"]["history"] = [
        {**built.metadata["policy"]["history"][-1], "version": 1, "mode": "build"}
    ]
    for record in built.metadata["policy"]["sources"]:
        record.update(version=1, mode="build")
    built.settings = detector.settings
    built.thresholds = detector.thresholds
    return built


# ---------------------------------------------------------------------- internals
def _addition(
    vectors: torch.Tensor, source: ExampleSource
) -> tuple[dict[int, torch.Tensor], dict[int, float]]:
    labels = source.data.labels
    weights = {int(c): source.weight * int((labels == c).sum()) for c in np.unique(labels)}
    return class_directions(vectors, labels), weights


def _counts(previous: Mapping[int, int], sources: Sequence[ExampleSource]) -> dict[int, int]:
    counts = {int(k): int(v) for k, v in previous.items()}
    for source in sources:
        for c in (0, 1):
            counts[c] = counts.get(c, 0) + int((source.data.labels == c).sum())
    return counts


def _bank(
    detector: Detector,
    encoded: Sequence[torch.Tensor],
    sources: Sequence[ExampleSource],
    policy: dict[str, Any],
    mode: Mode,
    store_examples: bool,
) -> ExampleBank:
    """The stored examples after this change (decision-layer vectors)."""
    protos = detector.prototypes
    assert protos is not None
    layer = detector.decision_layer
    position = protos.layers.index(layer)
    first = len(policy.get("sources", [])) if mode == "add" else 0
    bank = getattr(detector, "neighbours", None) if mode == "add" else None
    if bank is not None and bank.layer != layer:
        bank = None
    for offset, (vectors, source) in enumerate(zip(encoded, sources, strict=True)):
        new = ExampleBank.from_examples(
            source.data,
            vectors[:, position],
            layer,
            detector.backbone.fingerprint,
            first + offset,
            store_examples,
        )
        bank = new if bank is None else bank.extend(new)
    assert bank is not None
    return bank


def _derived(detector: Detector, protos: Any, keep_calibration: bool) -> Detector:
    """A detector sharing ``detector``'s model, deciding with the new prototypes."""
    settings = detector.settings.model_copy(update={"decide_with": "prototypes"})
    if settings.early_exit and settings.delta is None:
        settings = settings.model_copy(update={"early_exit": False})
    metadata = copy.deepcopy(detector.metadata)
    dropped = [] if detector.thresholds is None else ["early-exit thresholds"]
    if detector.calibration is not None and not keep_calibration:
        dropped.append("calibration")
    if dropped:
        metadata["adapt_dropped"] = dropped
    return Detector(
        detector.backbone,
        protos,
        detector.classifier,
        None,
        settings,
        metadata,
        detector.model_reference,
        detector.calibration if keep_calibration else None,
    )


def _next_policy(
    policy: dict[str, Any],
    sources: Sequence[ExampleSource],
    mode: Mode,
    version: int,
    mass: Mapping[int, float],
    parent: str | Path | None,
) -> dict[str, Any]:
    records = [{**s.record(), "version": version, "mode": mode} for s in sources]
    history = list(policy.get("history", []))
    history.append({"version": version, "mode": mode, "sources": [r["name"] for r in records]})
    kept = list(policy.get("sources", [])) if mode == "add" else []
    return {
        "version": version,
        "parent_version": policy.get("version", 0),
        "parent": None if parent is None else str(Path(parent).resolve()),
        "sources": kept + records,
        "class_mass": {str(c): round(m, 6) for c, m in mass.items()},
        "history": history,
    }


# ---------------------------------------------------------------------- build with sources
def draw_sources(
    first: LabeledTexts,
    files: Sequence[tuple[Path, float]],
    per_class: int | None,
    seed: int,
    load: Mapping[str, Any],
) -> list[ExampleSource]:
    """The example sources of ``detector build``: ``first`` (the benchmark or the first
    ``--data`` file) and the other files, each drawn ``per_class`` per class with ``seed``.

    ``files`` are ``(path, weight)`` from ``--data FILE[:WEIGHT]`` (empty for a benchmark);
    ``load`` holds :func:`load_example_file`'s column and label-map arguments.
    """
    from hateproto.data.sampling import check_per_class, sample_per_class

    weight, path = (files[0][1], files[0][0]) if files else (1.0, None)
    sources = [ExampleSource(first, check_weight(weight, str(path or first.name)), path)]
    sources += [load_example_file(p, weight=w, **load) for p, w in files[1:]]
    for source in sources:
        check_examples(source.data, str(source.path or source.data.name))
        check_per_class(source.data, per_class)
        if per_class is not None:
            source.data = sample_per_class(source.data, per_class, seed=seed)
    return sources


def merge_examples(sources: Sequence[ExampleSource]) -> LabeledTexts:
    """All sources' examples as one :class:`LabeledTexts` (named after the first)."""
    if len(sources) == 1:
        return sources[0].data
    first = sources[0].data
    return LabeledTexts(
        [t for s in sources for t in s.data.texts],
        np.concatenate([s.data.labels for s in sources]),
        name="+".join(s.data.name for s in sources),
        protocol=first.protocol,
        split=first.split,
    )
