"""Issue 29, one path per idea: one per-text result, one dtype rule, one early_exit.json
format, one registry of served exit policies. Each test fails if a second path comes back
(a field that does not reach files, a dtype left as ``auto``, a writer with its own schema)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from tiny_detector import HATE, NOT_HATE, tiny_detector, tiny_train

from hateproto.detector import Detector, DetectorSettings
from hateproto.detector.autotune import with_dtype
from hateproto.detector.results import BASE_COLUMNS, DetectorFacts, Prediction, Scores
from hateproto.dtypes import DTYPE_CHOICES, check_dtype, resolve_dtype
from hateproto.early_exit import EarlyExitClassifier, ExitThresholds, policies
from hateproto.errors import ConfigError, HateprotoError
from hateproto.scoring.classify import add_predictions


# ---------------------------------------------------------------------- one result
def _scores(**more) -> Scores:
    return Scores(
        labels=np.array([1, 0]),
        proba=np.array([[0.2, 0.8], [0.9, 0.1]]),
        margins=np.array([0.3, 0.5]),
        exit_layers=np.array([2, 3]),
        **more,
    )


def test_a_new_per_text_field_reaches_predictions_files_and_the_service_schema():
    scores = _scores(attributes={"THREAT": np.array([0.7, 0.05])}, languages=np.array(["en", "de"]))
    predictions = scores.predictions()
    assert predictions[0].attributes == {"THREAT": 0.7} and predictions[1].language == "de"
    frame = add_predictions(pd_frame(2), scores, prefix="p_")
    assert list(frame.columns)[-6:] == [
        "p_label",
        "p_hate_probability",
        "p_margin",
        "p_exit_layer",
        "p_THREAT",
        "p_language",
    ]
    assert frame["p_THREAT"].tolist() == [0.7, 0.05]
    assert set(Prediction.model_json_schema()["properties"]) >= {"attributes", "language"}


def test_a_hate_only_result_keeps_the_base_columns_and_fields():
    scores = _scores()
    assert list(scores.columns()) == list(BASE_COLUMNS)
    assert scores.predictions()[0].to_dict() == {
        "label": "hate",
        "hate_probability": 0.8,
        "margin": 0.3,
        "exit_layer": 2,
    }
    assert [p.label_id for p in scores.predictions()] == [1, 0]


def pd_frame(n: int):
    import pandas as pd

    return pd.DataFrame({"id": range(n)})


def test_detector_facts_come_from_the_detector(tiny_encoder_dir):
    detector = tiny_detector(tiny_encoder_dir)
    facts = detector.facts()
    assert isinstance(facts, DetectorFacts)
    assert (
        facts.threshold == 0.5 and not facts.calibrated and facts.attributes == ("IDENTITY_ATTACK",)
    )
    detector.metadata["languages"] = ["en", "de"]
    assert detector.facts().languages == ("en", "de")


# ---------------------------------------------------------------------- one dtype rule
def test_the_dtype_vocabulary_has_no_aliases():
    assert DTYPE_CHOICES == ("auto", "float32", "bfloat16", "float16", "int8")
    for alias in ("fp32", "bf16", "half"):
        with pytest.raises(ConfigError, match="not one of auto, float32"):
            check_dtype(alias)
    assert resolve_dtype("auto") == "float32"
    assert resolve_dtype("auto", recorded="bfloat16") == "bfloat16"


def test_settings_state_the_dtype_the_weights_are_in(tiny_encoder_dir, tmp_path):
    detector = tiny_detector(tiny_encoder_dir)  # settings dtype defaults to auto
    assert detector.settings.dtype == "float32"
    half = with_dtype(detector, "bfloat16")
    assert half.settings.dtype == "bfloat16" and half.backbone.dtype == torch.bfloat16
    assert detector.backbone.dtype == torch.float32  # the original is untouched
    assert half.prototypes.backbone is half.backbone
    assert detector.prototypes.backbone is detector.backbone
    folder = half.save_pretrained(tmp_path / "bf16")
    loaded = Detector.from_pretrained(folder, dtype="auto")  # auto: the recorded dtype
    assert loaded.backbone.dtype == torch.bfloat16 and loaded.settings.dtype == "bfloat16"
    forced = Detector.from_pretrained(folder, dtype="float32")
    assert forced.backbone.dtype == torch.float32 and forced.settings.dtype == "float32"


# ---------------------------------------------------------------------- one early_exit.json
def test_the_early_exit_classifier_writes_the_thresholds_format(tiny_encoder_dir, tmp_path):
    train = tiny_train()
    clf = EarlyExitClassifier(str(tiny_encoder_dir), delta={1: 0.01, 2: 0.02}, min_layer=2)
    clf.fit(train.texts, train.labels)
    clf.save_pretrained(tmp_path / "exits")
    payload = json.loads((tmp_path / "exits" / "early_exit.json").read_text())
    assert payload["method"] == "prototype_margin" and payload["backbone_fingerprint"]
    assert payload["metadata"]["engine"]["min_layer"] == 2
    thresholds = ExitThresholds.load(tmp_path / "exits")
    assert thresholds.finite() == {2: 0.02}  # layer 1 is below min_layer: never
    again = EarlyExitClassifier.from_pretrained(tmp_path / "exits")
    assert again.min_layer == 2
    assert again.predict(HATE + NOT_HATE).tolist() == clf.predict(HATE + NOT_HATE).tolist()


def test_an_early_exit_file_of_the_old_classifier_format_still_loads(tmp_path):
    (tmp_path / "early_exit.json").write_text(
        json.dumps({"format_version": 1, "deltas": {"1": 0.1}, "min_layer": 1, "batch_size": 8})
    )
    thresholds = ExitThresholds.load(tmp_path)
    assert thresholds.deltas == {1: 0.1}
    assert thresholds.metadata["engine"] == {"min_layer": 1, "batch_size": 8}


# ---------------------------------------------------------------------- served exit policies
def test_a_registered_exit_policy_is_served_by_name(tiny_encoder_dir, monkeypatch):
    built = []

    def never_exit(scorer, deltas, final, num_layers, min_layer):
        built.append(deltas)
        return policies.margin_exit(scorer, math.inf, final, num_layers, min_layer)

    monkeypatch.setitem(policies.SERVED_POLICIES, "never", never_exit)
    detector = tiny_detector(tiny_encoder_dir, early_exit=True, delta=0.0, exit_policy="never")
    layers = [p.exit_layer for p in detector.score(HATE + NOT_HATE)]
    assert built and set(layers) == {detector.backbone.num_layers}
    detector.settings = detector.settings.model_copy(update={"exit_policy": "margin"})
    assert min(p.exit_layer for p in detector.score(HATE + NOT_HATE)) == 1  # delta 0: exit at 1


def test_an_unknown_exit_policy_is_refused_before_scoring(tiny_encoder_dir):
    with pytest.raises(HateprotoError, match="unknown exit policy 'nope'; known: margin"):
        tiny_detector(tiny_encoder_dir, early_exit=True, delta=0.1, exit_policy="nope")
    settings = DetectorSettings(exit_policy="nope")  # without early exit it is never used
    assert settings.exit_policy == "nope"


def test_the_command_line_serves_an_exit_policy_by_name(tiny_encoder_dir, tmp_path, capsys):
    from hateproto.cli.main import main

    folder = tiny_detector(tiny_encoder_dir).save_pretrained(tmp_path / "det")
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("text\n" + "\n".join(HATE + NOT_HATE) + "\n")
    base = ["classify", str(src), str(out), "--detector", str(folder), "--quiet", "--delta", "0"]
    assert main([*base, "--exit-policy", "nope"]) == 2
    assert "unknown exit policy 'nope'" in capsys.readouterr().err and not out.exists()
    assert main([*base, "--exit-policy", "margin"]) == 0
    assert set(pd_frame_from(out)["exit_layer"]) == {1}  # delta 0: every row exits at layer 1


def pd_frame_from(path):
    import pandas as pd

    return pd.read_csv(path)
