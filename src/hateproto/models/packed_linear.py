"""Linear layers whose weights are packed once for oneDNN, for inference on the CPU.

``nn.Linear`` on the CPU hands its weight to oneDNN in PyTorch's row-major layout, and oneDNN
rearranges it into its own blocked layout on every call before multiplying. For a short post
that rearranging costs about as much as the product itself. :class:`PackedLinear` keeps a
packed copy of the weight (``torch.ops.mkldnn._reorder_linear_weight``, the packing
Inductor's frozen graphs use) and multiplies with ``torch.ops.mkldnn._linear_pointwise``: the
same oneDNN kernel without the per-call rearranging. The numbers are equal up to bfloat16
rounding: bit for bit for MiniLM's layer shapes; on MPNet-base one label in 1,000 posts
changed. One layer at a time: ``benchmarks/packed_linear.py``
(``benchmarks/results/packed-linear.json``); end to end: ``benchmarks/cpu-speed.md`` (round
4; ``cpu-side-by-side-packed.json`` and ``cpu-side-by-side-mpnet-packed.json``).

The layer keeps the original ``weight`` and ``bias`` parameters (same state dict, same
fingerprint). The packed copy is made at the first forward pass that can use it, and again
whenever the weight changes (an optimiser step, ``load_state_dict``, ``.to(dtype)``). It is
used only for bfloat16 inputs on the CPU with autograd off, as every hateproto
forward pass for scoring runs; otherwise the layer is a plain ``nn.Linear``. Copies and
pickles drop it (oneDNN's packed tensors cannot be copied); it is rebuilt at first use.

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(8, 4))
    >>> pack_linears(model) if packing_available() else 1
    1
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import nn

PACKED_DTYPES = (torch.bfloat16,)
"""Weight dtypes that are packed: bfloat16 only. In float32 packing was slower for some shapes
(``benchmarks/results/packed-linear.json``), so float32 layers stay plain."""

PACK_ROWS = 32
"""The row count oneDNN is told to expect when packing (a hint; any count works)."""


def packing_available() -> bool:
    """Whether this torch build has oneDNN and its packed linear operators."""
    mkldnn = torch.ops.mkldnn
    return (
        torch.backends.mkldnn.is_available()
        and hasattr(mkldnn, "_reorder_linear_weight")
        and hasattr(mkldnn, "_linear_pointwise")
    )


class PackedLinear(nn.Linear):
    """An ``nn.Linear`` that multiplies with a oneDNN-packed copy of its weight when it can
    (module docstring). Build one with :meth:`from_linear`."""

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> PackedLinear:
        """A packed layer sharing ``linear``'s parameters (no copy)."""
        layer = _sharing_parameters(cls, linear)
        layer._drop_packed()
        return layer

    def _drop_packed(self) -> None:
        self._packed: torch.Tensor | None = None
        self._packed_key: tuple[Any, ...] | None = None

    def _can_pack(self, x: torch.Tensor) -> bool:
        weight = self.weight
        return (
            x.device.type == "cpu"
            and weight.device.type == "cpu"
            and x.dtype == weight.dtype
            and weight.dtype in PACKED_DTYPES
            and (self.bias is None or self.bias.dtype == weight.dtype)
            and not (torch.is_grad_enabled() and (weight.requires_grad or x.requires_grad))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ weight.T + bias``, through the packed weight where it can be used."""
        if not self._can_pack(x):
            return F.linear(x, self.weight, self.bias)
        weight = self.weight
        # inference tensors (a model loaded under inference_mode) keep no version counter
        version = None if weight.is_inference() else weight._version
        key = (weight.data_ptr(), version, weight.dtype)
        if self._packed is None or self._packed_key != key:
            self._packed = torch.ops.mkldnn._reorder_linear_weight(weight.detach(), PACK_ROWS)
            self._packed_key = key
        return torch.ops.mkldnn._linear_pointwise(x, self._packed, self.bias, "none", [], "")

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_packed"] = None
        state["_packed_key"] = None
        return state


def _sharing_parameters(cls: type[nn.Linear], linear: nn.Linear) -> Any:
    """A ``cls`` layer holding ``linear``'s own parameters and mode (nothing copied)."""
    layer = cls.__new__(cls)
    nn.Module.__init__(layer)
    layer.in_features, layer.out_features = linear.in_features, linear.out_features
    layer.weight, layer.bias = linear.weight, linear.bias
    layer.train(linear.training)
    return layer


def _replace_linears(model: nn.Module, chosen: Any, convert: Any) -> int:
    """Every named submodule for which ``chosen(module)`` holds replaced by
    ``convert(module)``, in place; returns how many."""
    targets = [(n, m) for n, m in model.named_modules() if n and chosen(m)]
    for name, layer in targets:
        model.set_submodule(name, convert(layer))
    return len(targets)


def pack_linears(model: nn.Module) -> int:
    """Replace every plain ``nn.Linear`` of ``model`` (not subclasses, such as int8 or LoRA
    layers) by a :class:`PackedLinear` sharing its parameters, in place; returns how many.
    Does nothing (returns 0) where :func:`packing_available` is false."""
    if not packing_available():
        return 0
    return _replace_linears(model, lambda m: type(m) is nn.Linear, PackedLinear.from_linear)


def unpack_linears(model: nn.Module) -> int:
    """Undo :func:`pack_linears`: every :class:`PackedLinear` of ``model`` back to a plain
    ``nn.Linear`` sharing its parameters, in place; returns how many."""
    return _replace_linears(
        model,
        lambda m: isinstance(m, PackedLinear),
        lambda packed: _sharing_parameters(nn.Linear, packed),
    )
