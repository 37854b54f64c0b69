"""Issue 25: non-English sources, the e5 image conversion, recipe languages, attribute data
by language (tiny files written here; no real data or model needed)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hateproto.data.attributes import ATTRIBUTE_DATA, attribute_sources
from hateproto.data.contrast_sources import load_conan
from hateproto.data.keys import normalise_text
from hateproto.data.mixture import NAMED_SOURCES, parse_sources
from hateproto.data.multilingual_sources import (
    MULTILINGUAL_SOURCES,
    load_germeval,
    load_mlma,
    load_multilingual_source,
    mlma_is_hate,
    source_language,
)
from hateproto.errors import DataError
from hateproto.models.e5_image import LAYER_TENSORS, _dequantize, convert_e5_image


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    germeval = tmp_path / "germeval2018"
    germeval.mkdir()
    fine = ["ABUSE", "INSULT", "PROFANITY", "OTHER"]
    coarse = ["OFFENSE", "OFFENSE", "OFFENSE", "OTHER"]
    rows = [f"Tweet Nummer {i} über irgendwas\t{coarse[i % 4]}\t{fine[i % 4]}" for i in range(200)]
    (germeval / "germeval2018.training.txt").write_text("\n".join(rows) + "\n")
    test = ['Ein "zitierter" Test\tOFFENSE\tABUSE', "Noch ein Test\tOTHER\tOTHER"]
    (germeval / "germeval2018.test.txt").write_text("\n".join(test) + "\n")
    mlma = tmp_path / "mlma" / "hate_speech_mlma"
    mlma.mkdir(parents=True)
    for language in ("fr", "ar", "en"):
        frame = pd.DataFrame(
            {
                "HITId": range(300),
                "tweet": [f"tweet {language} numéro {i}" for i in range(300)],
                "sentiment": ["normal", "offensive", "hateful", "abusive_normal"] * 75,
                "directness": "direct",
                "annotator_sentiment": "shock",
                "target": "origin",
                "group": ["women", "individual", "other", "arabs", "left_wing_people"] * 60,
            }
        )
        frame.to_csv(mlma / f"{language}_dataset.csv", index=False)
    conan = tmp_path / "conan" / "CONAN"
    conan.mkdir(parents=True)
    ids, hate, counter = [], [], []
    for i in range(60):
        stem = f"FRT1ST{i:04d}HS0001CN000001"
        ids += [stem, stem + "T1"]
        hate += [f"Les musulmans sont des escrocs {i}", f"Muslims are swindlers {i}"]
        counter += [f"Ce n'est pas vrai {i}", f"That is not true {i}"]
    pd.DataFrame(
        {"cn_id": ids, "hateSpeech": hate, "counterSpeech": counter, "hsType": "islamophobia"}
    ).to_csv(conan / "CONAN.csv", index=False)
    return tmp_path


def test_germeval_official_test_and_leak_free_dev(data_dir: Path) -> None:
    train, dev, test = (load_germeval(s, data_dir) for s in ("train", "dev", "test"))
    assert len(train) + len(dev) == 200 and len(dev) > 0
    assert not {normalise_text(t) for t in train.texts} & {normalise_text(t) for t in dev.texts}
    # the official test file, quotes read as text (QUOTE_NONE)
    assert test.texts == ['Ein "zitierter" Test', "Noch ein Test"]
    assert test.labels.tolist() == [1, 0]
    assert test.metadata["coarse"].tolist() == ["OFFENSE", "OTHER"]
    # hate is identity abuse only: insults and profanity are offence, not hate
    rows = train.metadata["category"].to_numpy()
    assert set(train.labels[rows == "ABUSE"]) == {1}
    assert set(train.labels[rows != "ABUSE"]) == {0}


def test_mlma_rule_and_hash_split(data_dir: Path) -> None:
    assert mlma_is_hate("offensive", "women") and not mlma_is_hate("offensive", "individual")
    assert mlma_is_hate("hateful", "other") and not mlma_is_hate("normal", "women")
    assert not mlma_is_hate("abusive_normal", "left_wing_people")
    splits = {s: load_mlma("fr", s, data_dir) for s in ("train", "dev", "test")}
    assert sum(len(d) for d in splits.values()) == 300
    seen = [set(d.texts) for d in splits.values()]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    test = splits["test"]
    meta = test.metadata
    pairs = zip(meta["category"], meta["mlma_group"], strict=True)
    expected = [mlma_is_hate(category, group) for category, group in pairs]
    assert test.labels.tolist() == [int(e) for e in expected]
    assert "muslim" in set(splits["train"].metadata["target"].dropna())  # arabs -> muslim
    with pytest.raises(DataError, match="unknown language 'xx'"):
        load_mlma("xx", "train", data_dir)


def test_conan_french_leaves_out_english_translations(data_dir: Path) -> None:
    texts = [
        t for s in ("train", "dev", "test") for t in load_conan(s, data_dir, language="fr").texts
    ]
    assert texts and not any("Muslims" in t or "not true" in t for t in texts)


def test_sources_are_named_and_have_languages(data_dir: Path) -> None:
    assert set(MULTILINGUAL_SOURCES) <= set(NAMED_SOURCES)
    assert [s.name for s in parse_sources("ihc,germeval:2,mlma_ar")] == [
        "ihc",
        "germeval",
        "mlma_ar",
    ]
    assert source_language("germeval") == "de" and source_language("ihc") == "en"
    assert load_multilingual_source("mlma_ar", "dev", data_dir).name == "mlma_ar"
    with pytest.raises(DataError, match="unknown source"):
        load_multilingual_source("klingon", "dev", data_dir)


def test_attribute_sources_follow_languages() -> None:
    english = attribute_sources("TOXICITY")
    german = attribute_sources("TOXICITY", ("en", "de"))
    assert "germeval" not in {s["source"] for s in english}
    assert {s["source"] for s in german} - {s["source"] for s in english} == {"germeval"}
    assert all(spec.language == "en" for spec in ATTRIBUTE_DATA["THREAT"])


def test_recipe_refuses_a_source_outside_its_languages() -> None:
    from hateproto.detector.recipe import GeneralRecipe

    with pytest.raises(Exception, match="germeval.*not among languages"):
        GeneralRecipe(data="ihc,germeval")
    recipe = GeneralRecipe(data="ihc,germeval", languages=["en", "de"])
    assert recipe.languages == ["en", "de"]
    with pytest.raises(Exception, match="languages"):
        GeneralRecipe(languages=["English"])
    multilingual = GeneralRecipe.default("multilingual")
    assert multilingual.model == "e5small" and "de" in multilingual.languages


def _write_image(path: Path, tensors: dict[str, np.ndarray], vocab: list[str]) -> None:
    """A tiny E5S1 image: the header, the vocabulary and plain float32 tensors."""
    hidden, layers, heads, ffn, n_vocab, positions, types = 8, 2, 2, 16, len(vocab), 16, 2
    head = b"E5S1" + struct.pack("<I", 1)
    head += struct.pack("<7i", hidden, layers, heads, ffn, n_vocab, positions, types)
    head += struct.pack("<f", 1e-12) + struct.pack("<i", 32)
    head += struct.pack("<5i", n_vocab, 0, 2, 1, 3)
    blob = b"".join(piece.encode() for piece in vocab)
    offsets = np.cumsum([0] + [len(p.encode()) for p in vocab]).astype(np.uint32)
    head += struct.pack("<Q", len(blob)) + offsets.tobytes()
    head += np.linspace(-1, 0, n_vocab, dtype=np.float32).tobytes() + blob
    head += struct.pack("<iI", 0, 0) + struct.pack("<i", len(tensors))
    directory, payload = b"", b""
    entry_size = sum(2 + len(name) + 1 + 4 + 16 for name in tensors)
    start = len(head) + entry_size
    for name, values in tensors.items():
        data = values.astype(np.float32).tobytes()
        directory += struct.pack("<H", len(name)) + name.encode() + bytes([0])
        directory += struct.pack("<I", values.size) + struct.pack(
            "<QQ", start + len(payload), len(data)
        )
        payload += data
    path.write_bytes(head + directory + payload)


def test_e5_image_converts_exactly(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from transformers import AutoModel, AutoTokenizer

    rng = np.random.default_rng(0)
    vocab = ["<s>", "<pad>", "</s>", "<unk>", "▁hallo", "▁welt", "▁", "h", "a", "l", "o"]
    shapes = {"emb.word": (len(vocab), 8), "emb.pos": (16, 8), "emb.type": (2, 8)}
    shapes |= {"emb.ln.w": (8,), "emb.ln.b": (8,)}
    square = {"q": (8, 8), "k": (8, 8), "v": (8, 8), "ao": (8, 8), "fi": (16, 8), "fo": (8, 16)}
    for layer in range(2):
        for short in LAYER_TENSORS:
            weight = square.get(short, (8,))
            shapes[f"l{layer}.{short}.w"] = weight
            shapes[f"l{layer}.{short}.b"] = (weight[0],)
    tensors = {
        name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()
    }
    image = tmp_path / "tiny.bin"
    _write_image(image, tensors, vocab)
    out = tmp_path / "hf"
    convert_e5_image(image, out)
    model = AutoModel.from_pretrained(out)
    state = model.state_dict()
    assert torch.equal(
        state["encoder.layer.1.intermediate.dense.weight"], torch.from_numpy(tensors["l1.fi.w"])
    )
    assert torch.equal(
        state["embeddings.word_embeddings.weight"], torch.from_numpy(tensors["emb.word"])
    )
    assert not state["pooler.dense.weight"].any()  # deterministic: the same on every load
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.convert_ids_to_tokens(tokenizer("hallo welt")["input_ids"]) == [
        "<s>", "▁hallo", "▁welt", "</s>"
    ]  # fmt: skip
    assert json.loads((out / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"]


def test_q4_blocks_dequantize() -> None:
    block = np.zeros(1, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    block["d"] = 0.5
    block["qs"][0] = np.arange(16, dtype=np.uint8) | (np.arange(16, dtype=np.uint8)[::-1] << 4)
    values = _dequantize(block.tobytes(), 1, 32, 0)
    expected = np.concatenate([np.arange(16) - 8, np.arange(16)[::-1] - 8]) * 0.5
    assert np.array_equal(values, expected.astype(np.float32))
