"""Fusion heads and FusionClassifier on tiny models: shapes, gradients, training, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hateproto.data import LabeledTexts
from hateproto.errors import ConfigError
from hateproto.fusion import FUSION_METHODS, FusionClassifier, FusionConfig, FusionHead
from hateproto.training import HateClassifier, TrainingConfig

POSTS = [
    "they are vermin",
    "welcome neighbours",
    "go back home you lazy criminals",
    "the weather is great today",
    "immigrants are dirty criminals",
    "we love our new neighbours",
    "those people deserve hate",
    "good football game today",
]
LABELS = np.array([1, 0, 1, 0, 1, 0, 1, 0])


@pytest.mark.parametrize("method", FUSION_METHODS)
def test_head_shapes_gradients_and_spec_roundtrip(method):
    torch.manual_seed(0)
    head = FusionHead(method, text_size=12, emotion_size=10, hidden_size=8, attention_heads=2)
    text = torch.randn(5, 12, requires_grad=True)
    context = torch.randn(5, 12, requires_grad=True)
    emotion = torch.rand(5, 10, requires_grad=True)
    logits = head(text, context, emotion)
    assert logits.shape == (5, 2)
    logits.sum().backward()
    for name, tensor in (("text", text), ("context", context), ("emotion", emotion)):
        assert tensor.grad is not None and tensor.grad.abs().sum() > 0, name
    for name, param in head.named_parameters():
        assert param.grad is not None, name
    if method != "concat":
        weights = head.last_weights
        assert weights.shape == (5, 3 if method == "adaptive" else 2)
        torch.testing.assert_close(weights.sum(-1), torch.ones(5))

    clone = FusionHead.from_spec(head.spec())
    clone.load_state_dict(head.state_dict())
    head.eval(), clone.eval()
    features = torch.cat([text, context, emotion], dim=1).detach()
    torch.testing.assert_close(clone.forward_features(features), head(text, context, emotion))


def test_head_rejects_bad_settings():
    with pytest.raises(ConfigError, match="unknown fusion"):
        FusionHead("sum", 8, 10)
    with pytest.raises(ConfigError, match="divisible"):
        FusionHead("attention", 8, 10, hidden_size=6, attention_heads=4)
    with pytest.raises(ConfigError, match="width"):
        FusionHead("concat", 8, 10).forward_features(torch.zeros(2, 20))


def _config(encoder, decoder, method: str, mode: str = "full") -> TrainingConfig:
    fusion = {
        "method": method,
        "hidden_size": 8,
        "attention_heads": 2,
        "context": {
            "model": str(decoder),
            "dtype": "float32",
            "max_new_tokens": 3,
            "batch_size": 4,
        },
    }
    return TrainingConfig(
        backbone=str(encoder),
        mode=mode,
        pooling="mean",
        epochs=2,
        batch_size=4,
        learning_rate=1e-3,
        show_progress=False,
        fusion=fusion,
    )


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.mark.parametrize("method", FUSION_METHODS)
def test_fusion_classifier_trains_saves_and_reloads(
    method, tiny_encoder_dir, tiny_decoder_dir, home
):
    data = LabeledTexts(POSTS, LABELS, name="toy")
    clf = HateClassifier.from_config(_config(tiny_encoder_dir, tiny_decoder_dir, method))
    assert isinstance(clf, FusionClassifier) and clf.head.method == method
    before = {n: p.detach().clone() for n, p in clf.named_parameters()}
    clf.fit(data, data)
    changed = {n for n, p in clf.named_parameters() if not torch.equal(p, before[n])}
    assert any(n.startswith("encoder.") for n in changed)  # gradients reach the encoder
    assert any(n.startswith("head.") for n in changed)
    features = clf.encode(POSTS)
    assert features.shape == (8, 2 * 32 + 10)

    proba = clf.predict_proba(POSTS)
    folder = clf.save_pretrained(home / "ckpt")
    again = HateClassifier.from_pretrained(folder)
    assert isinstance(again, FusionClassifier) and again.head.method == method
    assert again.config.fusion == clf.config.fusion
    np.testing.assert_allclose(again.predict_proba(POSTS), proba, atol=1e-5)
    assert again.contexts.stats.generated == 0  # every context came from the cache


def test_probe_mode_uses_cached_features(tiny_encoder_dir, tiny_decoder_dir, home):
    data = LabeledTexts(POSTS, LABELS, name="toy")
    clf = HateClassifier.from_config(
        _config(tiny_encoder_dir, tiny_decoder_dir, "adaptive", mode="probe")
    )
    encoder_before = {n: p.clone() for n, p in clf.encoder.named_parameters()}
    clf.fit(data)
    assert all(torch.equal(p, encoder_before[n]) for n, p in clf.encoder.named_parameters())
    assert clf.predict(POSTS).shape == (8,)


def test_forward_from_tokens_equals_forward_from_features(tiny_encoder_dir, tiny_decoder_dir, home):
    clf = HateClassifier.from_config(_config(tiny_encoder_dir, tiny_decoder_dir, "attention"))
    clf.eval()
    data = LabeledTexts(POSTS[:4], LABELS[:4], name="toy")
    batch = next(iter(clf.training_loader(data, clf.config, show=False)))
    labels = batch.pop("labels")
    order = [POSTS.index(p) for p in _texts_of(clf, batch["input_ids"])]
    with torch.no_grad():
        from_tokens = clf(**batch)
        from_features = clf.logits_from_pooled(clf.encode([POSTS[i] for i in order]))
    torch.testing.assert_close(from_tokens, from_features, atol=1e-5, rtol=1e-4)
    assert labels.tolist() == [int(LABELS[i]) for i in order]


def _texts_of(clf: FusionClassifier, input_ids: torch.Tensor) -> list[str]:
    tokenizer = clf.backbone.tokenizer
    return [tokenizer.decode(row, skip_special_tokens=True) for row in input_ids]


def test_training_config_fusion_section(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("backbone: minilm\nfusion:\n  method: attention\n  emotion: nrc\n")
    cfg = TrainingConfig.from_yaml(path)
    assert isinstance(cfg.fusion, FusionConfig) and cfg.fusion.method == "attention"
    with pytest.raises(ConfigError, match="method"):
        TrainingConfig.from_dict({"fusion": {"method": "sum"}})


def test_train_cli_with_fusion_section(tiny_encoder_dir, tiny_decoder_dir, home, capsys):
    import yaml

    from hateproto.cli.main import main

    table = home / "posts.csv"
    rows = "".join(f"{t},{y}\n" for t, y in zip(POSTS, LABELS, strict=True))
    table.write_text("text,label\n" + rows)
    cfg = _config(tiny_encoder_dir, tiny_decoder_dir, "concat").model_dump(mode="json")
    cfg.update(epochs=1, data={"dataset": str(table), "dev_fraction": 0.25})
    path = home / "train.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = home / "ckpt"
    assert main(["train", "--config", str(path), "--output", str(out), "--no-test"]) == 0
    assert "saved to" in capsys.readouterr().out
    clf = HateClassifier.from_pretrained(out)
    assert isinstance(clf, FusionClassifier) and clf.predict(POSTS[:2]).shape == (2,)


def test_training_finds_fusion_through_its_registry_alone():
    """A fresh process that imports only hateproto.training validates a fusion section and
    finds FusionClassifier by head type: the registry imports hateproto.fusion on demand."""
    import subprocess
    import sys

    code = (
        "import sys; from hateproto.training import TrainingConfig; "
        "from hateproto.training.registry import classifier_type; "
        "print('hateproto.fusion' in sys.modules); "
        "cfg = TrainingConfig.from_dict({'fusion': {'method': 'adaptive'}}); "
        "print(type(cfg.fusion).__name__, classifier_type('fusion').__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "FusionConfig", "FusionClassifier"]
