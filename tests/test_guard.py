"""GuardModel (Llama-Guard-style prompt, verdict, prefix cache) and the guard experiment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hateproto.errors import ModelError
from hateproto.models import Backbone
from hateproto.models.guard import GuardModel

TEXTS = ["they are vermin", "welcome neighbours", "go back home you lazy criminals", "good game"]
CHAT = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} </s> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


@pytest.fixture(scope="module")
def guard_dir(tmp_path_factory) -> Path:
    """A 3-layer random Llama whose word-level tokenizer knows safe/unsafe and chat roles."""
    from conftest import WORDS, _word_tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    words = WORDS + ["safe", "unsafe", "<|user|>", "<|system|>", "<|assistant|>", "User:"]
    tokenizer = _word_tokenizer({"bos_token": "<s>", "eos_token": "</s>"}, "<s> $A", words)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        bos_token_id=0,
        eos_token_id=1,
    )
    out = tmp_path_factory.mktemp("tiny-guard")
    LlamaForCausalLM(config).eval().save_pretrained(out)
    tokenizer.chat_template = CHAT
    tokenizer.save_pretrained(out)
    return out


def test_prompt_verdict_and_prefix_cache(guard_dir):
    guard = GuardModel.load(str(guard_dir))
    assert guard.template == "instruction"
    prompt = guard.prompt("they are vermin")
    assert "they are vermin" in prompt and prompt.endswith("<|assistant|> ")
    assert "First line must read 'safe' or 'unsafe'" in prompt
    vocab = guard.tokenizer.get_vocab()
    assert (guard.safe_id, guard.unsafe_id) == (vocab["safe"], vocab["unsafe"])
    cached = guard.score(TEXTS, layers="all", batch_size=3)
    full = guard.score(TEXTS, layers="all", batch_size=3, prefix_cache=False)
    assert cached.vectors.shape == (4, 3, 32) and cached.layers == [1, 2, 3]
    np.testing.assert_allclose(cached.p_unsafe, full.p_unsafe, atol=1e-5)
    torch.testing.assert_close(cached.vectors, full.vectors, atol=1e-4, rtol=1e-4)
    assert ((cached.p_unsafe > 0) & (cached.p_unsafe < 1)).all()


def test_verdict_matches_lm_logits(guard_dir):
    guard = GuardModel.load(str(guard_dir))
    out = guard.score(TEXTS[:1], layers="last", prefix_cache=False)
    ids = guard.tokenizer(guard.prompt(TEXTS[0]), add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = guard.backbone.lm(input_ids=torch.tensor([ids])).logits[0, -1]
    pair = logits[[guard.safe_id, guard.unsafe_id]]
    np.testing.assert_allclose(out.p_unsafe[0], torch.softmax(pair, -1)[1].item(), rtol=1e-4)
    # the last layer's vector is the final hidden state that produced those logits
    final = guard.backbone.lm.model(input_ids=torch.tensor([ids])).last_hidden_state[0, -1]
    torch.testing.assert_close(out.vectors[0, 0], final, atol=1e-4, rtol=1e-4)


def test_guard_errors(guard_dir, tiny_encoder_dir):
    with pytest.raises(ModelError, match="LM head"):
        GuardModel(Backbone.load(str(guard_dir)))
    with pytest.raises(ModelError, match="not a guard template"):
        GuardModel.load(str(guard_dir), template="llama_guard")
    with pytest.raises(ModelError, match="encoder"):
        GuardModel.load(str(tiny_encoder_dir))


def test_llama_guard_template_gets_the_raw_post(guard_dir):
    backbone = Backbone.load(str(guard_dir), with_lm_head=True)
    backbone.tokenizer.chat_template = (
        "{% for m in messages %}<|user|> {{ m['content'] }} {% endfor %}"
        "safe or unsafe ? <|assistant|> "
    )
    guard = GuardModel(backbone)
    assert guard.template == "llama_guard"
    assert guard.prompt("good game") == "<|user|> good game safe or unsafe ? <|assistant|> "
    assert guard.score(["good game"]).vectors.shape == (1, 3, 32)


def test_guard_experiment(guard_dir, tiny_encoder_dir, tmp_path, monkeypatch):
    from test_prototype_experiments import fake_benchmark

    from hateproto.experiments import common
    from hateproto.experiments.guard import GuardConfig, run_guard

    monkeypatch.setattr(common, "load_benchmark", fake_benchmark)
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path / "home"))
    config = GuardConfig(
        guard_model=str(guard_dir),
        frozen_models=[str(tiny_encoder_dir)],
        datasets=["ihc", "olid"],
        per_class=6,
        test_limit={"ihc": 12},
        output_dir=str(tmp_path / "out"),
        dtype="float32",
        show_progress=False,
    )
    rows = run_guard(config)
    methods = {r["method"] for r in rows}
    assert {
        "guard_verdict",
        "guard_verdict_tuned",
        "guard_prototypes_last",
        "guard_prototypes_chosen",
        "lm_prototypes_no_prompt_last",
        "frozen_prototypes_chosen",
    } <= methods
    verdict = [r for r in rows if r["method"] == "guard_verdict" and r["eval_dataset"] == "ihc"]
    assert verdict[0]["n"] == 12
    assert "Guard prototypes across datasets" in (tmp_path / "out" / "guard.md").read_text()
    assert (tmp_path / "out" / "guard.png").is_file()


def test_template_with_content_parts(guard_dir):
    """Llama-Guard-3-1B's template reads ``content`` as a list of typed parts."""
    backbone = Backbone.load(str(guard_dir), with_lm_head=True)
    backbone.tokenizer.chat_template = (
        "{% for m in messages %}<|user|> {{ m['content'][0]['text'] }} {% endfor %}"
        "safe or unsafe ? <|assistant|> "
    )
    guard = GuardModel(backbone)
    assert guard.prompt("good game") == "<|user|> good game safe or unsafe ? <|assistant|> "
    prefix, rest = guard.split_prompt()
    assert prefix == "<|user|>" and rest.format(text="x") == " x safe or unsafe ? <|assistant|> "
