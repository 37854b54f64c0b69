"""int8 inference on the CPU: every linear layer of a backbone with int8 weights and int8
activations, the rest of the model (embeddings, layer norms, attention) untouched.

Route, chosen by measurement (``benchmarks/cpu-speed.md``): PyTorch's own int8 matrix product
(``torch._int_mm``, oneDNN's VNNI kernels: 2.1x the bfloat16 and 9x the float32 products on
the project's CPU) inside an :class:`Int8Linear` module. The model keeps its modules, so
everything that walks them works unchanged: ``output_hidden_states``, the six-layer probe,
layer stepping (:mod:`hateproto.models.stepping`), early exit and decisions below the last
layer. ``torch.ao.quantization.quantize_dynamic`` (deprecated, per-tensor activations,
1.2x bfloat16 and labels far from float32's), ONNX Runtime's dynamic int8 (one graph for the
whole model: no layer stepping) and OpenVINO (bfloat16 1.19x PyTorch's on the bare encoder
pass, its int8 routes slower or inexact: ``benchmarks/cpu_openvino.py``) were measured and are
not used. On a CPU with AMX, bfloat16 outruns this int8 path and ``--dtype auto`` keeps it.

How it quantises (W8A8):

- weights: symmetric int8, one scale per output channel, after SmoothQuant's migration
  (Xiao et al., 2023): input channel ``j`` of every weight is multiplied by
  ``s_j = max|x_j|^a / max|W_j|^(1-a)`` (``a`` = :data:`SMOOTHING`) and the activations divided
  by it, so that the few channels whose activations are far larger than the rest stop setting
  every token's scale. ``max|x_j|`` is measured on :func:`calibration_texts` when a model is
  quantised (deterministic: the packaged sample posts, so a detector folder needs no extra
  file);
- activations: symmetric int8 with one scale per token, computed on the fly;
- the product accumulates in int32 and is rescaled to the compute dtype (bfloat16 where the
  CPU has native bfloat16, else float32: :func:`compute_dtype`).

Example:
    >>> backbone = Backbone.load("minilm")                     # doctest: +SKIP
    >>> quantize_backbone(backbone).quantization["modules"]     # doctest: +SKIP
    37
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hateproto.errors import ModelError
from hateproto.models.device import bf16_supported, resolve_device

Backbone = Any  # hateproto.models.backbone.Backbone (which imports this module when loading)

__all__ = [
    "INT8",
    "NO_BF16_ENV",
    "SMOOTHING",
    "Int8Linear",
    "activation_ranges",
    "bf16_turned_off",
    "calibration_texts",
    "check_cpu",
    "compute_dtype",
    "int8_available",
    "is_quantized",
    "load_quantized",
    "native_bf16",
    "quantize_backbone",
    "quantize_linears",
]

INT8 = "int8"
"""The dtype name of this path (:mod:`hateproto.dtypes`)."""

SMOOTHING = 0.5
"""SmoothQuant's migration strength ``a`` (0: none; 0.5 halves the activation outliers'
range in log scale and moves it to the weights)."""

NO_BF16_ENV = "HATEPROTO_NO_BF16"
"""Set to ``1`` to behave as on a CPU without native bfloat16 (int8 then computes its
non-linear parts in float32, and ``--dtype auto`` does not measure bfloat16): how the
no-bfloat16 figures of ``benchmarks/cpu-speed.md`` were made."""


def check_cpu(device: torch.device) -> None:
    """Refuse int8 on anything but the CPU, or with a torch that lacks ``torch._int_mm``."""
    if device.type != "cpu":
        raise ModelError(
            f"dtype int8 runs on the CPU only (device {device}); use bfloat16 or float16 on a GPU"
        )
    if not int8_available():
        raise ModelError(f"dtype int8 needs torch._int_mm; torch {torch.__version__} has none")


def bf16_turned_off() -> bool:
    """Whether :data:`NO_BF16_ENV` asks to behave as on a CPU without native bfloat16."""
    return os.environ.get(NO_BF16_ENV, "") not in ("", "0")


def int8_available() -> bool:
    """Whether this torch has the int8 matrix product the int8 path needs."""
    return hasattr(torch, "_int_mm")


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively, unless :data:`NO_BF16_ENV` says to
    behave as if it did not."""
    return not bf16_turned_off() and bf16_supported(device)


def compute_dtype(device: torch.device) -> torch.dtype:
    """The dtype of an int8 model's other parts: bfloat16 where native, else float32."""
    return torch.bfloat16 if native_bf16(device) else torch.float32


class Int8Linear(nn.Module):
    """``nn.Linear`` with int8 weights and per-token int8 activations (see the module).

    Buffers: ``weight`` int8 ``[in, out]`` (the layout ``torch._int_mm`` multiplies),
    ``weight_scale`` ``[out]``, ``bias`` ``[out]`` (or ``None``), ``inv_smooth`` ``[in]`` (the
    activations' SmoothQuant divisor, as a multiplier; ``None`` without smoothing).
    """

    def __init__(
        self,
        weight: torch.Tensor,
        weight_scale: torch.Tensor,
        bias: torch.Tensor | None,
        inv_smooth: torch.Tensor | None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = int(weight.shape[0]), int(weight.shape[1])
        self.register_buffer("weight", weight)
        self.register_buffer("weight_scale", weight_scale)
        self.register_buffer("bias", bias)
        self.register_buffer("inv_smooth", inv_smooth)

    @classmethod
    def from_linear(
        cls,
        linear: nn.Linear,
        input_range: torch.Tensor | None,
        smoothing: float = SMOOTHING,
    ) -> Int8Linear:
        """Quantise ``linear``; ``input_range`` ``[in]``: the largest magnitude each input
        channel took on calibration texts (``None``: no smoothing)."""
        weight = linear.weight.detach().float()
        inv_smooth = None
        if input_range is not None and smoothing > 0:
            x_max = input_range.float().to(weight.device).clamp_min(1e-5)
            w_max = weight.abs().amax(dim=0).clamp_min(1e-5)
            smooth = (x_max**smoothing / w_max ** (1 - smoothing)).clamp(1e-3, 1e3)
            weight = weight * smooth
            inv_smooth = 1.0 / smooth
        scale = weight.abs().amax(dim=1).clamp_min(1e-8) / 127.0
        q = torch.round(weight / scale[:, None]).clamp_(-127, 127).to(torch.int8)
        bias = None if linear.bias is None else linear.bias.detach().float()
        return cls(q.t(), scale, bias, inv_smooth)

    def _apply(self, fn: Any, recurse: bool = True) -> Int8Linear:
        """Move like any module, but keep the scales, bias and smoothing in float32 (a
        bfloat16 scale would shift every output channel by up to 0.4%)."""
        kept = {
            name: b for name, b in self._buffers.items() if b is not None and b.is_floating_point()
        }
        super()._apply(fn, recurse)
        for name, before in kept.items():
            after = self._buffers[name]
            if after is not None and after.dtype != before.dtype:
                self._buffers[name] = before.to(after.device)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape, dtype = x.shape, x.dtype
        rows = x.reshape(-1, self.in_features)
        if self.inv_smooth is not None:
            rows = rows * self.inv_smooth  # a new float32 tensor
        elif dtype != torch.float32:
            rows = rows.float()
        else:
            rows = rows.clone()  # changed in place below
        scale = rows.abs().amax(dim=1, keepdim=True).clamp_min_(1e-8).div_(127.0)
        q = rows.div_(scale).round_().to(torch.int8)
        out = torch._int_mm(q, self.weight).to(torch.float32).mul_(scale)
        out.mul_(self.weight_scale)
        if self.bias is not None:
            out.add_(self.bias)
        return out.to(dtype).reshape(*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        smooth = self.inv_smooth is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, smooth={smooth}"


def calibration_texts() -> list[str]:
    """The texts activation ranges are measured on: the packaged sample posts (60, half of
    them hateful), so that the same model is always quantised the same way."""
    from hateproto.data import load_sample

    return list(load_sample("all").texts)


def _linears(model: nn.Module) -> dict[str, nn.Linear]:
    return {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}


@torch.inference_mode()
def activation_ranges(
    backbone: Backbone, texts: Sequence[str], batch_size: int = 32, max_length: int = 256
) -> dict[str, torch.Tensor]:
    """The largest magnitude of every input channel of every linear layer of
    ``backbone.model`` (padding included: its rows are real layer inputs too) over
    ``texts``, by module name."""
    ranges: dict[str, torch.Tensor] = {}

    def hook(name: str) -> Any:
        def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: Any) -> None:
            x = inputs[0].detach()
            peak = x.reshape(-1, x.shape[-1]).abs().amax(dim=0).float()
            ranges[name] = peak if name not in ranges else torch.maximum(ranges[name], peak)

        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in _linears(backbone.model).items()]
    try:
        backbone.encode(list(texts), layers="last", batch_size=batch_size, max_length=max_length)
    finally:
        for handle in handles:
            handle.remove()
    return ranges


def quantize_linears(
    model: nn.Module,
    ranges: dict[str, torch.Tensor],
    smoothing: float = SMOOTHING,
    keep: Sequence[str] = (),
) -> int:
    """Replace every ``nn.Linear`` of ``model`` by an :class:`Int8Linear`, in place, except
    those whose module name contains one of ``keep``; returns how many were replaced."""
    count = 0
    for name, linear in _linears(model).items():
        if any(part in name for part in keep):
            continue
        quantized = Int8Linear.from_linear(linear, ranges.get(name), smoothing)
        model.set_submodule(name, quantized.to(linear.weight.device))
        count += 1
    return count


def is_quantized(backbone: Any) -> bool:
    """Whether ``backbone``'s linear layers are int8 (:func:`quantize_backbone`)."""
    return getattr(backbone, "quantization", None) is not None


def quantize_backbone(
    backbone: Backbone,
    texts: Sequence[str] | None = None,
    smoothing: float = SMOOTHING,
    dtype: torch.dtype | None = None,
    keep: Sequence[str] = (),
) -> Backbone:
    """Quantise ``backbone``'s linear layers to int8, in place, and return it.

    Its fingerprint is kept (taken before: it names the weights the detector was built on);
    the other parts are converted to ``dtype`` (default :func:`compute_dtype`). ``texts``:
    the calibration texts (default :func:`calibration_texts`); ``keep``: parts of module names
    whose linear layers stay in ``dtype`` (for example ``("output.dense",)``: a BERT layer's
    attention and feed-forward output products). Records what was done in
    ``backbone.quantization``. CPU only: raises :class:`ModelError` on another device.
    """
    if is_quantized(backbone):
        return backbone
    device = backbone.device
    check_cpu(device)
    backbone.fingerprint  # noqa: B018 - computed on the float weights, then kept
    texts = calibration_texts() if texts is None else list(texts)
    target = dtype or compute_dtype(device)
    float_model = backbone.model
    if backbone.dtype != torch.float32:  # measure ranges in float32
        float_model.float()
    ranges = activation_ranges(backbone, texts)
    count = quantize_linears(float_model, ranges, smoothing, keep)
    float_model.to(target)
    backbone._compiled = None
    backbone.quantization = {
        "modules": count,
        "compute_dtype": str(target).removeprefix("torch."),
        "smoothing": smoothing,
        "calibration_posts": len(texts),
        "kept": list(keep),
    }
    return backbone


def load_quantized(
    cls: Any,
    name_or_path: str,
    with_lm_head: bool = False,
    pooling: str | None = None,
    layer_norm: Any = None,
    prefix: str | None = None,
    device: str | torch.device | None = None,
) -> Backbone:
    """``Backbone.load(..., dtype="int8")``: the model loaded in float32 on the CPU, then
    quantised (:func:`quantize_backbone`). Refused, before loading, on another device."""
    where = resolve_device(device)
    check_cpu(where)
    backbone = cls.load(name_or_path, "float32", with_lm_head, pooling, layer_norm, prefix, where)
    return quantize_backbone(backbone)
