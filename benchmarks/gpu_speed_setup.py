"""Random-weight models and synthetic posts for ``benchmarks/gpu_speed.py`` (no downloads).

Models of the three default sizes are built from configs and saved with a word-level
tokenizer over synthetic words (one token per word); posts get IHC's token lengths
(``benchmarks/data/ihc-token-lengths.json``), exit layers come from the CPU measurements
(``benchmarks/data/exit-layers.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
MODELS: dict[str, dict[str, Any]] = {
    "minilm": {"type": "bert", "layers": 6, "hidden": 384, "heads": 12, "ffn": 1536},
    "mpnet": {"type": "mpnet", "layers": 12, "hidden": 768, "heads": 12, "ffn": 3072},
    "smollm2": {"type": "llama", "layers": 30, "hidden": 576, "heads": 9, "kv": 3, "ffn": 1536},
}
VOCAB = {"bert": 30522, "mpnet": 30527, "llama": 49152}
QUICK = {"hidden": 32, "heads": 4, "kv": 2, "ffn": 64}
WORDS = [f"w{i}" for i in range(2000)]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]


def build_tokenizer() -> Any:
    """A word-level tokenizer: one token per synthetic word, ``[CLS] words [SEP]``."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(SPECIALS + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        model_max_length=512,
    )


def model_config(name: str, quick: bool) -> Any:
    """The config of a random-weight model of ``name``'s size (tiny widths with ``quick``)."""
    from transformers import BertConfig, LlamaConfig, MPNetConfig

    spec = {**MODELS[name], **(QUICK if quick else {})}
    common = {
        "hidden_size": spec["hidden"],
        "num_hidden_layers": spec["layers"],
        "num_attention_heads": spec["heads"],
        "intermediate_size": spec["ffn"],
        "vocab_size": len(SPECIALS) + len(WORDS) if quick else VOCAB[spec["type"]],
        "pad_token_id": 0,
    }
    if spec["type"] == "bert":
        return BertConfig(max_position_embeddings=512, **common)
    if spec["type"] == "mpnet":
        return MPNetConfig(max_position_embeddings=514, **common)
    return LlamaConfig(
        num_key_value_heads=spec["kv"],
        max_position_embeddings=8192,
        rope_theta=100000.0,
        tie_word_embeddings=True,
        bos_token_id=2,
        eos_token_id=3,
        **common,
    )


def save_model(name: str, quick: bool, root: Path, tokenizer: Any, device: torch.device) -> Path:
    """Build ``name`` with random weights (on ``device``, for speed) and save it with the
    tokenizer; returns the folder."""
    from transformers import AutoModel

    torch.manual_seed(0)
    folder = root / name
    with torch.device(device):
        model = AutoModel.from_config(model_config(name, quick))
    model.eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    return folder


def synthetic_posts(n: int, seed: int = 0) -> list[str]:
    """``n`` posts whose token counts (with [CLS]/[SEP]) follow IHC's training split."""
    table = json.loads((DATA / "ihc-token-lengths.json").read_text())["histogram"]
    lengths = np.array([int(k) for k in table])
    weights = np.array(list(table.values()), dtype=float)
    rng = np.random.default_rng(seed)
    drawn = rng.choice(lengths, size=n, p=weights / weights.sum())
    return [" ".join(rng.choice(WORDS, size=max(1, int(t) - 2)).tolist()) for t in drawn]


def exit_probabilities(name: str, num_layers: int) -> list[float]:
    """Share of posts exiting after each layer 1..L, from the committed CPU measurements."""
    entry = json.loads((DATA / "exit-layers.json").read_text())["models"][name]
    counts = np.asarray(entry["histogram"], dtype=float)
    if len(counts) != num_layers:
        raise ValueError(f"{name}: exit histogram has {len(counts)} layers, not {num_layers}")
    return (counts / counts.sum()).tolist()


DTYPES = {
    "fp32": ("float32", torch.float32),
    "bf16": ("bfloat16", torch.bfloat16),
    "fp16": ("float16", torch.float16),
}
