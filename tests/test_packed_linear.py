"""Packed linear layers (``hateproto.models.packed_linear``): the same numbers as
``nn.Linear``, kept in step with the weight, transparent to training, copies and state dicts."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from hateproto.models import Backbone
from hateproto.models.packed_linear import (
    PackedLinear,
    pack_linears,
    packing_available,
    unpack_linears,
)

pytestmark = pytest.mark.skipif(not packing_available(), reason="torch built without oneDNN")

TEXTS = ["they are vermin", "welcome neighbours", "go back home lazy people", "good game"]
TOLERANCE = {torch.float32: 1e-5, torch.bfloat16: 1e-2}


def _pair(n_in: int, n_out: int, dtype: torch.dtype, bias: bool = True):
    torch.manual_seed(n_in * 1000 + n_out)
    plain = nn.Linear(n_in, n_out, bias=bias).to(dtype)
    return plain, PackedLinear.from_linear(copy.deepcopy(plain))


@settings(max_examples=25, deadline=None)
@given(
    n_in=st.integers(1, 96),
    n_out=st.integers(1, 96),
    rows=st.lists(st.integers(1, 7), min_size=1, max_size=2),
    dtype=st.just(torch.bfloat16),
    bias=st.booleans(),
)
def test_same_numbers_as_nn_linear(n_in, n_out, rows, dtype, bias) -> None:
    plain, packed = _pair(n_in, n_out, dtype, bias)
    x = torch.randn(*rows, n_in).to(dtype)
    with torch.inference_mode():
        want, got = plain(x), packed(x)
    assert packed._packed is not None  # the packed path ran (bfloat16 only)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert torch.allclose(got.float(), want.float(), atol=TOLERANCE[dtype], rtol=1e-2)


def test_the_packed_copy_follows_the_weight() -> None:
    plain, packed = _pair(16, 8, torch.bfloat16)
    x = torch.randn(3, 16).to(torch.bfloat16)
    with torch.inference_mode():
        packed(x)
    with torch.no_grad():
        plain.weight.mul_(-2)
        packed.weight.mul_(-2)  # an in-place update, as an optimiser step makes
    with torch.inference_mode():
        assert torch.allclose(packed(x).float(), plain(x).float(), atol=1e-2)
    packed.float()
    plain.float()  # float32 is not packed: the plain product, on the new weight
    with torch.inference_mode():
        assert torch.allclose(packed(x.float()), plain(x.float()), atol=1e-5)
    packed.bfloat16()
    plain.bfloat16()  # new tensors: packed again
    with torch.inference_mode():
        assert torch.allclose(packed(x).float(), plain(x).float(), atol=1e-2)


def test_a_layer_built_under_inference_mode() -> None:
    """Its weight is an inference tensor, which keeps no version counter."""
    with torch.inference_mode():
        plain = nn.Linear(8, 3).bfloat16()
        packed = PackedLinear.from_linear(plain)
        x = torch.randn(2, 8).bfloat16()
        assert torch.allclose(packed(x).float(), plain(x).float(), atol=1e-2)
        assert packed._packed is not None


def test_training_goes_through_autograd_as_before() -> None:
    plain, packed = _pair(12, 5, torch.bfloat16)
    x = torch.randn(4, 12).bfloat16()
    plain(x).square().sum().backward()
    packed(x).square().sum().backward()
    assert packed._packed is None  # autograd on: the plain product
    assert torch.allclose(packed.weight.grad.float(), plain.weight.grad.float(), atol=1e-2)


def test_copies_pickles_and_state_dicts_are_unchanged(tiny_encoder_dir: Path) -> None:
    backbone = Backbone.load(str(tiny_encoder_dir), dtype="bfloat16", device="cpu")
    keys = set(backbone.model.state_dict())
    plain = backbone.encode(TEXTS, layers="all", batch_size=2)
    assert pack_linears(backbone.model) > 0
    assert not any(type(m) is nn.Linear for m in backbone.model.modules())
    packed = backbone.encode(TEXTS, layers="all", batch_size=2)
    assert torch.allclose(plain, packed, atol=1e-2)
    assert set(backbone.model.state_dict()) == keys  # same names, no packed copies
    used = next(m for m in backbone.model.modules() if isinstance(m, PackedLinear))
    assert used._packed is not None
    clone = copy.deepcopy(backbone.model)  # oneDNN's packed tensors cannot be copied
    assert next(m for m in clone.modules() if isinstance(m, PackedLinear))._packed is None
    assert pickle.loads(pickle.dumps(used))._packed is None
    assert unpack_linears(backbone.model) > 0
    assert not any(isinstance(m, PackedLinear) for m in backbone.model.modules())
    assert torch.allclose(plain, backbone.encode(TEXTS, layers="all", batch_size=2), atol=1e-2)


def test_a_cpu_detector_packs_its_linear_layers(detector) -> None:
    layers = [m for m in detector.backbone.model.modules() if isinstance(m, nn.Linear)]
    assert layers and all(isinstance(m, PackedLinear) for m in layers)
