"""Where models run: resolving ``--device`` and moving batches there.

Every inference path (``Backbone.load``, detectors, ``classify``, ``serve``, early exit,
``evaluate``, the experiments) takes a device written as ``auto``, ``cpu``, ``cuda`` or
``cuda:N``. ``auto`` (the default) is the first GPU when torch sees one, else the CPU; the
``HATEPROTO_DEVICE`` environment variable changes the default for a whole process.

Models stay where they are put; every tensor the engine, layer stepping, pooling, prototypes
and fingerprinting create follows the model's device, and results come back to the CPU once
per batch. Host batches are pinned and copied with ``non_blocking`` on CUDA
(:func:`to_device`).

Example:
    >>> str(resolve_device("cpu"))
    'cpu'
    >>> check_device_name("gpu")
    Traceback (most recent call last):
    ...
    hateproto.errors.ModelError: unknown device 'gpu'; use auto, cpu, cuda or cuda:N
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import torch

from hateproto.errors import ModelError

DEVICE_ENV = "HATEPROTO_DEVICE"
"""Environment variable holding the default device of a process (default ``auto``)."""
_PATTERN = re.compile(r"^(auto|cpu|cuda|cuda:\d+)$")


def check_device_name(name: str) -> str:
    """``name`` if it is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; else :class:`ModelError`."""
    if not _PATTERN.match(name):
        raise ModelError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")
    return name


def set_default_device(name: str) -> None:
    """Make ``name`` the default device of this process (and of the processes it starts),
    by setting ``$HATEPROTO_DEVICE``; it is checked first (:class:`ModelError` if unknown)."""
    os.environ[DEVICE_ENV] = check_device_name(name)


def default_device_name() -> str:
    """The device asked for when none is given: ``$HATEPROTO_DEVICE``, else ``auto``."""
    return check_device_name(os.environ.get(DEVICE_ENV, "").strip() or "auto")


def resolve_device(name: str | torch.device | None = None) -> torch.device:
    """The :class:`torch.device` for ``name`` (``None``: :func:`default_device_name`).

    Raises :class:`ModelError` (one line) for an unknown name, or a GPU that torch does not
    see.
    """
    if isinstance(name, torch.device):
        return name
    name = check_device_name(name) if name is not None else default_device_name()
    if name == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ModelError(
            f"device {name!r} asked for, but torch sees no GPU (torch {torch.__version__}); "
            "use --device cpu or auto"
        )
    device = torch.device(name if ":" in name else "cuda:0")
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise ModelError(f"device {name!r} asked for, but torch sees {count} GPU(s)")
    return device


def module_device(module: torch.nn.Module) -> torch.device:
    """The device of a module's first parameter (CPU for a module without parameters)."""
    for parameter in module.parameters():
        return parameter.device
    return torch.device("cpu")


def place(model: Any, device: str | torch.device | None) -> Any:
    """Move a module (a backbone's model, a ``HateClassifier`` with its head) to ``device``
    in place and return it; ``None`` resolves the process default."""
    target = resolve_device(device)
    if module_device(model) != target:
        model.to(target)
    return model


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """Copy a host batch to ``device``: pinned and ``non_blocking`` on CUDA, as is on CPU."""
    if device.type != "cuda":
        return {k: v.to(device) for k, v in batch.items()}
    return {
        k: v if v.device == device else v.pin_memory().to(device, non_blocking=True)
        for k, v in batch.items()
    }


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work on ``device`` (nothing to wait for on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass(frozen=True)
class DeviceChoice:
    """What a process picks by default, and why (what ``hateproto models info`` prints)."""

    device: str
    device_reason: str
    dtype: str
    dtype_reason: str
    bf16_supported: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dict(self.__dict__)


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively (CUDA: what torch reports, compute
    capability 8.0+; CPU: AVX512-BF16 or AMX-BF16 among ``torch.cpu.get_capabilities()``)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    capabilities = getattr(torch.cpu, "get_capabilities", None)
    if capabilities is None:
        return False
    try:
        found = capabilities()
    except (RuntimeError, TypeError):
        return False
    return bool(found.get("avx512_bf16") or found.get("amx_bf16"))


def default_choice(name: str | None = None) -> DeviceChoice:
    """The device and inference dtype used by default, with the reasons.

    Loading a model defaults to ``float32``: bfloat16 is faster (2.4x for MiniLM on the
    project's 2-core CPU, ``benchmarks/results/dtype-speed-cpu.json``; more on GPUs) but its
    labels must be checked per model. ``hateproto detector build`` makes that check by
    default (``--dtype auto``) and stores the choice in the detector, which ``classify`` and
    ``serve`` then load in it.
    """
    asked = name or default_device_name()
    device = resolve_device(asked)
    if asked == "auto":
        why = "a GPU is visible to torch" if device.type == "cuda" else "torch sees no GPU"
        device_reason = f"auto: {why}"
    else:
        device_reason = f"asked for ({asked})"
    if device.type == "cuda":
        device_reason += f"; {torch.cuda.get_device_name(device)}"
    native = bf16_supported(device)
    support = "supports" if native else "does not support"
    dtype_reason = f"float32 is the default; this device {support} bfloat16 natively"
    if native:
        dtype_reason += (
            ": bfloat16 is faster (2.4x for MiniLM on a 2-core CPU); detector build checks "
            "per detector that its labels agree with float32's (--dtype auto, the default) "
            "and records the choice, which classify and serve use"
        )
    return DeviceChoice(str(device), device_reason, "float32", dtype_reason, native)
