"""The int8 path (hateproto.models.quantization) and the CPU attention for short texts
(hateproto.models.cpu_attention), on the tiny random BERT: values close to float32, every
way of deciding works in int8, the dtype name is checked, GPUs are refused.

No assertion here depends on how fast anything ran."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_detector import tiny_detector, tiny_train

from hateproto.detector import Detector
from hateproto.dtypes import DTYPE_CHOICES, check_dtype, resolve_dtype
from hateproto.errors import ConfigError, ModelError
from hateproto.models import Backbone
from hateproto.models import quantization as q
from hateproto.models.cpu_attention import ATTENTION, cpu_attention, use_cpu_attention
from hateproto.models.stepping import LayerRunner
from hateproto.training.loading import load_model


@pytest.fixture(autouse=True)
def _on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HATEPROTO_DEVICE", "cpu")


def test_int8_linear_is_close_to_the_float_layer():
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 48)
    x = torch.randn(5, 7, 64)
    x[..., 3] *= 20  # an outlier channel, as in transformer activations
    ranges = x.reshape(-1, 64).abs().amax(0)
    for input_range in (None, ranges):
        layer = q.Int8Linear.from_linear(linear, input_range)
        with torch.no_grad():
            got, want = layer(x), linear(x)
        assert got.shape == want.shape and got.dtype == torch.float32
        assert float((got - want).norm() / want.norm()) < 0.02
        assert layer(x.bfloat16()).dtype == torch.bfloat16
    assert layer.weight.dtype == torch.int8 and layer.weight.shape == (64, 48)
    assert layer.to(torch.bfloat16).weight_scale.dtype == torch.float32  # scales stay exact
    assert "smooth=True" in repr(layer)


def test_int8_linear_without_bias_and_one_row():
    linear = torch.nn.Linear(16, 8, bias=False)
    layer = q.Int8Linear.from_linear(linear, None)
    x = torch.randn(1, 16)
    with torch.no_grad():
        assert layer(x) == pytest.approx(linear(x), abs=0.05)


def test_backbone_loads_in_int8(tiny_encoder_dir):
    float32 = Backbone.load(str(tiny_encoder_dir))
    int8 = Backbone.load(str(tiny_encoder_dir), dtype="int8")
    assert q.is_quantized(int8) and not q.is_quantized(float32)
    assert int8.quantization["modules"] > 0 and int8.quantization["calibration_posts"] == 60
    assert int8.fingerprint == float32.fingerprint  # names the same weights
    assert any(isinstance(m, q.Int8Linear) for m in int8.model.modules())
    assert not any(isinstance(m, torch.nn.Linear) for m in int8.model.modules())
    texts = tiny_train().texts
    a = float32.encode(texts, layers="all")
    b = int8.encode(texts, layers="all")
    cosine = torch.nn.functional.cosine_similarity(a.flatten(1), b.flatten(1))
    assert float(cosine.min()) > 0.99
    assert q.quantize_backbone(int8) is int8  # already quantised: unchanged


def test_quantize_backbone_keeps_the_named_linears(tiny_encoder_dir):
    backbone = Backbone.load(str(tiny_encoder_dir))
    total = sum(isinstance(m, torch.nn.Linear) for m in backbone.model.modules())
    q.quantize_backbone(backbone, keep=("output.dense",))
    kept = {n for n, m in backbone.model.named_modules() if isinstance(m, torch.nn.Linear)}
    assert kept and all("output.dense" in name for name in kept)
    assert backbone.quantization["modules"] == total - len(kept)
    assert backbone.quantization["kept"] == ["output.dense"]


def test_compute_dtype_follows_native_bf16(monkeypatch):
    monkeypatch.setattr(q, "bf16_supported", lambda device: True)
    assert q.compute_dtype(torch.device("cpu")) == torch.bfloat16
    monkeypatch.setenv(q.NO_BF16_ENV, "1")
    assert q.bf16_turned_off() and q.compute_dtype(torch.device("cpu")) == torch.float32


def _scores(detector: Detector, texts: list[str]) -> np.ndarray:
    return detector.score_arrays(texts).proba[:, 1]


@pytest.mark.parametrize(
    "settings",
    [
        {},  # prototypes at the last layer: one plain forward pass
        {"decision_layer": 2},  # below the last layer: layer stepping
        {"early_exit": True, "delta": 0.0},  # early exit: every row leaves at layer 1
        {"early_exit": True, "delta": 0.05, "refill": True, "batch_size": 4},
    ],
)
def test_int8_detector_agrees_with_float32(tiny_encoder_dir, tmp_path, settings):
    folder = tiny_detector(tiny_encoder_dir).save_pretrained(tmp_path / "d")
    texts = tiny_train().texts
    float32 = Detector.from_pretrained(folder, dtype="float32", **settings)
    int8 = Detector.from_pretrained(folder, dtype="int8", **settings)
    assert int8.settings.dtype == "int8" and q.is_quantized(int8.backbone)
    want, got = float32.score_arrays(texts), int8.score_arrays(texts)
    assert got.proba[:, 1] == pytest.approx(want.proba[:, 1], abs=0.02)
    assert got.exit_layers.tolist() == want.exit_layers.tolist()


def test_recorded_bfloat16_loads_in_float32_without_native_bf16(
    tiny_encoder_dir, tmp_path, monkeypatch
):
    folder = tiny_detector(tiny_encoder_dir, dtype="bfloat16").save_pretrained(tmp_path / "d")
    monkeypatch.setattr(q, "bf16_supported", lambda device: True)
    assert Detector.from_pretrained(folder).settings.dtype == "bfloat16"
    monkeypatch.setenv(q.NO_BF16_ENV, "1")  # as on a CPU without native bfloat16
    with pytest.warns(UserWarning, match="no native bfloat16"):
        moved = Detector.from_pretrained(folder)
    assert moved.settings.dtype == "float32" and moved.backbone.dtype == torch.float32
    forced = Detector.from_pretrained(folder, dtype="bfloat16")  # asked for: kept
    assert forced.settings.dtype == "bfloat16"


def test_layer_runner_steps_an_int8_backbone(tiny_encoder_dir):
    backbone = Backbone.load(str(tiny_encoder_dir), dtype="int8")
    texts = tiny_train().texts[:4]
    batch = backbone.pad(backbone.tokenize(texts))
    runner = LayerRunner(backbone)
    with torch.inference_mode():
        stepped = [runner.pooled(state) for state in runner.iterate(batch)]
    whole = backbone.encode(texts, layers="all", batch_size=4)
    assert len(stepped) == backbone.num_layers
    for layer, pooled in enumerate(stepped):
        assert pooled.numpy() == pytest.approx(whole[:, layer].numpy(), abs=1e-4)


def test_int8_classifier_checkpoint_loads(tiny_encoder_dir, tmp_path):
    from hateproto.training import HateClassifier, TrainingConfig

    config = TrainingConfig(backbone=str(tiny_encoder_dir), mode="probe", pool_layers=[1, 2, 3])
    clf = HateClassifier.from_config(config)
    clf.classes_ = np.arange(2)
    folder = clf.save_pretrained(tmp_path / "clf")
    backbone, classifier = load_model(folder, "int8")
    assert classifier is not None and q.is_quantized(backbone)
    assert classifier.backbone is backbone and classifier.encoder is backbone.model
    texts = tiny_train().texts
    want = HateClassifier.from_pretrained(folder).predict_proba(texts)
    assert classifier.predict_proba(texts) == pytest.approx(want, abs=0.02)


def test_int8_is_a_dtype_name_and_bad_names_are_refused(tiny_encoder_dir):
    assert "int8" in DTYPE_CHOICES and resolve_dtype("auto", recorded="int8") == "int8"
    assert check_dtype("int8") == "int8"
    with pytest.raises(ConfigError, match="'int4' is not one of auto, .*int8"):
        check_dtype("int4")
    with pytest.raises(ConfigError, match="not one of"):
        load_model(str(tiny_encoder_dir), "fp8")


def test_int8_is_refused_on_a_gpu(tiny_encoder_dir, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ModelError, match="int8 runs on the CPU only"):
        load_model(str(tiny_encoder_dir), "int8", device="cuda")
    with pytest.raises(ModelError, match="int8 runs on the CPU only"):
        q.check_cpu(torch.device("cuda", 0))


def test_cpu_attention_matches_sdpa():
    torch.manual_seed(0)
    query, key, value = (torch.randn(3, 4, 10, 8) for _ in range(3))
    mask = torch.ones(3, 1, 10, 10, dtype=torch.bool)
    mask[1, :, :, 7:] = False  # a padded row
    module = torch.nn.Module().eval()
    got, _ = cpu_attention(module, query, key, value, mask, scaling=0.3)
    want = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=mask, scale=0.3
    ).transpose(1, 2)
    assert got.shape == (3, 10, 4, 8)
    assert got == pytest.approx(want, abs=1e-5)
    unmasked, _ = cpu_attention(module, query, key, value, None)
    plain = torch.nn.functional.scaled_dot_product_attention(query, key, value)
    assert unmasked == pytest.approx(plain.transpose(1, 2), abs=1e-5)


def test_cpu_attention_is_used_for_cpu_encoders(tiny_encoder_dir):
    backbone, _ = load_model(str(tiny_encoder_dir), "float32", device="cpu")
    assert backbone.model.config._attn_implementation == ATTENTION
    plain = Backbone.load(str(tiny_encoder_dir))
    texts = tiny_train().texts
    want = plain.encode(texts, layers="all")
    assert backbone.encode(texts, layers="all") == pytest.approx(want, abs=1e-5)
    assert use_cpu_attention(backbone.model) is False  # already switched


def test_cpu_attention_leaves_decoders_alone(tiny_decoder_dir):
    backbone = Backbone.load(str(tiny_decoder_dir))
    texts = tiny_train().texts
    want = backbone.encode(texts, layers="all")
    use_cpu_attention(backbone.model)  # grouped key/value heads and causal: SDPA stays
    assert backbone.encode(texts, layers="all") == pytest.approx(want, abs=1e-5)
