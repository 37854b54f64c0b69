"""Detector: predictions, explain, early exit, save/load of the versioned folder, CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from tiny_detector import HATE, NOT_HATE, tiny_detector, tiny_train

from hateproto.cli.main import main
from hateproto.detector import Detector, DetectorSettings, DetectorSpec, Prediction, build_detector
from hateproto.early_exit import ExitThresholds
from hateproto.errors import HateprotoError, MismatchError, ModelError

TEXTS = ["they are vermin", "good game today", "we love our city"]


def test_score_gives_label_probability_margin_exit_layer(detector):
    predictions = detector.score(TEXTS)
    assert len(predictions) == 3 and all(isinstance(p, Prediction) for p in predictions)
    for p in predictions:
        assert p.label in ("hate", "not_hate") and p.label == ("hate" if p.label_id else "not_hate")
        assert 0.0 <= p.hate_probability <= 1.0 and p.margin >= 0.0
        assert p.exit_layer == 3
    proba = detector.predict_proba(TEXTS)
    assert proba.shape == (3, 2) and np.allclose(proba.sum(1), 1.0)
    assert [p.hate_probability for p in predictions] == pytest.approx(proba[:, 1].tolist())
    assert [p.label_id for p in predictions] == proba.argmax(1).tolist()
    assert detector.predict(TEXTS).tolist() == [p.label_id for p in predictions]
    assert detector.score([]) == []


def test_prediction_matches_prototype_classifier(detector):
    expected = detector.prototypes.predict(TEXTS, layer=3)
    assert detector.predict(TEXTS).tolist() == expected.tolist()


def test_explain_lists_every_layer(detector):
    explanation = detector.explain("they are vermin")
    assert [row.layer for row in explanation.layers] == [1, 2, 3]
    last = explanation.layers[-1]
    assert set(last.similarities) == {"not_hate", "hate"}
    sims = sorted(last.similarities.values())
    assert last.margin == pytest.approx(sims[1] - sims[0], abs=1e-6)
    assert explanation.prediction.label == last.label
    assert json.loads(json.dumps(explanation.to_dict()))["decision_layer"] == 3


def test_early_exit_with_delta(tiny_encoder_dir, detector):
    eager = tiny_detector(tiny_encoder_dir, early_exit=True, delta=0.0)
    assert {p.exit_layer for p in eager.score(TEXTS)} == {1}  # margin >= 0 always clears
    never = tiny_detector(tiny_encoder_dir, early_exit=True, delta=10.0)
    assert [p.label for p in never.score(TEXTS)] == [p.label for p in detector.score(TEXTS)]
    assert {p.exit_layer for p in never.score(TEXTS)} == {3}


def test_early_exit_needs_a_threshold(tiny_encoder_dir):
    with pytest.raises(ModelError, match="delta"):
        tiny_detector(tiny_encoder_dir, early_exit=True)


def test_save_and_load_round_trip(detector, detector_dir):
    manifest = json.loads((detector_dir / "detector.json").read_text())
    assert manifest["format_version"] == 2
    assert manifest["model"]["reference"] == "local:" + Path(detector.model_reference).name
    assert manifest["model"]["source"] == "local" and str(detector_dir.parent) not in str(manifest)
    assert manifest["model"]["fingerprint"] == detector.backbone.fingerprint
    assert manifest["prototypes"] == "prototypes" and manifest["settings"]["decision_layer"] == 3
    loaded = Detector.from_pretrained(detector_dir)
    assert loaded.predict_proba(TEXTS) == pytest.approx(detector.predict_proba(TEXTS), abs=1e-6)
    assert loaded.info()["prototypes"]["per_class"] == {0: len(NOT_HATE), 1: len(HATE)}
    assert not list(detector_dir.parent.glob("*.partial"))


def test_overrides_and_thresholds_survive_save(detector, tmp_path):
    loaded = Detector.from_pretrained(detector.save_pretrained(tmp_path / "d"))
    assert loaded.settings.early_exit is False
    eager = Detector.from_pretrained(tmp_path / "d", early_exit=True, delta=0.0)
    assert {p.exit_layer for p in eager.score(TEXTS)} == {1}
    eager.thresholds = ExitThresholds({1: 5.0, 2: 0.0}, 0.01, detector.backbone.fingerprint)
    eager.settings = eager.settings.model_copy(update={"delta": None})
    eager.save_pretrained(tmp_path / "calibrated")
    assert (tmp_path / "calibrated" / "early_exit.json").is_file()
    calibrated = Detector.from_pretrained(tmp_path / "calibrated")
    assert calibrated.exit_thresholds() == {1: 5.0, 2: 0.0}
    assert {p.exit_layer for p in calibrated.score(TEXTS)} == {2}
    assert calibrated.info()["thresholds"] == {"1": 5.0, "2": 0.0}


def test_replacing_thresholds_or_prototypes_gives_a_fresh_engine(detector):
    fingerprint = detector.backbone.fingerprint
    settings = DetectorSettings(early_exit=True)
    late = ExitThresholds({1: 5.0, 2: 0.0}, 0.01, fingerprint)
    eager = Detector(detector.backbone, detector.prototypes, thresholds=late, settings=settings)
    engine = eager._engine()
    assert eager._engine() is engine  # same settings and objects: the cached engine
    assert {p.exit_layer for p in eager.score(TEXTS)} == {2}
    eager.thresholds = ExitThresholds({1: 0.0, 2: 0.0}, 0.01, fingerprint)
    assert eager._engine() is not engine
    assert {p.exit_layer for p in eager.score(TEXTS)} == {1}
    engine = eager._engine()
    eager.thresholds = ExitThresholds(dict(eager.thresholds.finite()), 0.01, fingerprint)
    assert eager._engine() is not engine  # an equal but new object is not trusted either
    eager.thresholds = None  # the old thresholds may be freed: a new object can take its id
    eager.thresholds = ExitThresholds({1: 5.0, 2: 0.0}, 0.01, fingerprint)
    assert {p.exit_layer for p in eager.score(TEXTS)} == {2}
    before = eager.predict(TEXTS)
    engine = eager._engine()
    swapped = copy.copy(eager.prototypes)  # the two class prototypes trade places
    swapped.prototypes_ = eager.prototypes.prototypes_.flip(1)
    eager.prototypes = swapped
    assert eager._engine() is not engine
    assert eager.predict(TEXTS).tolist() == (1 - before).tolist()
    engine = eager._engine()
    eager.settings = eager.settings.model_copy(update={"delta": 10.0})
    assert eager._engine() is not engine
    assert {p.exit_layer for p in eager.score(TEXTS)} == {3}


def test_unknown_format_version_and_missing_folder(detector_dir, tmp_path):
    bad = tmp_path / "future"
    bad.mkdir()
    manifest = json.loads((detector_dir / "detector.json").read_text())
    (bad / "detector.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ModelError, match="format_version 99"):
        Detector.from_pretrained(bad)
    with pytest.raises(ModelError, match="not found"):
        Detector.from_pretrained(tmp_path / "nowhere")
    with pytest.raises(ModelError, match="not a detector folder"):
        Detector.from_pretrained(tmp_path)


def test_other_weights_are_refused(detector, detector_dir, tiny_decoder_dir):
    from hateproto.models import Backbone

    stored = detector.backbone.fingerprint
    other = Backbone.load(str(tiny_decoder_dir)).fingerprint
    assert stored != other
    with pytest.raises(MismatchError) as caught:
        Detector.from_pretrained(detector_dir, model=str(tiny_decoder_dir))
    assert type(caught.value) is MismatchError  # not any other HateprotoError
    assert str(caught.value) == (
        f"{detector_dir}: the detector was built on weights with fingerprint {stored}, "
        f"but {tiny_decoder_dir} gives {other}; give the model it was built on"
    )


def test_spec_and_from_model(detector_dir, tiny_encoder_dir):
    spec = DetectorSpec(model=str(tiny_encoder_dir), prototypes=str(detector_dir / "prototypes"))
    assert (
        spec.load().predict(TEXTS).tolist()
        == Detector.from_pretrained(detector_dir).predict(TEXTS).tolist()
    )
    with pytest.raises(ModelError, match="either"):
        DetectorSpec()
    with pytest.raises(ModelError, match="no classification head"):
        DetectorSpec(model=str(tiny_encoder_dir)).load()


def test_explain_needs_prototypes(detector):
    class Head:
        backbone = detector.backbone

        def predict_proba(self, texts):
            return np.tile([0.3, 0.7], (len(texts), 1))

    head_only = Detector(detector.backbone, classifier=Head())
    p = head_only.score(["x y"])[0]
    assert (p.label, p.exit_layer, round(p.margin, 6)) == ("hate", 3, 0.4)
    with pytest.raises(HateprotoError, match="explain needs prototypes"):
        head_only.explain("x")


def test_cli_build_info_explain(tiny_encoder_dir, tmp_path, capsys):
    data = tmp_path / "train.csv"
    tiny_train().to_frame().to_csv(data, index=False)
    out = tmp_path / "det"
    args = ["detector", "build", "--model", str(tiny_encoder_dir), "--data", str(data)]
    assert main([*args, "--dev-data", str(data), "--per-class", "4", "--out", str(out)]) == 0
    assert (out / "detector.json").is_file()
    capsys.readouterr()
    assert main(["detector", "info", str(out)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["prototypes"]["per_class"] == {"0": 4, "1": 4}
    assert info["metadata"]["layer_selection"]["chosen"] == info["decision_layer"]
    assert main(["detector", "explain", str(out), "they are vermin", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["layers"]) == 3
    assert main(["detector", "build", "--out", str(tmp_path / "x")]) == 2
    assert "--dataset" in " ".join(capsys.readouterr().err.split())


def test_decision_layer_below_the_top_stops_there(detector):
    shallow = Detector(
        detector.backbone, detector.prototypes, settings=DetectorSettings(decision_layer=2)
    )
    predictions = shallow.score(TEXTS)
    assert {p.exit_layer for p in predictions} == {2}
    expected = shallow.prototypes.predict_proba(TEXTS, layer=2)[:, 1]
    assert [p.hate_probability for p in predictions] == pytest.approx(expected.tolist(), abs=1e-5)


def test_calibrated_thresholds_from_build(tiny_encoder_dir, tmp_path):
    train = tiny_train()
    detector = build_detector(
        str(tiny_encoder_dir),
        train,
        per_class=None,
        dev=train,
        decision_layer=None,
        exit_budget=1.0,  # any loss allowed: every row may leave at layer 1
        settings=DetectorSettings(early_exit=True),
    )
    assert detector.thresholds is not None and detector.exit_thresholds()
    assert detector.thresholds.metadata["dev_mean_exit_layer"] == 1.0
    assert {p.exit_layer for p in detector.score(TEXTS)} == {1}
    loaded = Detector.from_pretrained(detector.save_pretrained(tmp_path / "det"))
    assert loaded.settings.early_exit and loaded.exit_thresholds() == detector.exit_thresholds()


def test_fine_tuned_checkpoint_decides_with_its_head(tiny_encoder_dir, tmp_path):
    from hateproto.training import HateClassifier, TrainingConfig

    config = TrainingConfig(backbone=str(tiny_encoder_dir), mode="probe", show_progress=False)
    checkpoint = HateClassifier.from_config(config).save_pretrained(tmp_path / "ckpt")
    detector = tiny_detector(checkpoint)
    head = detector.classifier.predict_proba(TEXTS)[:, 1]
    assert detector.decides_with == "head" and detector.manifest().model.kind == "classifier"
    scored = detector.score(TEXTS)
    assert [p.hate_probability for p in scored] == pytest.approx(head.tolist(), abs=1e-5)
    assert {p.exit_layer for p in scored} == {3}
    never = tiny_detector(checkpoint, early_exit=True, delta=10.0)  # all rows reach the head
    assert [p.hate_probability for p in never.score(TEXTS)] == pytest.approx(
        head.tolist(), abs=1e-4
    )
    loaded = Detector.from_pretrained(detector.save_pretrained(tmp_path / "det"))
    assert loaded.classifier is not None and loaded.decides_with == "head"
    by_prototypes = Detector.from_pretrained(tmp_path / "det", decide_with="prototypes")
    assert by_prototypes.decides_with == "prototypes"
    head_only = Detector.from_model(str(checkpoint))
    assert head_only.prototypes is None and head_only.predict(TEXTS).shape == (3,)
