"""Build-time choices measured on the machine (early exit auto, dtype auto): the rules on
given timings, the records in the detector folder, the errors, and the CLI options.

No assertion here depends on how fast anything ran: timings are injected where a choice
must come out one way."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from tiny_detector import tiny_train

from hateproto.cli.main import main
from hateproto.data.types import LabeledTexts
from hateproto.detector import Detector, DetectorSettings, build_detector
from hateproto.detector import autotune as at
from hateproto.errors import ConfigError

TIME_DETECTORS = at.time_detectors  # the real one, kept before any monkeypatching
RECORD_KEYS = {
    "enabled",
    "reason",
    "measured_speedup",
    "counted_speedup",
    "dev_macro_f1_full",
    "dev_macro_f1_exit",
    "n",
    "batch_size",
    "device",
    "dtype",
    "loadavg",
}


@pytest.fixture(autouse=True)
def _on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """The choice logic is tested with fixed timers on the CPU, whatever the machine has
    (the device paths themselves are tested in test_device.py)."""
    monkeypatch.setenv("HATEPROTO_DEVICE", "cpu")


def fixed_timer(seconds: dict[str, float]) -> at.Timer:
    """A timer that really scores (so labels and exit layers are real) but reports
    ``seconds`` for the variants."""

    def timer(detectors, texts):
        measured = TIME_DETECTORS(detectors, texts, repeats=1)
        slower = seconds.get("on", 1.0) * 1.1  # plain early exit wins unless told otherwise
        measured.seconds = {name: seconds.get(name, slower) for name in detectors}
        return measured

    return timer


def build(model_dir, **kwargs) -> Detector:
    train = tiny_train()
    return build_detector(
        str(model_dir), train, per_class=None, dev=train, decision_layer=None, **kwargs
    )


def test_early_exit_rule():
    assert at.early_exit_rule(1.0, 1.0, 0.0, 0.005) == (False, "no gain")
    assert at.early_exit_rule(1.0, 0.9, 0.01, 0.005)[0] is False
    assert "budget" in at.early_exit_rule(1.0, 0.9, 0.01, 0.005)[1]
    assert at.early_exit_rule(1.0, 0.9, 0.003, 0.005)[0] is True
    assert at.early_exit_rule(1.0, 1 / 1.04, 0.0, 0.005)[0] is False


def test_dtype_rule():
    seconds = {"float32": 2.0, "bfloat16": 1.0}
    assert at.dtype_rule(seconds, {"bfloat16": 0.995})[0] == "bfloat16"
    chosen, why = at.dtype_rule(seconds, {"bfloat16": 0.99})
    assert chosen == "float32" and "agree on only 99.0%" in why
    slower = {"float32": 1.0, "bfloat16": 1.2}
    assert at.dtype_rule(slower, {"bfloat16": 1.0}) == (
        "float32",
        "bfloat16 measured 0.83x, no gain",
    )


def test_measurement_sample_is_stratified_and_capped():
    labels = np.array([0] * 900 + [1] * 100)
    data = LabeledTexts([f"post {i}" for i in range(1000)], labels, "x")
    sample = at.measurement_sample(data)
    assert len(sample) == at.SAMPLE_SIZE and int(np.sum(sample.labels)) in (51, 52)
    assert at.measurement_sample(data).texts == sample.texts  # seeded
    assert at.measurement_sample(tiny_train()).texts == tiny_train().texts


def test_time_detectors_keeps_scores_and_best_times(tiny_encoder_dir):
    detector = build(tiny_encoder_dir)
    texts = tiny_train().texts
    measured = at.time_detectors({"a": detector, "b": at.with_settings(detector)}, texts, 2)
    assert set(measured.seconds) == {"a", "b"} and min(measured.seconds.values()) > 0
    assert measured.scores["a"].labels.tolist() == measured.scores["b"].labels.tolist()


@pytest.mark.parametrize(("on_seconds", "enabled"), [(0.5, True), (0.99, False)])
def test_early_exit_choice_applies_the_rule(tiny_encoder_dir, tmp_path, on_seconds, enabled):
    detector = build(tiny_encoder_dir, exit_budget=1.0)
    record = at.choose_early_exit(
        detector, tiny_train(), 1.0, fixed_timer({"off": 1.0, "on": on_seconds})
    )
    assert set(record) >= RECORD_KEYS and record["enabled"] is enabled
    assert detector.settings.early_exit is enabled
    assert record["reason"].startswith(f"early exit {'on' if enabled else 'off'}: measured")
    assert record["counted_speedup"] >= 1.0 and record["n"] == 12
    assert record["calibration_dev_loss"] is not None
    detector.save_pretrained(tmp_path / "d")
    loaded = Detector.from_pretrained(tmp_path / "d")
    assert loaded.settings.early_exit is enabled
    assert loaded.info()["metadata"]["early_exit_choice"] == record


@pytest.mark.parametrize(("refill_seconds", "refill"), [(0.4, True), (0.6, False)])
def test_batch_refill_is_kept_where_it_is_faster(
    tiny_encoder_dir, tmp_path, refill_seconds, refill
):
    detector = build(tiny_encoder_dir, exit_budget=1.0)
    timer = fixed_timer({"off": 1.0, "on": 0.5, "refill": refill_seconds})
    record = at.choose_early_exit(detector, tiny_train(), 1.0, timer)
    assert record["enabled"] is True and record["refill"] is refill
    assert record["refill_speedup"] == pytest.approx(0.5 / refill_seconds, abs=1e-4)
    assert record["measured_speedup"] == pytest.approx(1.0 / min(0.5, refill_seconds), abs=1e-4)
    assert record["reason"].endswith(
        f"batch refill {'on' if refill else 'off'} ({0.5 / refill_seconds:.2f}x plain early exit)"
    )
    assert detector.settings.refill is refill and detector._engine().refill is refill
    plain = at.with_settings(detector, refill=False).score_arrays(tiny_train().texts)
    assert detector.score_arrays(tiny_train().texts).labels.tolist() == plain.labels.tolist()
    loaded = Detector.from_pretrained(detector.save_pretrained(tmp_path / "d"))
    assert loaded.settings.refill is refill and loaded.settings.early_exit is True


def test_early_exit_off_when_f1_loss_exceeds_budget(tiny_encoder_dir):
    detector = build(tiny_encoder_dir, exit_budget=1.0)
    # a budget below zero: even no loss at all is too much
    record = at.choose_early_exit(
        detector, tiny_train(), -1.0, fixed_timer({"off": 1.0, "on": 0.1})
    )
    assert record["enabled"] is False and "budget" in record["reason"]


@pytest.mark.parametrize(
    ("bf16_seconds", "int8_seconds", "chosen"),
    [(0.5, 2.0, "bfloat16"), (1.5, 2.0, "float32"), (0.5, 0.25, "int8")],
)
def test_dtype_choice(tiny_encoder_dir, monkeypatch, bf16_seconds, int8_seconds, chosen):
    monkeypatch.setattr(at, "bf16_supported", lambda device: True)
    detector = build(tiny_encoder_dir)
    timer = fixed_timer({"float32": 1.0, "bfloat16": bf16_seconds, "int8": int8_seconds})
    result = at.choose_dtype(detector, tiny_train(), timer)
    record = result.metadata["dtype_choice"]
    assert set(record) >= {"chosen", "reason", "seconds", "agreement_with_float32", "ece", "n"}
    assert record["device"] == "cpu" and isinstance(record["loadavg"], list)
    assert record["candidates"] == ["float32", "bfloat16", "int8"]
    assert record["seconds"] == {"float32": 1.0, "bfloat16": bf16_seconds, "int8": int8_seconds}
    agree, ece = record["agreement_with_float32"], record["ece"]
    assert set(agree) == {"bfloat16", "int8"} and set(ece) == {"float32", "bfloat16", "int8"}
    ok = agree.get(chosen, 1.0) >= at.MIN_AGREEMENT
    ok = ok and abs(ece[chosen] - ece["float32"]) <= at.MAX_ECE_CHANGE + 1e-4
    expected = chosen if ok else record["chosen"]
    assert record["chosen"] == result.settings.dtype == expected
    if expected == "int8":
        assert result.backbone.quantization["modules"] > 0
    else:
        assert result.backbone.dtype == getattr(torch, expected)
    assert record["reason"].startswith(f"dtype {expected} on cpu (batch 32): ")


def test_dtype_rule_weighs_agreement_and_ece():
    seconds = {"float32": 3.0, "bfloat16": 2.0, "int8": 1.0}
    chosen, why = at.dtype_rule(seconds, {"bfloat16": 1.0, "int8": 0.99}, {"int8": 0.0})
    assert chosen == "bfloat16" and "int8 labels agree on only 99.0%" in why
    chosen, why = at.dtype_rule(seconds, {"bfloat16": 1.0, "int8": 1.0}, {"int8": -0.006})
    assert chosen == "bfloat16" and "int8 moved ECE by -0.0060 (> 0.005)" in why
    chosen, why = at.dtype_rule(seconds, {"bfloat16": 1.0, "int8": 1.0}, {"int8": 0.004})
    assert chosen == "int8" and why.startswith("3.00x faster than float32")
    assert "ECE +0.0040" in why and "bfloat16 measured 1.50x, no gain" in why


def test_int8_choice_round_trips_through_the_folder(tiny_encoder_dir, monkeypatch, tmp_path):
    """A detector that chose int8 saves float weights and loads back in int8, with the same
    decisions and the choice shown by info()."""
    monkeypatch.setattr(at, "bf16_supported", lambda device: False)
    detector = build(tiny_encoder_dir)
    monkeypatch.setattr(at, "dtype_rule", lambda *args: ("int8", "forced for the test"))
    result = at.choose_dtype(detector, tiny_train(), fixed_timer({"float32": 1.0, "int8": 0.5}))
    assert result.settings.dtype == "int8" and result.backbone.quantization is not None
    loaded = Detector.from_pretrained(result.save_pretrained(tmp_path / "d"))
    assert loaded.settings.dtype == "int8" and loaded.backbone.quantization is not None
    texts = tiny_train().texts
    assert loaded.predict_proba(texts) == pytest.approx(result.predict_proba(texts), abs=1e-6)
    info = loaded.info()
    assert info["settings"]["dtype"] == "int8"
    assert (
        "dtype int8 on cpu (batch 32): forced for the test"
        in info["metadata"]["dtype_choice"]["reason"]
    )
    as_float = Detector.from_pretrained(tmp_path / "d", dtype="float32")
    assert as_float.settings.dtype == "float32" and as_float.backbone.dtype == torch.float32


def test_dtype_float32_where_bf16_is_unsupported(tiny_encoder_dir, monkeypatch):
    monkeypatch.setattr(at, "bf16_supported", lambda device: False)
    monkeypatch.setattr(at, "int8_available", lambda: False)
    result = build(tiny_encoder_dir, autotune=["dtype"])
    record = result.metadata["dtype_choice"]
    assert record["chosen"] == "float32" and "bfloat16 not supported" in record["reason"]
    assert "int8 needs torch._int_mm" in record["reason"]
    assert record["seconds"] == {} and record["agreement_with_float32"] is None


def test_no_bf16_switch_measures_float32_and_int8(tiny_encoder_dir, monkeypatch):
    monkeypatch.setattr(at, "bf16_supported", lambda device: True)
    monkeypatch.setenv("HATEPROTO_NO_BF16", "1")
    detector = build(tiny_encoder_dir)
    result = at.choose_dtype(detector, tiny_train(), fixed_timer({"float32": 1.0, "int8": 2.0}))
    record = result.metadata["dtype_choice"]
    assert record["candidates"] == ["float32", "int8"] and record["chosen"] == "float32"
    assert "bfloat16 turned off (HATEPROTO_NO_BF16=1)" in record["reason"]


def test_build_detector_autotune_records_both(tiny_encoder_dir, monkeypatch):
    timer = fixed_timer({"off": 1, "on": 2, "float32": 1, "int8": 2})
    monkeypatch.setattr(at, "time_detectors", timer)
    monkeypatch.setattr(at, "bf16_supported", lambda device: False)
    detector = build(tiny_encoder_dir, exit_budget=0.5, autotune=["dtype", "early_exit"])
    assert detector.metadata["early_exit_choice"]["enabled"] is False
    assert detector.metadata["early_exit_choice"]["reason"].startswith("early exit off: measured")
    assert detector.metadata["dtype_choice"]["chosen"] == "float32"


def test_early_exit_auto_needs_calibration(tiny_encoder_dir):
    with pytest.raises(ConfigError, match="--exit-budget"):
        build(tiny_encoder_dir, autotune=["early_exit"])
    with pytest.raises(ConfigError, match="drop --delta"):
        build(
            tiny_encoder_dir,
            exit_budget=0.5,
            autotune=["early_exit"],
            settings=DetectorSettings(delta=0.1),
        )
    with pytest.raises(ConfigError, match="cannot autotune"):
        build(tiny_encoder_dir, autotune=["speed"])


def cli_args(model_dir, tmp_path) -> list[str]:
    data = tmp_path / "train.csv"
    tiny_train().to_frame().to_csv(data, index=False)
    return ["detector", "build", "--model", str(model_dir), "--per-class", "4", "--data", str(data)]


def test_cli_auto(tiny_encoder_dir, tmp_path, monkeypatch, capsys):
    timer = fixed_timer({"off": 1, "on": 0.5, "float32": 1, "int8": 2})
    monkeypatch.setattr(at, "time_detectors", timer)
    monkeypatch.setattr(at, "bf16_supported", lambda device: False)
    args = cli_args(tiny_encoder_dir, tmp_path)
    out = tmp_path / "det"
    dev = ["--dev-data", args[-1], "--exit-budget", "100", "--out", str(out)]
    assert main([*args, *dev, "--early-exit-mode", "auto", "--dtype", "auto"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "early exit on: measured 2.00x on cpu (batch 32)" in err
    assert "dtype float32 on cpu (batch 32): int8 " in err
    assert "bfloat16 not supported on cpu" in err
    assert main(["detector", "info", str(out)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["early_exit"] is True and info["settings"]["dtype"] == "float32"
    assert set(info["metadata"]["early_exit_choice"]) >= RECORD_KEYS
    assert info["metadata"]["dtype_choice"]["chosen"] == "float32"


def test_cli_auto_without_calibration_is_a_clear_error(tiny_encoder_dir, tmp_path, capsys):
    args = [*cli_args(tiny_encoder_dir, tmp_path), "--out", str(tmp_path / "d")]
    assert main([*args, "--early-exit-mode", "auto"]) == 2
    assert "--exit-budget" in " ".join(capsys.readouterr().err.split())
    assert main([*args, "--early-exit-mode", "off", "--early-exit"]) == 2
    assert main([*args, "--early-exit-mode", "sometimes"]) == 2
    assert main([*args, "--dtype", "fp16"]) == 2  # not a dtype name: refused by the option
    assert not (tmp_path / "d").exists()


def test_cli_measures_the_dtype_by_default(tiny_encoder_dir, tmp_path, capsys):
    out = tmp_path / "plain"
    assert main([*cli_args(tiny_encoder_dir, tmp_path), "--out", str(out)]) == 0
    assert main(["detector", "info", str(out)]) == 0
    info = json.loads(capsys.readouterr().out)
    choice = info["metadata"]["dtype_choice"]
    assert info["settings"]["dtype"] == choice["chosen"] and info["early_exit"] is False
    assert 1 <= choice["n"] <= 12 and "early_exit_choice" not in info["metadata"]


def test_cli_fixed_dtype_records_no_choice(tiny_encoder_dir, tmp_path, capsys):
    out = tmp_path / "fixed"
    args = [*cli_args(tiny_encoder_dir, tmp_path), "--dtype", "float32", "--out", str(out)]
    assert main(args) == 0
    assert main(["detector", "info", str(out)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["settings"]["dtype"] == "float32" and info["early_exit"] is False
    assert "early_exit_choice" not in info["metadata"]
    assert "dtype_choice" not in info["metadata"]


def test_early_exit_loss_is_judged_on_the_calibration_dev_set(tiny_encoder_dir):
    detector = build(tiny_encoder_dir, exit_budget=1.0)
    meta = detector.thresholds.metadata
    meta["dev_full_macro_f1"], meta["dev_macro_f1"] = 0.80, 0.79  # calibration lost 1 point
    timer = fixed_timer({"off": 1.0, "on": 0.5})
    record = at.choose_early_exit(detector, tiny_train(), 0.005, timer)
    assert record["loss_judged_on"] == "calibration dev set"
    assert record["calibration_dev_loss"] == pytest.approx(0.01)
    assert record["enabled"] is False and "0.0100 > budget" in record["reason"]
    meta["dev_macro_f1"] = 0.799  # 0.1 point: within a half-point budget
    assert at.choose_early_exit(detector, tiny_train(), 0.005, timer)["enabled"] is True
