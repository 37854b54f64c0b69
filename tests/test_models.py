"""Backbones: loading, pooling, per-layer vectors, padding, fingerprints, cache, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from hateproto.errors import ModelError
from hateproto.models import Backbone, last_token_index, pool
from hateproto.models.references import (
    backbone_reference,
    portable_reference,
    resolve_model_reference,
)

TEXTS = [
    "they are vermin",
    "welcome neighbours",
    "go back home you lazy criminals today",
    "the weather is great",
    "people should be kind",
]


def _manual_states(backbone: Backbone, texts: list[str]) -> tuple[tuple[torch.Tensor, ...], dict]:
    batch = backbone.pad(backbone.tokenize(texts))
    with torch.no_grad():
        return backbone.model(**batch, output_hidden_states=True).hidden_states, batch


@pytest.mark.parametrize("fixture", ["tiny_encoder_dir", "tiny_decoder_dir"])
def test_per_layer_vectors_equal_output_hidden_states(fixture, request):
    backbone = Backbone.load(str(request.getfixturevalue(fixture)))
    got = backbone.encode(TEXTS, layers="all", pooling="mean", layer_norm="none", batch_size=2)
    states, batch = _manual_states(backbone, TEXTS)
    assert got.shape == (len(TEXTS), backbone.num_layers, backbone.hidden_size)
    for layer in range(1, backbone.num_layers + 1):
        expected = pool(states[layer], batch["attention_mask"], "mean")
        torch.testing.assert_close(got[:, layer - 1], expected, atol=1e-5, rtol=1e-4)


def test_layer_subset_and_embedding_layer(tiny_encoder_dir):
    backbone = Backbone.load(str(tiny_encoder_dir))
    full = backbone.encode(TEXTS, layers=[0, 1, 2, 3])
    part = backbone.encode(TEXTS, layers=[-1, 0])
    torch.testing.assert_close(part[:, 0], full[:, 3])
    torch.testing.assert_close(part[:, 1], full[:, 0])
    with pytest.raises(ModelError, match="out of range"):
        backbone.encode(TEXTS, layers=[7])


def test_batching_and_order_do_not_change_vectors(tiny_encoder_dir):
    backbone = Backbone.load(str(tiny_encoder_dir))
    one_by_one = torch.cat([backbone.encode([t]) for t in TEXTS])
    batched = backbone.encode(TEXTS, batch_size=3)
    torch.testing.assert_close(one_by_one, batched, atol=1e-5, rtol=1e-4)


def test_last_token_index_left_and_right_padding():
    right = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    left = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]])
    assert last_token_index(right).tolist() == [2, 4, 0]
    assert last_token_index(left).tolist() == [4, 4, 4]


def test_decoder_last_pooling_same_under_left_and_right_padding(tiny_decoder_dir):
    backbone = Backbone.load(str(tiny_decoder_dir))
    assert backbone.family == "decoder"
    assert backbone.tokenizer.pad_token == backbone.tokenizer.eos_token
    assert backbone.info.default_pooling == "last"
    backbone.tokenizer.padding_side = "right"
    right = backbone.encode(TEXTS, pooling="last", batch_size=5)
    backbone.tokenizer.padding_side = "left"
    left = backbone.encode(TEXTS, pooling="last", batch_size=5)
    alone = torch.cat([backbone.encode([t], pooling="last") for t in TEXTS])
    torch.testing.assert_close(right, alone, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(left, alone, atol=1e-4, rtol=1e-4)


def test_decoder_final_norm_is_applied_to_intermediate_layers(tiny_decoder_dir):
    backbone = Backbone.load(str(tiny_decoder_dir))
    raw = backbone.encode(TEXTS, pooling="last", layer_norm="none")
    normed = backbone.encode(TEXTS, pooling="last", layer_norm="final_norm")
    torch.testing.assert_close(raw[:, -1], normed[:, -1])  # the last state is already normed
    assert not torch.allclose(raw[:, 0], normed[:, 0])
    states, batch = _manual_states(backbone, TEXTS)
    idx = last_token_index(batch["attention_mask"])
    expected = backbone.model.norm(states[1])[torch.arange(len(TEXTS)), idx]
    torch.testing.assert_close(normed[:, 0], expected, atol=1e-5, rtol=1e-4)


def test_fingerprint_stable_across_dtype_and_sensitive_to_weights(tiny_encoder_dir):
    fp32 = Backbone.load(str(tiny_encoder_dir))
    bf16 = Backbone.load(str(tiny_encoder_dir), dtype="bfloat16")
    assert fp32.fingerprint == bf16.fingerprint
    assert bf16.dtype == torch.bfloat16
    with torch.no_grad():
        for p in fp32.model.parameters():
            p.add_(0.01)
    fp32._fingerprint = None
    assert fp32.fingerprint != bf16.fingerprint


def test_bf16_vectors_close_to_fp32(tiny_encoder_dir):
    fp32 = Backbone.load(str(tiny_encoder_dir)).encode(TEXTS)
    bf16 = Backbone.load(str(tiny_encoder_dir), dtype="bfloat16").encode(TEXTS)
    cos = torch.nn.functional.cosine_similarity(fp32, bf16, dim=-1)
    assert cos.min() > 0.99


def test_representation_cache_round_trip(tiny_encoder_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path))
    backbone = Backbone.load(str(tiny_encoder_dir))
    first = backbone.encode(TEXTS, cache=True)
    files = list((tmp_path / "cache" / "reps").glob("*.safetensors"))
    assert len(files) == 1
    torch.testing.assert_close(backbone.encode(TEXTS, cache=True), first)
    backbone.encode(TEXTS, cache=True, pooling="mean")
    assert len(list((tmp_path / "cache" / "reps").glob("*.safetensors"))) == 2


def test_pooling_methods_by_hand():
    hidden = torch.tensor([[[1.0, 0.0], [3.0, 4.0], [9.0, 9.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert pool(hidden, mask, "cls").tolist() == [[1.0, 0.0]]
    assert pool(hidden, mask, "last").tolist() == [[3.0, 4.0]]
    assert pool(hidden, mask, "mean").tolist() == [[2.0, 2.0]]
    torch.testing.assert_close(
        pool(hidden, mask, "normalized_sum"), torch.tensor([[4.0, 4.0]]) / (32**0.5)
    )
    assert pool(hidden, mask, "max").tolist() == [[3.0, 4.0]]
    with pytest.raises(ValueError, match="unknown pooling"):
        pool(hidden, mask, "median")


def test_bad_model_references_and_texts(tmp_path, tiny_encoder_dir):
    with pytest.raises(ModelError, match="model folder not found"):
        Backbone.load(str(tmp_path / "missing" / "model"))
    with pytest.raises(ModelError, match="no config.json"):
        resolve_model_reference(str(tmp_path))
    with pytest.raises(ModelError, match="GGUF file not found"):
        Backbone.load(str(tmp_path / "x.gguf"))
    backbone = Backbone.load(str(tiny_encoder_dir))
    with pytest.raises(ModelError, match="text 1 is empty"):
        backbone.encode(["fine", "  "])
    with pytest.raises(ModelError, match="text 0 is float"):
        backbone.encode([float("nan")])
    with pytest.raises(ModelError, match="no texts"):
        backbone.encode([])


def test_unfetched_alias_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path))
    with pytest.raises(ModelError, match="hateproto models fetch mpnet"):
        Backbone.load("mpnet")


def test_portable_reference_keeps_aliases_and_ids_and_makes_paths_absolute(
    tiny_encoder_dir, tmp_path, monkeypatch
):
    tmp_path = tmp_path.resolve()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "minilm").mkdir()  # an alias stays an alias even beside a folder of that name
    assert portable_reference("minilm") == "minilm"
    assert portable_reference("some-org/some-model") == "some-org/some-model"
    (tmp_path / "local" / "model").mkdir(parents=True)
    assert portable_reference("local/model") == str(tmp_path / "local" / "model")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert portable_reference("~/local/model") == str(tmp_path / "local" / "model")
    assert portable_reference("./missing/model") == "./missing/model"
    backbone = Backbone.load(str(tiny_encoder_dir))
    assert backbone_reference(backbone) == str(Path(tiny_encoder_dir).resolve())
    backbone.info.name_or_path = "local/model"
    assert backbone_reference(backbone) == str(tmp_path / "local" / "model")


ST_POOLING_KEYS = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens"}
ST_POOLING_KEYS["max"] = "pooling_mode_max_tokens"


def _sentence_transformers_folder(model_dir: Path, out: Path, pooling: str) -> Path:
    """``model_dir`` as a sentence-transformers folder (modules.json, sentence_bert_config.json,
    1_Pooling/config.json in the library's format), written offline."""
    shutil.copytree(model_dir, out)
    hidden = json.loads((out / "config.json").read_text())["hidden_size"]
    kinds = {"": "Transformer", "1_Pooling": "Pooling"}
    modules = [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (path, kind) in enumerate(kinds.items())
    ]
    (out / "modules.json").write_text(json.dumps(modules))
    (out / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 128, "do_lower_case": False})
    )
    (out / "1_Pooling").mkdir()
    config = {"word_embedding_dimension": hidden, "include_prompt": True}
    config.update({key: False for key in ST_POOLING_KEYS.values()})
    config.update({"pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_lasttoken": False})
    config.update({"pooling_mode_weightedmean_tokens": False, ST_POOLING_KEYS[pooling]: True})
    (out / "1_Pooling" / "config.json").write_text(json.dumps(config))
    return out


def _sentence_transformers_vectors(
    folder: Path, texts: list[str], pooling: str, normalize: bool = False
) -> torch.Tensor:
    """Sentence vectors from the real library: models.Transformer + models.Pooling."""
    sentence_transformers = pytest.importorskip("sentence_transformers")
    from sentence_transformers import models

    transformer = models.Transformer(str(folder), max_seq_length=128)
    hidden = transformer.get_word_embedding_dimension()
    modules = [transformer, models.Pooling(hidden, pooling_mode=pooling)]
    modules += [models.Normalize()] if normalize else []
    model = sentence_transformers.SentenceTransformer(modules=modules, device="cpu")
    return model.encode(texts, batch_size=2, convert_to_tensor=True).float().cpu()


@pytest.mark.parametrize("pooling", ["mean", "cls", "max"])
def test_default_pooling_matches_sentence_transformers(tiny_encoder_dir, tmp_path, pooling):
    folder = _sentence_transformers_folder(tiny_encoder_dir, tmp_path / "st", pooling)
    backbone = Backbone.load(str(folder))
    assert backbone.info.default_pooling == pooling  # read from the Pooling module's config
    ours = backbone.encode(TEXTS, layers="last", batch_size=2)[:, -1]
    states, batch = _manual_states(backbone, TEXTS)
    torch.testing.assert_close(ours, pool(states[-1], batch["attention_mask"], pooling))
    # the real library, pooling the same weights as this folder's config says: same vectors
    expected = _sentence_transformers_vectors(folder, TEXTS, pooling)
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.integration
def test_real_minilm_matches_sentence_transformers_pooling(minilm_dir):
    backbone = Backbone.load("minilm")
    assert (backbone.family, backbone.num_layers, backbone.hidden_size) == ("encoder", 6, 384)
    assert backbone.info.default_pooling == "mean"
    texts = ["I love my neighbours", "they are vermin and should go back home"]
    vectors = backbone.encode(texts, layers="all")
    states, batch = _manual_states(backbone, texts)
    expected = pool(states[-1], batch["attention_mask"], "mean")
    torch.testing.assert_close(vectors[:, -1], expected, atol=1e-5, rtol=1e-4)
    # all-MiniLM-L6-v2 as sentence-transformers runs it (Transformer, mean Pooling, Normalize)
    library = _sentence_transformers_vectors(minilm_dir, texts, "mean", normalize=True)
    torch.testing.assert_close(
        torch.nn.functional.normalize(vectors[:, -1], dim=-1), library, atol=1e-5, rtol=1e-4
    )
    # sentence-level semantics survive: a text is closest to itself among paraphrases
    sims = torch.nn.functional.cosine_similarity(vectors[0, -1], vectors[1, -1], dim=0)
    assert sims < 0.9


def test_max_length_is_capped_at_the_position_limit(tiny_encoder_dir):
    backbone = Backbone.load(str(tiny_encoder_dir))  # max_position_embeddings = 128
    long_text = " ".join(["people"] * 400)
    assert len(backbone.tokenize([long_text], max_length=1000)[0]) == 128
    vectors = backbone.encode([long_text, "hello"], max_length=1000)
    assert torch.isfinite(vectors).all()
