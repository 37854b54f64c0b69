"""Typed settings of a :class:`~hateproto.detector.Detector` (stored in ``detector.json``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hateproto.config import YamlConfig
from hateproto.dtypes import Dtype


class DetectorSettings(YamlConfig):
    """How a detector turns texts into decisions.

    Attributes:
        dtype: weights dtype (:mod:`hateproto.dtypes`; ``bfloat16`` is 1.5-2x faster on
            this CPU; ``int8``: int8 linear layers, CPU only). ``auto``: the dtype recorded
            in the detector folder; for a model loaded from a reference, float32. A
            detector's settings always hold the dtype its weights are in. ``hateproto
            detector build --dtype auto`` measures bfloat16 and int8 against float32 and
            records the choice and why (``dtype_choice`` in the metadata;
            :mod:`hateproto.detector.autotune`).
        device: where the model runs: ``auto`` (a GPU when torch sees one), ``cpu``,
            ``cuda`` or ``cuda:N``; ``None``: ``$HATEPROTO_DEVICE`` or ``auto``. A property
            of the machine, so not written to ``detector.json``.
        compile: run forward passes through ``torch.compile``: with CUDA graphs on a GPU,
            with frozen weights on a CPU (:mod:`hateproto.models.compiled`); each new shape
            first pays for compiling. Like ``device``, not written to ``detector.json``.
        batch_size: texts per forward pass.
        max_length: tokens per text; longer texts are truncated.
        decide_with: ``prototypes`` (at ``decision_layer``), ``head`` (the fine-tuned
            classification head, after the last layer) or ``auto``: the head when the model
            has one, else the prototypes.
        decision_layer: prototype layer that decides when early exit is off (``None``: the
            prototypes' default layer, else the last one); the layers above it are not run.
        early_exit: stop at the first layer whose prototype margin clears its threshold; rows
            that never do are decided by the head (``decide_with`` head) or the deepest
            prototypes. ``detector build --early-exit-mode auto`` turns it on only where it is
            measured to pay (``early_exit_choice`` in the metadata).
        delta: one margin threshold for every layer; ``None`` uses the calibrated per-layer
            thresholds saved in the detector folder.
        exit_policy: how early exit uses its thresholds, a name of
            :data:`hateproto.early_exit.policies.SERVED_POLICIES` (``margin``: HatePrototypes'
            prototype margin).
        min_exit_layer: no exit before this layer.
        refill: with early exit, refill the places of exited rows from the next batch so that
            batches stay full; ``--early-exit-mode auto`` keeps it where it is measured faster.
        normalize: text normalisation applied to every text before scoring, as it was to the
            training texts: ``none`` or ``deobfuscate`` (leetspeak, spaced letters, invisible
            characters; :mod:`hateproto.data.spelling`).

    Example:
        >>> DetectorSettings(early_exit=True, delta=0.1).delta
        0.1
    """

    dtype: Dtype = "auto"
    device: str | None = Field(None, pattern=r"^(auto|cpu|cuda|cuda:\d+)$", exclude=True)
    compile: bool = Field(False, exclude=True)
    batch_size: int = Field(32, ge=1)
    max_length: int = Field(256, ge=8)
    decide_with: Literal["auto", "prototypes", "head"] = "auto"
    decision_layer: int | None = None
    early_exit: bool = False
    delta: float | None = Field(None, ge=0.0)
    exit_policy: str = "margin"
    min_exit_layer: int = Field(1, ge=0)
    refill: bool = False
    normalize: Literal["none", "deobfuscate"] = "none"


def with_actual_dtype(settings: DetectorSettings, backbone: Any) -> DetectorSettings:
    """``settings`` stating the dtype ``backbone``'s weights are in (``auto`` resolved;
    ``int8`` for a backbone whose linear layers are quantised)."""
    if getattr(backbone, "quantization", None) is not None:
        actual = "int8"
    else:
        actual = str(backbone.dtype).removeprefix("torch.")
    return settings if settings.dtype == actual else settings.model_copy(update={"dtype": actual})


def without_emulated_bf16(settings: DetectorSettings) -> tuple[DetectorSettings, str | None]:
    """``settings`` with a *recorded* ``bfloat16`` replaced by ``float32`` when the device it
    loads on has no native bfloat16 (a detector built where bfloat16 won, moved to a CPU
    without AVX512-BF16/AMX, or ``HATEPROTO_NO_BF16=1``): there bfloat16 is emulated and
    slower than float32, whose labels are the reference anyway. Returns the settings and a
    sentence saying what changed (``None`` when nothing did)."""
    if settings.dtype != "bfloat16":
        return settings, None
    from hateproto.models.device import resolve_device
    from hateproto.models.quantization import native_bf16

    device = resolve_device(settings.device)
    if device.type != "cpu" or native_bf16(device):
        return settings, None
    reason = (
        "this detector records bfloat16, but this CPU has no native bfloat16 (emulated, "
        "slower than float32): loading it in float32; pass --dtype bfloat16 to force it"
    )
    return settings.model_copy(update={"dtype": "float32"}), reason
