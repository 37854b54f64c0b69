"""Compiled forward passes: ``torch.compile`` behind one option, for GPUs.

On a GPU, a small encoder's forward pass is bound by Python and kernel launches, not by the
GPU (measured on an H200: MiniLM in bfloat16 spent 3.1 ms per batch of 256 posts in eager
mode, whatever the batch size). ``torch.compile`` with ``mode="reduce-overhead"`` fuses
kernels and replays them as CUDA graphs, one per input shape; :meth:`Backbone.compile
<hateproto.models.backbone.Backbone.compile>` pads batches to a multiple of 8 tokens so that
few shapes occur. The first batch of each shape pays for compiling (seconds), so it pays for
long streams and services, not for one short call. Off by default; measured in
``benchmarks/gpu_speed.py`` (``hateproto_full_compiled``) and ``benchmarks/gpu_profile.py``.

Example:
    >>> from hateproto.models import Backbone  # doctest: +SKIP
    >>> backbone = Backbone.load("minilm", device="cuda").compile()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import torch

from hateproto.errors import ModelError

MODES = ("default", "reduce-overhead", "max-autotune")
"""``torch.compile`` modes: kernel fusion; and CUDA graphs too; and autotuned kernels too."""


def compile_forward(model: torch.nn.Module, mode: str = "reduce-overhead") -> Any:
    """``torch.compile(model, mode=mode, dynamic=True)``, checked first.

    Raises :class:`~hateproto.errors.ModelError` for an unknown mode. Compiling itself is
    lazy: it happens at the first call of each input shape.
    """
    if mode not in MODES:
        raise ModelError(f"unknown compile mode {mode!r}; choose from {', '.join(MODES)}")
    return torch.compile(model, mode=mode, dynamic=True)
