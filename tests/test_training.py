"""Fine-tuning: config, heads, poolings, modes, trainer, checkpoints and bad input, on tiny
random models (a 3-layer BERT and a 3-layer Llama built from configs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from hateproto.data import LabeledTexts
from hateproto.errors import ConfigError, DataError, MismatchError, ModelError
from hateproto.models import Backbone
from hateproto.training import (
    EMBEDDING_PREFIX,
    HateClassifier,
    TrainingConfig,
    balanced_class_weights,
    build_head,
    lora_target_modules,
    stratified_subsample,
)
from hateproto.training.batching import BucketBatchSampler
from hateproto.training.features import FeatureStore

HATEFUL = "they are vermin dirty criminals evil lazy hate go back home out".split()
KIND = "welcome neighbours friends kind good love respect equal rights community".split()


def toy_data(n: int, seed: int, name: str = "toy", split: str = "train") -> LabeledTexts:
    """Texts of 3-8 words, from the hateful or the kind word list by label."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    texts = [" ".join(rng.choice(HATEFUL if y else KIND, size=rng.integers(3, 9))) for y in labels]
    return LabeledTexts(texts, labels, name=name, split=split)


def config(model_dir: Path, **overrides) -> TrainingConfig:
    values = dict(
        backbone=str(model_dir),
        epochs=2,
        batch_size=8,
        eval_batch_size=16,
        learning_rate=1e-3,
        warmup_ratio=0.1,
        max_length=32,
        show_progress=False,
    )
    return TrainingConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def train_set() -> LabeledTexts:
    return toy_data(64, seed=0)


@pytest.fixture(scope="module")
def dev_set() -> LabeledTexts:
    return toy_data(32, seed=1, split="dev")


# ---------------------------------------------------------------------- config


def test_config_from_yaml_and_presets(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(
        "backbone: minilm\npreset: embedding\nepochs: 3\nmode: lora\n"
        "data:\n  dataset: ihc\n  max_train_examples: 100\n"
    )
    cfg = TrainingConfig.from_yaml(path)
    assert (cfg.epochs, cfg.mode, cfg.data.dataset, cfg.data.max_train_examples) == (
        3,
        "lora",
        "ihc",
        100,
    )
    assert cfg.resolved_head() == "mlp"
    assert cfg.resolved_pooling("mean") == "normalized_sum"
    assert cfg.resolved_prefix() == EMBEDDING_PREFIX
    plain = TrainingConfig()
    assert (plain.resolved_head(), plain.resolved_pooling("mean"), plain.resolved_prefix()) == (
        "linear",
        "mean",
        "",
    )
    assert TrainingConfig(preset="embedding", head="linear", prefix="").resolved_prefix() == ""


@pytest.mark.parametrize(
    "text",
    ["pooling: median\n", "epochs: 0\n", "unknown_key: 1\n", "mode: qlora\n", "head: cnn\n"],
)
def test_config_rejects_bad_values(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="bad.yaml"):
        TrainingConfig.from_yaml(path)


# ---------------------------------------------------------------------- pieces


@pytest.mark.parametrize("head_type", ["linear", "mlp"])
def test_heads_shapes(head_type: str) -> None:
    head = build_head(head_type, input_size=16, num_labels=2, hidden_size=8, dropout=0.2)
    assert head(torch.randn(5, 16)).shape == (5, 2)
    with pytest.raises(ConfigError, match="unknown head"):
        build_head("cnn", 16)


def test_mlp_head_has_two_layers_leakyrelu_dropout() -> None:
    head = build_head("mlp", input_size=16, hidden_size=8, dropout=0.3)
    kinds = [type(m).__name__ for m in head.children()]
    assert kinds == ["Linear", "LeakyReLU", "Dropout", "Linear"]


def test_balanced_class_weights() -> None:
    weights = balanced_class_weights(np.array([0, 0, 0, 1]))
    assert weights.tolist() == pytest.approx([4 / 6, 2.0])


def test_stratified_subsample_keeps_proportions() -> None:
    data = LabeledTexts([f"t{i}" for i in range(100)], np.array([0] * 80 + [1] * 20))
    small = stratified_subsample(data, 10, seed=3)
    assert len(small) == 10 and int(small.labels.sum()) == 2
    assert stratified_subsample(data, None) is data
    assert stratified_subsample(data, 10, seed=3).texts == small.texts


def test_bucket_sampler_covers_every_example_once_per_epoch() -> None:
    lengths = np.random.default_rng(0).integers(1, 50, size=103)
    sampler = BucketBatchSampler(lengths, batch_size=8, bucket_size=4, seed=0)
    first = sampler.batches()
    assert sorted(i for b in first for i in b) == list(range(103))
    assert len(first) == len(sampler) == 13
    assert all(list(lengths[b]) == sorted(lengths[b]) for b in first)
    sampler.set_epoch(1)
    assert sampler.batches() != first
    sampler.set_epoch(0)
    assert sampler.batches() == first


def test_lora_targets_for_each_family(tiny_encoder_dir: Path, tiny_decoder_dir: Path) -> None:
    from transformers import (
        AutoModel,
        Gemma3TextConfig,
        Gemma3TextModel,
        MPNetConfig,
        MPNetModel,
    )

    assert lora_target_modules(AutoModel.from_pretrained(tiny_encoder_dir)) == [
        "query",
        "key",
        "value",
    ]
    llama = ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert lora_target_modules(AutoModel.from_pretrained(tiny_decoder_dir)) == llama
    small = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16)
    assert lora_target_modules(MPNetModel(MPNetConfig(vocab_size=50, **small))) == [
        "q",
        "k",
        "v",
        "o",
    ]
    gemma = Gemma3TextConfig(vocab_size=50, head_dim=8, num_key_value_heads=1, **small)
    assert lora_target_modules(Gemma3TextModel(gemma)) == llama
    with pytest.raises(ModelError, match="lora_target_modules"):
        lora_target_modules(torch.nn.Sequential(torch.nn.Linear(2, 2)))


# ---------------------------------------------------------------------- training


@pytest.mark.parametrize(
    ("head", "pooling", "mode"),
    [
        ("linear", "cls", "full"),
        ("mlp", "mean", "full"),
        ("linear", "normalized_sum", "lora"),
        ("mlp", "last", "probe"),
    ],
)
def test_train_every_head_pooling_mode_round_trip(
    tiny_encoder_dir: Path, train_set, dev_set, tmp_path: Path, head, pooling, mode
) -> None:
    cfg = config(tiny_encoder_dir, head=head, pooling=pooling, mode=mode, prefix="the ")
    if mode == "probe":
        cfg = cfg.model_copy(update={"learning_rate": 1e-2, "epochs": 3})
    clf = HateClassifier.from_config(cfg)
    before = {n: p.detach().clone() for n, p in clf.encoder.named_parameters()}
    clf.fit(train_set, dev_set, log_path=tmp_path / "run.log")
    changed = any(
        not torch.equal(before[n], p) for n, p in clf.encoder.named_parameters() if n in before
    )
    assert changed == (mode != "probe")
    assert len(clf.history) == cfg.epochs and 1 <= clf.dev_metrics["epoch"] <= cfg.epochs
    assert "epoch 1 done" in (tmp_path / "run.log").read_text()

    texts = dev_set.texts
    proba = clf.predict_proba(texts)
    assert proba.shape == (len(texts), 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    folder = clf.save_pretrained(tmp_path / "ckpt")
    assert (folder / ("adapter" if mode == "lora" else "head.safetensors")).exists()
    assert (folder / "backbone").is_dir() == (mode == "full")
    loaded = HateClassifier.from_pretrained(folder)
    np.testing.assert_allclose(loaded.predict_proba(texts), proba, atol=1e-5)
    assert (loaded.predict(texts) == clf.predict(texts)).all()
    assert loaded.pooling == pooling and loaded.backbone.info.prefix == "the "
    assert loaded.config.resolved_head() == head

    backbone = Backbone.load(str(folder))  # what prototypes and early exit load
    assert backbone.info.default_pooling == pooling and backbone.info.prefix == "the "
    pooled = backbone.encode(texts[:4], layers="last")[:, 0]
    logits = loaded.logits_from_pooled(pooled)
    np.testing.assert_allclose(torch.softmax(logits, -1).detach().numpy(), proba[:4], atol=1e-5)


def test_full_finetuning_learns_toy_task(tiny_encoder_dir: Path, train_set, dev_set) -> None:
    clf = HateClassifier.from_config(config(tiny_encoder_dir, epochs=3, pooling="mean"))
    clf.fit(train_set, dev_set)
    assert clf.dev_metrics["macro_f1"] >= 0.9


def test_decoder_lora_bf16_accumulation(tiny_decoder_dir: Path, train_set, tmp_path) -> None:
    cfg = config(tiny_decoder_dir, mode="lora", bf16=True, gradient_accumulation_steps=3, epochs=1)
    clf = HateClassifier.from_config(cfg)
    assert clf.pooling == "last"
    clf.fit(train_set)  # no dev: the last epoch is kept
    assert clf.dev_metrics == {"epoch": 1}
    folder = clf.save_pretrained(tmp_path / "llama")
    loaded = HateClassifier.from_pretrained(folder)
    assert (loaded.predict(train_set.texts[:8]) == clf.predict(train_set.texts[:8])).all()


def test_training_is_seeded(tiny_encoder_dir: Path, train_set) -> None:
    cfg = config(tiny_encoder_dir, epochs=1)
    a = HateClassifier.from_config(cfg).fit(train_set).predict_proba(train_set.texts[:5])
    b = HateClassifier.from_config(cfg).fit(train_set).predict_proba(train_set.texts[:5])
    np.testing.assert_allclose(a, b, atol=1e-6)


# ---------------------------------------------------------------------- bad input


def test_one_class_and_empty_training_data(tiny_encoder_dir: Path, train_set) -> None:
    clf = HateClassifier.from_config(config(tiny_encoder_dir))
    only_hate = train_set.subset(np.flatnonzero(train_set.labels == 1))
    with pytest.raises(DataError, match=r"only label 1 \(hate\)"):
        clf.fit(only_hate)
    with pytest.raises(DataError, match="empty"):
        clf.fit(train_set.subset([]))
    with pytest.raises(DataError, match="dev set .* empty"):
        clf.fit(train_set, train_set.subset([]))


def test_bad_checkpoints(tiny_encoder_dir: Path, train_set, tmp_path: Path) -> None:
    clf = HateClassifier.from_config(config(tiny_encoder_dir, mode="probe"))
    folder = clf.save_pretrained(tmp_path / "ckpt")
    meta_path = folder / "hateproto_classifier.json"
    meta = json.loads(meta_path.read_text())

    with pytest.raises(ModelError, match="not a HateClassifier checkpoint"):
        HateClassifier.from_pretrained(tiny_encoder_dir)
    with pytest.raises(ModelError, match="not found"):
        HateClassifier.from_pretrained(tmp_path / "missing")

    other_head = {**meta, "head": {**meta["head"], "type": "mlp", "hidden_size": 8}}
    meta_path.write_text(json.dumps(other_head))
    with pytest.raises(MismatchError, match="does not hold a mlp head"):
        HateClassifier.from_pretrained(folder)

    three_labels = {**meta, "label_names": ["a", "b", "c"]}
    meta_path.write_text(json.dumps(three_labels))
    with pytest.raises(MismatchError, match="3 label names"):
        HateClassifier.from_pretrained(folder)

    renamed = {**meta, "label_names": ["neutral", "toxic"]}
    meta_path.write_text(json.dumps(renamed))
    loaded = HateClassifier.from_pretrained(folder)
    with pytest.raises(MismatchError, match="neutral"):
        loaded.check_labels()


# ---------------------------------------------------------------------- pool_layers


@pytest.mark.parametrize("mode", ["full", "probe"])
def test_pool_layers_forward_encode_and_round_trip(
    tiny_encoder_dir: Path, train_set, tmp_path: Path, mode: str
) -> None:
    layers = [1, 3, 0]
    clf = HateClassifier.from_config(
        config(tiny_encoder_dir, pool_layers=layers, pooling="mean", mode=mode, epochs=1)
    )
    width = clf.backbone.hidden_size * len(layers)
    assert clf.feature_size == width and next(clf.head.parameters()).shape[-1] == width
    clf.fit(train_set.texts, train_set.labels)
    clf.eval()
    texts = train_set.texts[:6]
    features = clf.encode(texts)
    assert features.shape == (len(texts), width)
    norms = features.view(len(texts), len(layers), -1).norm(dim=-1)
    np.testing.assert_allclose(norms.numpy(), 1.0, atol=1e-5)
    batch = clf.backbone.pad(clf.backbone.tokenize(texts, max_length=32))
    with torch.no_grad():
        logits = clf(batch["input_ids"], batch["attention_mask"])
        expected = clf.logits_from_pooled(features)
    np.testing.assert_allclose(logits.numpy(), expected.numpy(), atol=1e-5)
    store = FeatureStore(clf, root=tmp_path / "features")
    assert store.folder != FeatureStore(HateClassifier.from_config(config(tiny_encoder_dir))).folder
    np.testing.assert_allclose(store.vectors(texts), features.numpy(), atol=1e-6)

    proba = clf.predict_proba(texts)
    folder = clf.save_pretrained(tmp_path / "ckpt")
    meta = json.loads((folder / "hateproto_classifier.json").read_text())
    assert meta["pool_layers"] == layers
    loaded = HateClassifier.from_pretrained(folder)
    assert loaded.pool_layers == layers and loaded.config.pool_layers == layers
    np.testing.assert_allclose(loaded.predict_proba(texts), proba, atol=1e-6)


def test_pool_layers_out_of_range_and_old_checkpoints(
    tiny_encoder_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"pool_layers \[1, 4\].*0\.\.3"):
        HateClassifier.from_config(config(tiny_encoder_dir, pool_layers=[1, 4]))
    with pytest.raises(ConfigError, match="pool_layers"):
        HateClassifier.from_config(config(tiny_encoder_dir, pool_layers=[-1]))
    clf = HateClassifier.from_config(config(tiny_encoder_dir, mode="probe"))
    assert clf.pool_layers is None and clf.feature_size == clf.backbone.hidden_size
    folder = clf.save_pretrained(tmp_path / "old")
    meta_path = folder / "hateproto_classifier.json"
    meta = json.loads(meta_path.read_text())
    del meta["pool_layers"], meta["training_config"]["pool_layers"]  # a checkpoint from before
    meta_path.write_text(json.dumps(meta))
    loaded = HateClassifier.from_pretrained(folder)
    assert loaded.pool_layers is None and loaded.config.pool_layers is None
