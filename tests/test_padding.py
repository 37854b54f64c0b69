"""``pad_token_ids`` builds exactly what the tokenizer's own ``pad`` builds, on both sides."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hateproto.models import Backbone
from hateproto.models.prefetch import pad_token_ids

ID_LISTS = st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=12), min_size=1, max_size=9)


@pytest.mark.parametrize("side", ["right", "left"])
@settings(max_examples=60, deadline=None)
@given(ids=ID_LISTS)
def test_pad_equals_the_tokenizers_pad(side: str, ids: list[list[int]]) -> None:

    mine = pad_token_ids(ids, pad_id=3, side=side)
    width = max(map(len, ids))
    for row, x in enumerate(ids):
        pad = [3] * (width - len(x))
        ones, zeros = [1] * len(x), [0] * (width - len(x))
        want_ids = pad + x if side == "left" else x + pad
        want_mask = zeros + ones if side == "left" else ones + zeros
        assert mine["input_ids"][row].tolist() == want_ids
        assert mine["attention_mask"][row].tolist() == want_mask
    assert mine["input_ids"].dtype == torch.int64 and mine["attention_mask"].dtype == torch.int64


@pytest.mark.parametrize("family", ["encoder", "decoder"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_backbone_pad_equals_tokenizer_pad(
    family: str, side: str, request: pytest.FixtureRequest
) -> None:
    folder: Path = request.getfixturevalue(f"tiny_{family}_dir")
    backbone = Backbone.load(str(folder), device="cpu")
    backbone.tokenizer.padding_side = side
    ids = backbone.tokenize(["they are vermin", "a", "welcome neighbours to our new city"])
    expected = backbone.tokenizer.pad({"input_ids": ids}, return_tensors="pt")
    mine = backbone.pad(ids)
    assert torch.equal(mine["input_ids"], expected["input_ids"])
    assert torch.equal(mine["attention_mask"], expected["attention_mask"])
