"""Shared fixtures: tiny random models built from configs, and the real MiniLM (integration).

The tiny models use a word-level tokenizer over a small vocabulary so that no file needs to be
downloaded. ``tiny_encoder_dir`` is a 3-layer BERT, ``tiny_decoder_dir`` a 3-layer Llama whose
tokenizer has no pad token (the backbone must fall back to eos).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDS = (
    "the a they them people group are is should be not all those who and of to in we you "
    "i love hate vermin dirty go back home welcome neighbours friends kind good bad evil "
    "immigrants women men muslims jews christians community today weather football game "
    "great terrible lazy criminals deserve respect rights equal out country our city new"
).split()


def _word_tokenizer(special: dict[str, str], template: str | None, words=WORDS):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(list(special.values()) + ["[UNK]"] + list(words))}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    if template:
        backend.post_processor = processors.TemplateProcessing(
            single=template,
            special_tokens=[(t, vocab[t]) for t in special.values() if t in template],
        )
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", **special)


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-layer random BERT (hidden 32) with a word-level tokenizer, saved to a folder."""
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-bert"))


def build_tiny_encoder(out: Path | str) -> Path:
    """Write the tiny random BERT of :func:`tiny_encoder_dir` into ``out`` (also used by
    ``benchmarks/one_path_demo.sh``)."""
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = _word_tokenizer(
        {"pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]"}, "[CLS] $A [SEP]"
    )
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    out = Path(out)
    BertModel(config).eval().save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_decoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-layer random Llama (hidden 32) whose tokenizer has bos/eos but no pad token."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tokenizer = _word_tokenizer({"bos_token": "<s>", "eos_token": "</s>"}, "<s> $A")
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        bos_token_id=0,
        eos_token_id=1,
    )
    out = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).eval().save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The real all-MiniLM-L6-v2, fetched into the hateproto model cache if needed."""
    from hateproto.models import fetch_model

    return fetch_model("minilm")


@pytest.fixture(scope="module")
def detector(tiny_encoder_dir: Path):
    """A tiny Detector (the random BERT with prototypes), built once per test module."""
    from tiny_detector import tiny_detector

    return tiny_detector(tiny_encoder_dir)


@pytest.fixture(scope="module")
def detector_dir(detector, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny detector saved to a folder, once per test module."""
    return detector.save_pretrained(tmp_path_factory.mktemp("det") / "tiny")
