"""PrototypeClassifier: maths by hand, fitting, save/load round trip, mismatch and file errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from hateproto.data import LabeledTexts
from hateproto.errors import HateprotoError, MismatchError, ModelError
from hateproto.models import Backbone
from hateproto.prototypes import PrototypeClassifier, similarity_margin

TEXTS = [
    "they are vermin",
    "go back home you lazy criminals",
    "immigrants are dirty evil criminals",
    "those people deserve hate",
    "welcome neighbours",
    "the weather is great today",
    "people should be kind",
    "we love our new friends",
]
LABELS = [1, 1, 1, 1, 0, 0, 0, 0]


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir: Path) -> Backbone:
    return Backbone.load(str(tiny_encoder_dir))


def _tiny_bert(tokenizer_dir: Path, out: Path, hidden: int, layers: int) -> Path:
    """Another random BERT sharing the tiny tokenizer (different width or depth)."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(1)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).eval().save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


# ---------------------------------------------------------------------- maths by hand
def test_classification_maths_by_hand(encoder: Backbone) -> None:
    clf = PrototypeClassifier(encoder, layers=[1, 2], temperature=0.5)
    # two layers, H = 2 (the backbone is only used for its layer numbering here)
    vectors = torch.tensor(
        [
            [[3.0, 4.0], [1.0, 0.0]],  # class 0
            [[0.0, 2.0], [1.0, 1.0]],  # class 0
            [[4.0, -3.0], [0.0, 5.0]],  # class 1
        ]
    )
    clf.fit_vectors(vectors, [0, 0, 1])
    # layer 1, class 0: mean of unit vectors (0.6, 0.8) and (0, 1) = (0.3, 0.9) -> normalised
    p0 = np.array([0.3, 0.9]) / math.hypot(0.3, 0.9)
    p1 = np.array([0.8, -0.6])
    torch.testing.assert_close(clf.prototypes_[0, 0], torch.tensor(p0, dtype=torch.float32))
    torch.testing.assert_close(clf.prototypes_[0, 1], torch.tensor(p1, dtype=torch.float32))
    # layer 2, class 0: mean of (1, 0) and (1/sqrt2, 1/sqrt2)
    q0 = np.array([1 + 1 / math.sqrt(2), 1 / math.sqrt(2)])
    q0 /= np.linalg.norm(q0)
    torch.testing.assert_close(clf.prototypes_[1, 0], torch.tensor(q0, dtype=torch.float32))
    assert clf.n_per_class_ == {0: 2, 1: 1}

    query = torch.tensor([[[1.0, 1.0], [0.0, -2.0]]])
    sims = clf.similarities_from_vectors(query)
    u = np.array([1.0, 1.0]) / math.sqrt(2)
    expected_l1 = [u @ p0, u @ p1]
    expected_l2 = [np.array([0.0, -1.0]) @ q0, -1.0]
    np.testing.assert_allclose(sims[0, 0].numpy(), expected_l1, rtol=1e-5)
    np.testing.assert_allclose(sims[0, 1].numpy(), expected_l2, rtol=1e-5)

    proba = clf.predict_proba_from_vectors(query, layer=1)
    z = np.exp(np.array(expected_l1) / 0.5)
    np.testing.assert_allclose(proba[0], z / z.sum(), rtol=1e-5)
    assert clf.predict_from_vectors(query, layer=1).tolist() == [0]
    assert clf.predict_from_vectors(query, layer=2).tolist() == [0]
    np.testing.assert_allclose(
        similarity_margin(sims[:, 0]), [abs(expected_l1[0] - expected_l1[1])], rtol=1e-5
    )


def test_normalize_mean_averages_raw_vectors(encoder: Backbone) -> None:
    clf = PrototypeClassifier(encoder, layers=[1], normalize="mean")
    vectors = torch.tensor([[[10.0, 0.0]], [[0.0, 1.0]], [[-1.0, 0.0]]])
    clf.fit_vectors(vectors, [0, 0, 1])
    expected = torch.tensor([5.0, 0.5]) / math.hypot(5.0, 0.5)
    torch.testing.assert_close(clf.prototypes_[0, 0], expected)


def test_temperature_sharpens_probabilities(encoder: Backbone) -> None:
    vectors = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])
    query = torch.tensor([[[1.0, 0.5]]])
    cold = PrototypeClassifier(encoder, layers=[1], temperature=0.05).fit_vectors(vectors, [0, 1])
    warm = PrototypeClassifier(encoder, layers=[1], temperature=1.0).fit_vectors(vectors, [0, 1])
    assert (
        cold.predict_proba_from_vectors(query)[0, 0] > warm.predict_proba_from_vectors(query)[0, 0]
    )
    np.testing.assert_allclose(cold.predict_proba_from_vectors(query).sum(), 1.0, rtol=1e-6)
    with pytest.raises(HateprotoError, match="temperature"):
        PrototypeClassifier(encoder, temperature=0)


def test_fit_errors(encoder: Backbone) -> None:
    clf = PrototypeClassifier(encoder, layers=[1])
    with pytest.raises(HateprotoError, match="two classes"):
        clf.fit_vectors(torch.ones(2, 1, 4), [1, 1])
    with pytest.raises(HateprotoError, match="shape"):
        clf.fit_vectors(torch.ones(2, 2, 4), [0, 1])
    with pytest.raises(HateprotoError, match="not fitted"):
        clf.predict(["they are vermin"])


# ---------------------------------------------------------------------- fitting on texts
def test_fit_per_class_seed_and_text_api(encoder: Backbone) -> None:
    a = PrototypeClassifier(encoder, layers="all", per_class=2, seed=3).fit(TEXTS, LABELS)
    b = PrototypeClassifier(encoder, layers="all", per_class=2, seed=3).fit(TEXTS, LABELS)
    torch.testing.assert_close(a.prototypes_, b.prototypes_)
    assert a.n_per_class_ == {0: 2, 1: 2}
    assert a.sampling_ == {"per_class": 2, "seed": 3}
    full = PrototypeClassifier(encoder).fit(TEXTS, LABELS)
    vectors = full.encode(TEXTS)
    np.testing.assert_allclose(
        full.similarities(TEXTS, layer=2), full.similarities_from_vectors(vectors)[:, 1].numpy()
    )
    np.testing.assert_allclose(full.predict_proba(TEXTS).sum(axis=1), 1.0, rtol=1e-5)
    assert full.predict(TEXTS).shape == (len(TEXTS),)
    assert (full.margin(TEXTS, layer=1) >= 0).all()


# ---------------------------------------------------------------------- files
def _fitted(encoder: Backbone) -> PrototypeClassifier:
    data = LabeledTexts(TEXTS, np.array(LABELS), name="toy", protocol="table", split="train")
    clf = PrototypeClassifier(encoder, layers=[0, 2, 3], temperature=0.1)
    clf.fit_data(data, per_class=3, seed=1)
    clf.metadata = {"note": "unit test", "threshold": 0.2}
    return clf


def test_save_load_round_trip(encoder: Backbone, tmp_path: Path) -> None:
    clf = _fitted(encoder)
    clf.save_pretrained(tmp_path / "protos")
    spec = json.loads((tmp_path / "protos" / "prototypes.json").read_text())
    assert spec["layers"] == [0, 2, 3]
    assert spec["class_names"] == ["not_hate", "hate"]
    assert spec["examples_per_class"] == {"0": 3, "1": 3}
    assert (spec["source_dataset"], spec["source_protocol"], spec["source_split"]) == (
        "toy",
        "table",
        "train",
    )
    assert spec["backbone_fingerprint"] == encoder.fingerprint
    assert spec["num_layers"] == 3 and spec["hidden_size"] == 32
    assert len(spec["tensor_sha256"]) == 64 and spec["hateproto_version"]

    loaded = PrototypeClassifier.from_pretrained(tmp_path / "protos", backbone=encoder)
    torch.testing.assert_close(loaded.prototypes_, clf.prototypes_)
    for layer in (0, 2, 3):
        np.testing.assert_array_equal(loaded.predict(TEXTS, layer), clf.predict(TEXTS, layer))
        np.testing.assert_allclose(
            loaded.predict_proba(TEXTS, layer), clf.predict_proba(TEXTS, layer)
        )
    assert loaded.metadata == {"note": "unit test", "threshold": 0.2}
    assert loaded.temperature == 0.1 and loaded.layers == [0, 2, 3]
    assert loaded.sampling_ == {"per_class": 3, "seed": 1}

    # without a backbone, the recorded reference (here a local folder) is loaded
    reloaded = PrototypeClassifier.from_pretrained(tmp_path / "protos")
    np.testing.assert_array_equal(reloaded.predict(TEXTS), clf.predict(TEXTS))


def test_load_refuses_changed_weights(encoder: Backbone, tiny_encoder_dir: Path, tmp_path: Path):
    _fitted(encoder).save_pretrained(tmp_path / "p")
    other = Backbone.load(str(tiny_encoder_dir))
    with torch.no_grad():
        next(other.model.parameters()).add_(0.05)
    with pytest.raises(MismatchError, match="fingerprint") as err:
        PrototypeClassifier.from_pretrained(tmp_path / "p", backbone=other)
    assert "hidden size" not in str(err.value) and "layer count" not in str(err.value)


@pytest.mark.parametrize(
    ("hidden", "layers", "named"), [(16, 3, "hidden size"), (32, 2, "layer count")]
)
def test_load_refuses_other_shapes(encoder, tiny_encoder_dir, tmp_path, hidden, layers, named):
    _fitted(encoder).save_pretrained(tmp_path / "p")
    other = Backbone.load(str(_tiny_bert(tiny_encoder_dir, tmp_path / "m", hidden, layers)))
    with pytest.raises(MismatchError, match=named) as err:
        PrototypeClassifier.from_pretrained(tmp_path / "p", backbone=other)
    assert "fingerprint" in str(err.value)


def test_load_refuses_other_prefix(encoder, tiny_encoder_dir, tmp_path):
    _fitted(encoder).save_pretrained(tmp_path / "p")
    other = Backbone.load(str(tiny_encoder_dir), prefix="query: ")
    with pytest.raises(MismatchError, match="prefix"):
        PrototypeClassifier.from_pretrained(tmp_path / "p", backbone=other)


def test_truncated_or_edited_tensor_file_is_an_error(encoder: Backbone, tmp_path: Path) -> None:
    _fitted(encoder).save_pretrained(tmp_path / "p")
    tensor_file = tmp_path / "p" / "prototypes.safetensors"
    raw = tensor_file.read_bytes()
    tensor_file.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelError, match="truncated"):
        PrototypeClassifier.from_pretrained(tmp_path / "p", backbone=encoder)
    edited = bytearray(raw)
    edited[-5] ^= 0xFF
    tensor_file.write_bytes(bytes(edited))
    with pytest.raises(ModelError, match="sha256"):
        PrototypeClassifier.from_pretrained(tmp_path / "p", backbone=encoder)
    tensor_file.unlink()
    with pytest.raises(ModelError, match="not found"):
        PrototypeClassifier.from_pretrained(tmp_path / "p", backbone=encoder)


def test_edited_or_truncated_json_is_an_error(encoder: Backbone, tmp_path: Path) -> None:
    _fitted(encoder).save_pretrained(tmp_path / "p")
    spec_file = tmp_path / "p" / "prototypes.json"
    good = spec_file.read_text()
    spec_file.write_text(good[: len(good) // 2])
    with pytest.raises(ModelError, match="not valid JSON"):
        PrototypeClassifier.from_pretrained(tmp_path / "p", backbone=encoder)
    spec = json.loads(good)
    spec["layers"] = [1, 2]
    spec_file.write_text(json.dumps(spec))
    with pytest.raises(ModelError, match="shape"):
        PrototypeClassifier.from_pretrained(tmp_path / "p", backbone=encoder)
    spec = json.loads(good)
    spec["format_version"] = 99
    spec_file.write_text(json.dumps(spec))
    with pytest.raises(ModelError, match="format_version"):
        PrototypeClassifier.from_pretrained(tmp_path / "p", backbone=encoder)
    spec = json.loads(good)
    del spec["hidden_size"]
    spec_file.write_text(json.dumps(spec))
    with pytest.raises(ModelError, match="hidden_size"):
        PrototypeClassifier.from_pretrained(tmp_path / "p", backbone=encoder)
    with pytest.raises(ModelError, match="not found"):
        PrototypeClassifier.from_pretrained(tmp_path / "missing", backbone=encoder)


def test_decoder_prototypes_round_trip(tiny_decoder_dir: Path, tmp_path: Path) -> None:
    decoder = Backbone.load(str(tiny_decoder_dir))
    clf = PrototypeClassifier(decoder, layers="all").fit(TEXTS, LABELS)
    clf.save_pretrained(tmp_path / "d")
    loaded = PrototypeClassifier.from_pretrained(tmp_path / "d", backbone=decoder)
    assert loaded.pooling == "last" and loaded.layer_norm == "final_norm"
    np.testing.assert_array_equal(loaded.predict(TEXTS), clf.predict(TEXTS))
