"""The command line: quickstart on the built-in sample, models list, error handling."""

from __future__ import annotations

import json

import pytest
from sklearn.metrics import accuracy_score, f1_score

from hateproto.cli.main import main
from hateproto.data import load_sample, sample_per_class
from hateproto.models import Backbone
from hateproto.prototypes import PrototypeClassifier


def test_quickstart_uses_the_builtin_sample_without_data(tiny_encoder_dir, monkeypatch, capsys):
    monkeypatch.setenv("HATEPROTO_DATA", "/nonexistent/hateproto-data")
    code = main(["quickstart", "--model", str(tiny_encoder_dir), "--per-class", "5", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["dataset"] == "sample" and summary["n_test"] == 20
    assert 1 <= summary["layer"] <= summary["num_layers"] == 3
    assert "built-in sample" in captured.err
    # recompute every reported score with scikit-learn from independently made predictions
    train, test = load_sample("train"), load_sample("test")
    fit_set = sample_per_class(train, 5, seed=0, allow_fewer=True)
    clf = PrototypeClassifier(Backbone.load(str(tiny_encoder_dir)), layers="all")
    clf.fit(fit_set.texts, fit_set.labels)
    dev_f1 = {
        layer: f1_score(train.labels, clf.predict(train.texts, layer=layer), average="macro")
        for layer in clf.layers
    }  # the built-in sample has no dev split: the layer is chosen on train
    assert summary["dev_macro_f1"] == pytest.approx(max(dev_f1.values()), abs=1e-12)
    assert dev_f1[summary["layer"]] == pytest.approx(max(dev_f1.values()), abs=1e-12)
    pred = clf.predict(test.texts, layer=summary["layer"])
    assert summary["test_macro_f1"] == pytest.approx(
        f1_score(test.labels, pred, average="macro"), abs=1e-12
    )
    assert summary["test_accuracy"] == pytest.approx(accuracy_score(test.labels, pred), abs=1e-12)
    last = clf.predict(test.texts, layer=clf.layers[-1])
    assert summary["test_macro_f1_last_layer"] == pytest.approx(
        f1_score(test.labels, last, average="macro"), abs=1e-12
    )


def test_missing_model_folder_is_a_clean_error(tmp_path, capsys):
    code = main(["quickstart", "--model", str(tmp_path / "no" / "such-model")])
    assert code == 2
    assert "model folder not found" in capsys.readouterr().err


def test_unknown_command_and_help(capsys):
    assert main(["no-such-command"]) == 2
    assert main(["--help"]) == 0
    assert "quickstart" in capsys.readouterr().out


def test_models_list_shows_aliases(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path))
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "minilm" in out and "smollm2" in out


def test_fetching_an_unknown_model_fails(capsys):
    assert main(["models", "fetch", "gpt-17"]) == 2
    assert "unknown model" in capsys.readouterr().err


@pytest.mark.integration
def test_quickstart_on_real_data_beats_chance(minilm_dir, capsys):
    from hateproto.paths import default_data_dir

    if default_data_dir() is None:
        pytest.skip("no benchmark data directory")
    args = ["quickstart", "--recipe", "ihc-paper", "--per-class", "20", "--dtype", "bfloat16"]
    assert main([*args, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["dataset"] == "ihc" and summary["n_test"] == 3059
    assert summary["test_macro_f1"] > 0.5


def test_data_check_reports_a_bad_label_with_its_row(tmp_path, capsys):
    path = tmp_path / "posts.csv"
    path.write_text("text,label\nfirst post,hate\nsecond post,normal\nthird post,spam\n")
    assert main(["data", "check", str(path), "--label-map", "hate=1,normal=0"]) == 2
    err = capsys.readouterr().err
    assert "spam" in err and "label" in err
    path.write_text("text,label\nfirst post,hate\nsecond post,normal\n")
    assert main(["data", "check", str(path), "--label-map", "hate=1,normal=0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 2
    assert main(["data", "check", str(path), "--text-column", "post"]) == 2
    assert "post" in capsys.readouterr().err
