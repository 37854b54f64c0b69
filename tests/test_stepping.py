"""Layer-by-layer stepping equals one full forward pass, for BERT, MPNet, Llama and Gemma 3."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import _word_tokenizer

from hateproto.errors import ModelError
from hateproto.models import Backbone
from hateproto.models.stepping import LayerRunner

TEXTS = [
    "they are vermin and should go back home",
    "welcome neighbours",
    "the weather today is great and the football game was good",
    "we love our city",
    "those people are lazy criminals",
]


@pytest.fixture(scope="session")
def tiny_mpnet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-layer random MPNet (hidden 32) whose pad id matches its position padding index."""
    from transformers import MPNetConfig, MPNetModel

    torch.manual_seed(0)
    tokenizer = _word_tokenizer(
        {"bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>"}, "<s> $A </s>"
    )
    config = MPNetConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=130,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    out = tmp_path_factory.mktemp("tiny-mpnet")
    MPNetModel(config).eval().save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_gemma3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-layer random Gemma 3 text model with a sliding window of 4 and left padding."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    tokenizer = _word_tokenizer(
        {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>"}, "<bos> $A"
    )
    tokenizer.padding_side = "left"
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        intermediate_size=64,
        max_position_embeddings=128,
        sliding_window=4,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    out = tmp_path_factory.mktemp("tiny-gemma3")
    Gemma3ForCausalLM(config).eval().save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(params=["encoder", "mpnet", "decoder", "gemma3"])
def any_backbone(request: pytest.FixtureRequest) -> Backbone:
    name = {
        "encoder": "tiny_encoder_dir",
        "mpnet": "tiny_mpnet_dir",
        "decoder": "tiny_decoder_dir",
        "gemma3": "tiny_gemma3_dir",
    }[request.param]
    return Backbone.load(str(request.getfixturevalue(name)))


@torch.inference_mode()
def test_states_equal_output_hidden_states(any_backbone: Backbone) -> None:
    batch = any_backbone.pad(any_backbone.tokenize(TEXTS))
    expected = any_backbone.forward_hidden_states(batch)
    runner = LayerRunner(any_backbone)
    state = runner.start(batch)
    assert torch.equal(runner.token_states(state), expected[0])
    for layer in range(1, any_backbone.num_layers + 1):
        state = runner.step(state)
        assert state.layer == layer
        assert torch.equal(runner.token_states(state), expected[layer]), f"layer {layer}"


@torch.inference_mode()
def test_pooled_equal_encode(any_backbone: Backbone) -> None:
    encoded = any_backbone.encode(TEXTS, layers="all", batch_size=len(TEXTS))
    ids = any_backbone.tokenize(TEXTS)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    batch = any_backbone.pad([ids[i] for i in order])
    runner = LayerRunner(any_backbone)
    for state in runner.iterate(batch):
        assert torch.equal(runner.pooled(state).cpu(), encoded[order, state.layer - 1])


@torch.inference_mode()
def test_dropping_rows_keeps_the_others(any_backbone: Backbone) -> None:
    batch = any_backbone.pad(any_backbone.tokenize(TEXTS))
    expected = any_backbone.forward_hidden_states(batch)
    runner = LayerRunner(any_backbone)
    state = runner.step(runner.start(batch))
    state = runner.keep(state, torch.tensor([True, False, True, False, True]))
    assert state.rows.tolist() == [0, 2, 4] and state.size == 3
    while state.layer < any_backbone.num_layers:
        state = runner.step(state)
        got = runner.token_states(state)
        want = expected[state.layer][state.rows]
        mask = state.attention_mask.bool()
        assert torch.allclose(got[mask], want[mask], atol=1e-5)


def test_unsupported_architecture(tmp_path: Path) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = _word_tokenizer({"bos_token": "<s>", "eos_token": "</s>"}, "<s> $A")
    config = GPT2Config(vocab_size=len(tokenizer), n_embd=16, n_layer=1, n_head=2)
    GPT2LMHeadModel(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ModelError, match="does not support model type 'gpt2'"):
        LayerRunner(Backbone.load(str(tmp_path)))
