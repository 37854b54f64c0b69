"""The general detector recipe, end to end on a tiny random model and two small files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hateproto.cli.main import main
from hateproto.detector import Detector
from hateproto.detector.recipe import GeneralRecipe, build_general_detector

HATE = ["they are vermin", "women are stupid", "kill the immigrants", "muslims are rats"]
FINE = ["the weather is nice", "muslims live here", "women won the match", "i like tea"]


def _files(folder: Path) -> str:
    rng = np.random.default_rng(0)
    paths = []
    for name in ("a", "b"):
        rows = [(f"{t} {name} {i}", 1) for i in range(40) for t in [HATE[rng.integers(4)]]]
        rows += [(f"{t} {name} {i}", 0) for i in range(40) for t in [FINE[rng.integers(4)]]]
        path = folder / f"{name}.csv"
        pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
        paths.append(str(path))
    return ",".join(paths)


@pytest.fixture()
def recipe(tiny_encoder_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path / "home"))
    return GeneralRecipe(
        model=str(tiny_encoder_dir),
        data=_files(tmp_path),
        mode="probe",
        dtype="float32",
        regularization=[1.0, 10.0],
        per_class=5,
        max_dev_per_source=50,
        counterfactual_copies=1,
        pool_layers=None,  # the last layer; the multi-layer default has its own test
        probe_head="logistic",  # issue 23's options have their own tests
        group_projection=0,
        normalize="none",
        spelling_augment=0.0,
        target_recall=None,
    )


def test_recipe_builds_a_calibrated_detector(recipe: GeneralRecipe, tmp_path: Path) -> None:
    detector = build_general_detector(recipe, echo=lambda _: None)
    assert detector.decides_with == "head" and detector.calibration is not None
    cal = detector.calibration
    assert cal.dev["ece"] <= cal.dev["ece_uncalibrated"] + 1e-9
    assert detector.metadata["training"]["chosen_C"] in (1.0, 10.0)
    folder = detector.save_pretrained(tmp_path / "det")
    assert (folder / "calibration.json").is_file()
    again = Detector.from_pretrained(folder)
    texts = ["they are vermin a 1", "the weather is nice b 2"]
    scores = again.score_arrays(texts)
    np.testing.assert_allclose(scores.proba, detector.score_arrays(texts).proba)
    # the label is the calibrated probability against the stored threshold
    assert (scores.labels == (scores.proba[:, 1] >= cal.threshold)).all()
    assert json.loads((folder / "detector.json").read_text())["calibration"] == "calibration.json"


def test_probe_head_equals_the_logistic_regression(recipe: GeneralRecipe) -> None:
    from sklearn.linear_model import LogisticRegression

    from hateproto.detector.probe import load_probe_weights
    from hateproto.training import HateClassifier, TrainingConfig
    from hateproto.training.features import FeatureStore

    clf = HateClassifier.from_config(
        TrainingConfig(backbone=recipe.model, mode="probe", show_progress=False)
    )
    texts = HATE + FINE
    x = FeatureStore(clf).vectors(texts)
    model = LogisticRegression(C=1.0).fit(x, [1] * 4 + [0] * 4)
    load_probe_weights(clf, model)
    np.testing.assert_allclose(
        clf.predict_proba(texts)[:, 1], model.predict_proba(x)[:, 1], rtol=1e-4, atol=1e-5
    )


def test_feature_store_reuses_vectors(recipe: GeneralRecipe) -> None:
    from hateproto.training import HateClassifier, TrainingConfig
    from hateproto.training.features import FeatureStore

    clf = HateClassifier.from_config(
        TrainingConfig(backbone=recipe.model, mode="probe", show_progress=False)
    )
    first = FeatureStore(clf).vectors(["a post", "b post"])
    calls = []
    clf.encode = lambda texts, **_: calls.append(texts)  # would break if called
    again = FeatureStore(clf).vectors(["b post", "a post", "a post"])
    assert not calls
    np.testing.assert_array_equal(again, first[[1, 0, 0]])


def test_recipe_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "det")
    assert main(["detector", "build", "--recipe", "special", "--out", out]) == 2
    assert "unknown recipe" in capsys.readouterr().err
    code = main(
        [
            "detector",
            "build",
            "--recipe",
            "general",
            "--out",
            out,
            "--target-precision",
            "0.9",
            "--target-recall",
            "0.9",
        ]
    )
    assert code == 2 and "not both" in capsys.readouterr().err
    assert not Path(out).exists()


def test_reliability_covers_every_dev_post(recipe: GeneralRecipe) -> None:
    detector = build_general_detector(recipe, echo=lambda _: None)
    dev = detector.calibration.dev
    assert sum(row["n"] for row in dev["reliability"]) == dev["n"] > 0


def test_feature_store_saves_each_chunk(recipe: GeneralRecipe, tmp_path: Path) -> None:
    from hateproto.training import HateClassifier, TrainingConfig
    from hateproto.training.features import FeatureStore

    clf = HateClassifier.from_config(
        TrainingConfig(backbone=recipe.model, mode="probe", show_progress=False)
    )
    store = FeatureStore(clf, root=tmp_path)
    store.chunk_size = 2
    real_encode, calls = clf.encode, []

    def failing_encode(texts, **kwargs):  # noqa: ANN001, ANN003
        calls.append(len(texts))
        if len(calls) == 3:
            raise KeyboardInterrupt  # interrupted while encoding the third chunk
        return real_encode(texts, **kwargs)

    clf.encode = failing_encode
    with pytest.raises(KeyboardInterrupt):
        store.vectors([f"post {i}" for i in range(6)])
    clf.encode = real_encode
    assert len(FeatureStore(clf, root=tmp_path)._index) == 4  # two chunks kept


def test_packaged_recipe_matches_the_class_defaults() -> None:
    assert GeneralRecipe.default() == GeneralRecipe()


def test_full_mode_recipe_trains_and_calibrates(recipe: GeneralRecipe) -> None:
    full = recipe.model_copy(update={"mode": "full", "epochs": 1, "max_train_examples": 60})
    detector = build_general_detector(full, echo=lambda _: None)
    assert detector.calibration is not None and detector.decides_with == "head"
    assert detector.metadata["training"]["n_train"] > 60  # counted before the cap


def test_recipe_with_several_layers_pools_them(recipe: GeneralRecipe) -> None:
    layered = recipe.model_copy(update={"pool_layers": [1, 2, 3]})
    detector = build_general_detector(layered, echo=lambda _: None)
    assert detector.classifier.pool_layers == [1, 2, 3]
    assert detector.classifier.feature_size == 3 * detector.backbone.hidden_size
    assert detector.calibration is not None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("mode: [\n", "not valid YAML"),
        ("- a\n", "mapping"),
        ("normalize: bogus\n", "recipe.yaml (on quickstart.yaml): normalize"),
    ],
)
def test_a_bad_recipe_config_is_a_clear_error(tmp_path: Path, capsys, text: str, problem: str):
    from hateproto.cli.main import main

    config = tmp_path / "recipe.yaml"
    config.write_text(text)
    out = tmp_path / "detector"
    args = ["detector", "build", "--recipe", "quickstart", "--recipe-config", str(config)]
    assert main([*args, "--out", str(out)]) == 2
    assert problem in capsys.readouterr().err
    assert not out.exists()


def test_contrast_options_reach_the_detector(recipe: GeneralRecipe) -> None:
    """Issue 23's options: the group-identity projection is fitted, the spelling
    normalisation is recorded and applied at inference."""
    options = {"group_projection": 2, "normalize": "deobfuscate", "spelling_augment": 0.2}
    detector = build_general_detector(recipe.model_copy(update=options), echo=lambda _: None)
    assert detector.metadata["training"]["group_projection"] == 2
    assert detector.settings.normalize == "deobfuscate"
    plain, leet = detector.predict_proba(["they are vermin", "they are v3rm1n"])
    assert np.allclose(plain, leet)


def test_full_mode_with_group_consistency_pairs_twins(recipe: GeneralRecipe) -> None:
    options = {"mode": "full", "epochs": 1, "consistency_weight": 1.0, "max_train_examples": 60}
    detector = build_general_detector(recipe.model_copy(update=options), echo=lambda _: None)
    assert detector.classifier.config.consistency_weight == 1.0
    assert detector.calibration is not None


def test_mlp_probe_head_is_trained_on_stored_features(recipe: GeneralRecipe) -> None:
    options = {"probe_head": "mlp", "probe_hidden": 8, "probe_epochs": 2, "group_projection": 2}
    detector = build_general_detector(recipe.model_copy(update=options), echo=lambda _: None)
    training = detector.metadata["training"]
    assert len(training["dev_macro_f1_per_epoch"]) == 2
    assert detector.classifier.head.dense.out_features == 8
    assert detector.calibration is not None


@pytest.mark.skipif(
    __import__("hateproto.paths", fromlist=["x"]).default_data_dir() is None,
    reason="needs ../shared/datasets (the attributes' data)",
)
def test_a_recipe_with_attributes_builds_calibrated_heads_that_survive_a_save(
    recipe: GeneralRecipe, tmp_path: Path
) -> None:
    options = {"attributes": ["PROFANITY", "THREAT"], "attribute_max_per_source": 40}
    detector = build_general_detector(recipe.model_copy(update=options), echo=lambda _: None)
    heads = detector.attribute_heads
    assert heads is not None and heads.names == ("PROFANITY", "THREAT")
    assert all(0.0 <= r.threshold <= 1.0 and "dev_roc_auc" in r.dev for r in heads.records)
    assert detector.facts().attributes == ("IDENTITY_ATTACK", "PROFANITY", "THREAT")
    folder = detector.save_pretrained(tmp_path / "d")
    info = Detector.from_pretrained(folder).info()["attributes"]["heads"]
    assert info["THREAT"]["sources"][0]["source"] == "ihc_stage2"
    assert "Swear words" in info["PROFANITY"]["definition"]


def test_a_negative_attribute_repeat_is_refused_before_any_work() -> None:
    from hateproto.errors import ConfigError

    with pytest.raises(ConfigError, match="attribute_repeats.contrast_pairs"):
        GeneralRecipe.default("perspective", attribute_repeats={"contrast_pairs": -1})
