"""Compiled forward passes: ``torch.compile`` behind one option.

On a GPU, a small encoder's forward pass is bound by Python and kernel launches, not by the
GPU (measured on an H200: MiniLM in bfloat16 spent 3.1 ms per batch of 256 posts in eager
mode, whatever the batch size). ``torch.compile`` with ``mode="reduce-overhead"`` fuses
kernels and replays them as CUDA graphs, one per input shape.

On a CPU the same holds for short posts: MiniLM's eager forward pass of one post spends
about half its time in Python and in small element-wise kernels. The ``frozen`` mode fuses
them (inductor's C++ kernels) and folds the weights into the graph as constants
(``freezing``), which lets oneDNN pre-pack the linear layers. It is for inference only
(under ``torch.inference_mode``, as every hateproto forward pass is). Measured in
``benchmarks/cpu-speed.md`` ("Round 4").

:meth:`Backbone.compile <hateproto.models.backbone.Backbone.compile>` pads batches to a
multiple of 8 tokens so that few shapes occur. The first batch of each shape pays for
compiling (seconds; tens of seconds on a CPU), so it pays for long streams and services,
not for one short call (``hateproto serve --compile`` compiles before it listens). Off by
default.

Example:
    >>> from hateproto.models import Backbone  # doctest: +SKIP
    >>> backbone = Backbone.load("minilm", device="cuda").compile()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import torch

from hateproto.errors import ModelError

MODES = ("default", "reduce-overhead", "max-autotune", "frozen")
"""``torch.compile`` modes: kernel fusion; and CUDA graphs too; and autotuned kernels too;
``frozen``: kernel fusion with the weights folded in as constants (inference only)."""


def default_mode(device: torch.device | str) -> str:
    """The mode that pays on ``device``: ``reduce-overhead`` (CUDA graphs) on a GPU,
    ``frozen`` elsewhere."""
    return "reduce-overhead" if torch.device(device).type == "cuda" else "frozen"


def compile_forward(model: torch.nn.Module, mode: str = "reduce-overhead") -> Any:
    """``torch.compile(model, mode=mode, dynamic=True)``, checked first (``frozen``:
    ``options={"freezing": True}`` instead of a mode).

    Raises :class:`~hateproto.errors.ModelError` for an unknown mode. Compiling itself is
    lazy: it happens at the first call of each input shape.
    """
    if mode not in MODES:
        raise ModelError(f"unknown compile mode {mode!r}; choose from {', '.join(MODES)}")
    if mode == "frozen":
        return torch.compile(model, dynamic=True, options={"freezing": True})
    return torch.compile(model, mode=mode, dynamic=True)


COMPILE_FAILURES = frozenset({"InductorError", "BackendCompilerFailed", "InvalidCxxCompiler"})
"""Names of the exceptions ``torch.compile`` raises when it cannot build kernels (matched by
name, so that no private torch module is imported)."""


def compile_failure(exc: BaseException) -> ModelError | None:
    """A :class:`~hateproto.errors.ModelError` saying what to do when ``exc`` is
    ``torch.compile`` failing to build its kernels (on a CPU, most often: no working C++
    compiler); ``None`` for any other error."""
    if type(exc).__name__ not in COMPILE_FAILURES:
        return None
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ModelError(
        f"compiling the forward pass failed ({first_line[:300]}). --compile needs what "
        "torch.compile needs: on a CPU a working C++ compiler (g++, or set CXX); run "
        "without --compile otherwise"
    )
