"""Build-time choices measured on the machine at hand: whether early exit pays (and with
batch refill or without), and which inference dtype among float32, bfloat16 (where the
device computes it natively) and int8 (on the CPU) (``hateproto detector build
--early-exit-mode auto``, and ``--dtype auto``, the default).

Both choices run the detector on the same stratified sample of up to :data:`SAMPLE_SIZE` dev
posts, at its batch size and on its device, timing the variants alternately
(:func:`time_detectors`: best of three wall-clock runs each, after one untimed run whose
decisions are kept). Each choice is recorded, with its numbers and the machine load, in the
detector's metadata (``early_exit_choice``, ``dtype_choice``; ``hateproto detector info``
shows them) and set in its settings.

The rules are plain functions of the measurements (:func:`early_exit_rule`,
:func:`dtype_rule`), so they can be checked without timing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from hateproto.data.sampling import stratified_indices
from hateproto.data.types import LabeledTexts
from hateproto.detector.detector import Detector
from hateproto.detector.results import Scores
from hateproto.early_exit.timing import interleaved_timings, load_average
from hateproto.errors import ConfigError
from hateproto.evaluation.calibration import expected_calibration_error
from hateproto.evaluation.metrics import classification_metrics
from hateproto.models.device import bf16_supported
from hateproto.models.quantization import NO_BF16_ENV, bf16_turned_off, int8_available

__all__ = [
    "AUTOTUNE_CHOICES",
    "MAX_ECE_CHANGE",
    "MIN_AGREEMENT",
    "MIN_SPEEDUP",
    "SAMPLE_SIZE",
    "Measured",
    "autotune_detector",
    "choose_dtype",
    "choose_early_exit",
    "check_autotune",
    "dtype_candidates",
    "dtype_rule",
    "early_exit_rule",
    "measurement_sample",
    "time_detectors",
    "with_dtype",
    "with_settings",
]

#: What :func:`autotune_detector` can choose.
AUTOTUNE_CHOICES = ("dtype", "early_exit")
#: Early exit is turned on only from this measured wall-clock speed-up.
MIN_SPEEDUP = 1.05
#: A faster dtype is taken only if its labels agree with float32's on this share of posts.
MIN_AGREEMENT = 0.995
#: ... and if its expected calibration error differs from float32's by at most this much.
MAX_ECE_CHANGE = 0.005
#: Posts measured (a stratified, seeded draw from dev).
SAMPLE_SIZE = 512


@dataclass
class Measured:
    """Best wall-clock seconds of each variant and its decisions on the sample."""

    seconds: dict[str, float]
    scores: dict[str, Scores]


def time_detectors(
    detectors: Mapping[str, Detector], texts: Sequence[str], repeats: int = 3
) -> Measured:
    """Each detector's decisions on ``texts`` (one untimed run each, which also warms up),
    then ``repeats`` timed runs of each, alternating; the best wall clock of each is kept.

    Example:
        >>> time_detectors({"fp32": detector}, ["they are vermin"]).seconds   # doctest: +SKIP
        {'fp32': 0.012}
    """
    scores = {name: det.score_arrays(texts) for name, det in detectors.items()}
    runs = {name: partial(det.score_arrays, texts) for name, det in detectors.items()}
    timings = interleaved_timings(runs, repeats=repeats, warmup=0)
    return Measured({name: min(times) for name, times in timings.wall.items()}, scores)


Timer = Callable[[Mapping[str, Detector], Sequence[str]], Measured]


def measurement_sample(data: LabeledTexts, n: int = SAMPLE_SIZE, seed: int = 0) -> LabeledTexts:
    """Up to ``n`` posts of ``data``, stratified by label and seeded (all of it if smaller)."""
    if len(data) <= n:
        return data
    return data.subset(stratified_indices(np.asarray(data.labels), n, seed))


def with_settings(detector: Detector, **changes: Any) -> Detector:
    """A detector sharing ``detector``'s model, prototypes and thresholds, with some settings
    changed (its own engine, so two of them can be timed alternately)."""
    settings = detector.settings.model_copy(update=changes)
    return Detector(
        detector.backbone,
        detector.prototypes,
        detector.classifier,
        detector.thresholds,
        settings,
        detector.metadata,
        detector.model_reference,
        detector.calibration,
        detector.attribute_heads,
    )


def early_exit_rule(
    seconds_off: float, seconds_on: float, loss: float, budget: float
) -> tuple[bool, str]:
    """Whether early exit pays (speed-up >= :data:`MIN_SPEEDUP` and a macro-F1 ``loss``
    within ``budget``, both in F1 units), and why.

    Example:
        >>> early_exit_rule(1.0, 1.03, 0.0, 0.005)
        (False, 'no gain')
        >>> early_exit_rule(1.0, 0.5, 0.002, 0.005)
        (True, 'macro-F1 loss 0.0020 within budget 0.005')
    """
    if seconds_off / seconds_on < MIN_SPEEDUP:
        return False, "no gain"
    if loss > budget:
        return False, f"but macro-F1 loss {loss:.4f} > budget {budget:g}"
    return True, f"macro-F1 loss {loss:.4f} within budget {budget:g}"


def dtype_rule(
    seconds: Mapping[str, float],
    agreement: Mapping[str, float],
    ece_change: Mapping[str, float] | None = None,
) -> tuple[str, str]:
    """The fastest dtype whose labels agree with float32's on >= :data:`MIN_AGREEMENT` of
    the sample and whose expected calibration error moved by at most :data:`MAX_ECE_CHANGE`
    (where measured; float32 itself always qualifies), and why.

    Example:
        >>> dtype_rule({"float32": 2.0, "bfloat16": 1.0}, {"bfloat16": 0.998})
        ('bfloat16', '2.00x faster than float32, labels agree on 99.8%')
        >>> dtype_rule({"float32": 2.0, "bfloat16": 1.0}, {"bfloat16": 0.9})[0]
        'float32'
        >>> dtype_rule({"float32": 2.0, "int8": 1.0}, {"int8": 1.0}, {"int8": 0.01})
        ('float32', 'int8 moved ECE by +0.0100 (> 0.005)')
    """
    agree = {"float32": 1.0, **agreement}
    ece = {"float32": 0.0, **(ece_change or {})}

    def rejected(name: str) -> str | None:
        if agree.get(name, 0.0) < MIN_AGREEMENT:
            return f"{name} labels agree on only {agree.get(name, 0.0):.1%}"
        if abs(ece.get(name, 0.0)) > MAX_ECE_CHANGE:
            return f"{name} moved ECE by {ece[name]:+.4f} (> {MAX_ECE_CHANGE:g})"
        return None

    fine = [name for name in seconds if rejected(name) is None]
    chosen = min(fine, key=lambda name: seconds[name])
    why = []
    if chosen != "float32":
        ratio = seconds["float32"] / seconds[chosen]
        why.append(f"{ratio:.2f}x faster than float32, labels agree on {agree[chosen]:.1%}")
        if ece_change and chosen in ece_change:
            why[-1] += f", ECE {ece[chosen]:+.4f}"
    for name in seconds:
        if name in (chosen, "float32"):
            continue
        reason = rejected(name)
        if reason is None:
            reason = f"{name} measured {seconds['float32'] / seconds[name]:.2f}x, no gain"
        why.append(reason)
    return chosen, "; ".join(why) or "the only dtype measured"


def _where(detector: Detector) -> str:
    """``cpu (batch 32)``: where and how the detector was measured."""
    return f"{detector.backbone.device} (batch {detector.settings.batch_size})"


def _posts(sample: LabeledTexts) -> str:
    """``512 posts of ihc/dev``: what was measured on."""
    return f"{len(sample)} posts of {sample.name}/{sample.split}"


def _calibrated_loss(detector: Detector) -> float | None:
    """The macro-F1 loss the calibration measured on its whole dev set (for comparison with
    the loss on the smaller, noisier measurement sample)."""
    meta = detector.thresholds.metadata if detector.thresholds is not None else {}
    if "dev_full_macro_f1" not in meta or "dev_macro_f1" not in meta:
        return None
    return round(float(meta["dev_full_macro_f1"]) - float(meta["dev_macro_f1"]), 4)


def _macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    return classification_metrics(labels, predicted)["macro_f1"]


def choose_early_exit(
    detector: Detector, sample: LabeledTexts, budget: float, timer: Timer | None = None
) -> dict[str, Any]:
    """Time ``detector`` with early exit off, on (its calibrated thresholds) and on with
    batch refill on ``sample``; apply :func:`early_exit_rule` to the faster early exit (the
    macro-F1 loss: the calibration's, on its whole dev set, when recorded; else the
    sample's), set ``detector.settings.early_exit`` and ``refill`` and return the record
    (also stored as ``metadata["early_exit_choice"]``)."""
    if detector.thresholds is None:
        raise ConfigError("early exit 'auto' needs calibrated thresholds (--exit-budget)")
    variants = {
        "off": with_settings(detector, early_exit=False, delta=None),
        "on": with_settings(detector, early_exit=True, delta=None, refill=False),
        "refill": with_settings(detector, early_exit=True, delta=None, refill=True),
    }
    measured = (timer or time_detectors)(variants, sample.texts)
    seconds = measured.seconds
    schedule = "refill" if seconds["refill"] < seconds["on"] else "on"  # the faster one
    full, exits = measured.scores["off"], measured.scores[schedule]
    f1_full = _macro_f1(sample.labels, full.labels)
    f1_exit = _macro_f1(sample.labels, exits.labels)
    # The loss is judged on the whole dev set the thresholds were calibrated on when known:
    # on the small timing sample one changed decision moves macro-F1 by ~0.2 points.
    calibrated = _calibrated_loss(detector)
    loss = f1_full - f1_exit if calibrated is None else calibrated
    enabled, why = early_exit_rule(seconds["off"], seconds[schedule], loss, budget)
    speedup = seconds["off"] / seconds[schedule]
    state = "on" if enabled else "off"
    refill = enabled and schedule == "refill"
    refill_gain = seconds["on"] / seconds["refill"]
    record = {
        "enabled": enabled,
        "reason": f"early exit {state}: measured {speedup:.2f}x on {_where(detector)}, {why} "
        f"({_posts(sample)}); batch refill {'on' if refill else 'off'} ({refill_gain:.2f}x "
        "plain early exit)",
        "refill": refill,
        "refill_speedup": round(refill_gain, 4),
        "measured_speedup": round(speedup, 4),
        "counted_speedup": round(float(np.mean(full.exit_layers) / np.mean(exits.exit_layers)), 4),
        "seconds": {name: round(s, 4) for name, s in measured.seconds.items()},
        "dev_macro_f1_full": round(f1_full, 4),
        "dev_macro_f1_exit": round(f1_exit, 4),
        "budget": budget,
        "calibration_dev_loss": calibrated,
        "loss_judged_on": "timing sample" if calibrated is None else "calibration dev set",
        "n": len(sample),
        "batch_size": detector.settings.batch_size,
        "device": str(detector.backbone.device),
        "dtype": detector.settings.dtype,
        "loadavg": load_average(),
    }
    detector.settings = detector.settings.model_copy(
        update={"early_exit": enabled, "refill": refill}
    )
    detector.metadata["early_exit_choice"] = record
    return record


def with_dtype(detector: Detector, dtype: str) -> Detector:
    """The same detector with its weights converted to ``dtype`` in memory (a copy: the
    prototypes, thresholds, calibration and examples are shared; ``detector`` is unchanged).
    ``int8`` quantises a float32 copy's linear layers (:mod:`hateproto.models.quantization`)."""
    import copy

    from hateproto.models.loading import torch_dtype
    from hateproto.models.quantization import quantize_backbone

    if detector.classifier is not None:
        if dtype == "int8":
            classifier = copy.deepcopy(detector.classifier).float()
            backbone = quantize_backbone(classifier.backbone)
            classifier.head.to(backbone.dtype)
        else:
            classifier = copy.deepcopy(detector.classifier).to(torch_dtype(dtype))
            backbone = classifier.backbone
    elif dtype == "int8":
        classifier, backbone = None, copy.copy(detector.backbone)
        backbone.model = copy.deepcopy(detector.backbone.model).float()
        backbone.lm = None
        backbone = quantize_backbone(backbone)
    else:
        classifier, backbone = None, detector.backbone.astype(dtype)
    protos = detector.prototypes
    prototypes = None if protos is None else protos.with_backbone(backbone)
    settings = detector.settings.model_copy(update={"dtype": dtype})
    twin = Detector(
        backbone,
        prototypes,
        classifier,
        detector.thresholds,
        settings,
        detector.metadata,
        detector.model_reference,
        detector.calibration,
        detector.attribute_heads,
    )
    twin.neighbours, twin.base_model = detector.neighbours, detector.base_model
    return twin


def dtype_candidates(device: Any, classifier: Any = None) -> tuple[list[str], list[str]]:
    """The dtypes worth measuring on ``device`` (float32 first), and why the others are not:
    bfloat16 where the device computes it natively (unless ``HATEPROTO_NO_BF16=1``), int8 on
    the CPU for detectors whose folder does not hold encoder weights (prototypes, or a probe
    head on a frozen encoder: the folder keeps float weights, quantised when loaded)."""
    names, skipped = ["float32"], []
    mode = getattr(getattr(classifier, "config", None), "mode", "probe")
    if bf16_turned_off():
        skipped.append(f"bfloat16 turned off ({NO_BF16_ENV}=1)")
    elif bf16_supported(device):
        names.append("bfloat16")
    else:
        skipped.append(f"bfloat16 not supported on {device}")
    if mode != "probe":
        skipped.append(f"int8 not measured for a {mode} fine-tuned encoder (saved in float)")
    elif device.type == "cpu" and int8_available():
        names.append("int8")
    elif device.type != "cpu":
        skipped.append("int8 runs on the CPU only")
    else:
        skipped.append("int8 needs torch._int_mm")
    return names, skipped


def choose_dtype(detector: Detector, sample: LabeledTexts, timer: Timer | None = None) -> Detector:
    """Time the float32 ``detector`` and its copies in the other
    :func:`dtype_candidates` on ``sample`` (early exit off), apply :func:`dtype_rule` to
    their times, label agreement and ECE change, and return the chosen one with
    ``metadata["dtype_choice"]`` recorded."""
    device, where = detector.backbone.device, _where(detector)
    names, skipped = dtype_candidates(device, detector.classifier)
    record: dict[str, Any] = {"n": len(sample), "device": str(device), "candidates": names}
    if len(names) == 1:
        chosen, reason, variants = "float32", "; ".join(skipped), {}
        record.update(seconds={}, agreement_with_float32=None, ece=None)
    else:
        variants = {
            name: detector if name == "float32" else with_dtype(detector, name) for name in names
        }
        timed = {name: with_settings(det, early_exit=False) for name, det in variants.items()}
        measured = (timer or time_detectors)(timed, sample.texts)
        labels = {name: np.asarray(s.labels) for name, s in measured.scores.items()}
        truth = np.asarray(sample.labels)
        ece = {
            name: expected_calibration_error(truth, np.asarray(s.proba)[:, 1])
            for name, s in measured.scores.items()
        }
        others = [name for name in names if name != "float32"]
        agreement = {name: float(np.mean(labels[name] == labels["float32"])) for name in others}
        change = {name: ece[name] - ece["float32"] for name in others}
        chosen, reason = dtype_rule(measured.seconds, agreement, change)
        reason = "; ".join([reason, *skipped])
        record.update(
            seconds={name: round(s, 4) for name, s in measured.seconds.items()},
            agreement_with_float32={name: round(a, 4) for name, a in agreement.items()},
            ece={name: round(float(e), 4) for name, e in ece.items()},
        )
    record.update(
        chosen=chosen,
        reason=f"dtype {chosen} on {where}: {reason} ({_posts(sample)})",
        loadavg=load_average(),
    )
    result = variants.get(chosen, detector)
    result.metadata = {**detector.metadata, "dtype_choice": record}
    return result


def check_autotune(
    choices: Collection[str], budget: float | None, dev: LabeledTexts | None, delta: float | None
) -> None:
    """Refuse unknown choices, and early exit 'auto' without calibrated thresholds."""
    unknown = sorted(set(choices) - set(AUTOTUNE_CHOICES))
    if unknown:
        raise ConfigError(f"cannot autotune {unknown}; choose from {list(AUTOTUNE_CHOICES)}")
    if "early_exit" not in choices:
        return
    if budget is None or dev is None:
        raise ConfigError(
            "early exit 'auto' needs per-layer thresholds calibrated on a dev set: give "
            "--exit-budget POINTS (exit_budget=...) and a dev set"
        )
    if delta is not None:
        raise ConfigError("early exit 'auto' measures the calibrated thresholds; drop --delta")


def autotune_detector(
    detector: Detector,
    sample: LabeledTexts,
    choices: Collection[str],
    budget: float | None = None,
    timer: Timer | None = None,
) -> Detector:
    """Make the ``choices`` (``"dtype"``, then ``"early_exit"``, on the chosen dtype) on up
    to :data:`SAMPLE_SIZE` posts of ``sample``; returns the detector to save."""
    check_autotune(choices, budget, sample, None)
    sample = measurement_sample(sample)
    if "dtype" in choices:
        detector = choose_dtype(detector, sample, timer)
    if "early_exit" in choices:
        assert budget is not None
        choose_early_exit(detector, sample, budget, timer)
    return detector
