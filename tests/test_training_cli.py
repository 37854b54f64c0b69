"""`hateproto train`, `hateproto evaluate` and `hateproto experiment cross-dataset` on a tiny
random BERT and a synthetic data folder in the ocampo2023 layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import f1_score

from hateproto.cli.main import main
from hateproto.experiments.cross_dataset import CrossDatasetConfig, run_cross_dataset
from hateproto.training import HateClassifier

HATEFUL = "they are vermin dirty criminals evil lazy hate go back home out".split()
KIND = "welcome neighbours friends kind good love respect equal rights community".split()
SIZES = {"train": 48, "dev": 16, "test": 24}


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = np.array([0, 1] * (n // 2))
    texts = [" ".join(rng.choice(HATEFUL if y else KIND, size=rng.integers(3, 8))) for y in labels]
    return pd.DataFrame(
        {
            "text": texts,
            "label": labels.astype(float),
            "implicit_layer": None,
            "sanitized_target": None,
            "target": None,
        }
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ihc, dynahate, toxigen in the ocampo2023 file layout, with toy texts."""
    root = tmp_path_factory.mktemp("data")
    for i, name in enumerate(("ihc", "dynahate", "toxigen")):
        folder = root / name / "ocampo2023"
        folder.mkdir(parents=True)
        for j, (split, n) in enumerate(SIZES.items()):
            _frame(n, 10 * i + j).to_parquet(folder / f"{name}_{split}.parquet.gzip")
    return root


def _train_args(model: Path, data_dir: Path, out: Path) -> list[str]:
    return [
        "train",
        "--model",
        str(model),
        "--data",
        "ihc",
        "--protocol",
        "ocampo2023",
        "--data-dir",
        str(data_dir),
        "--output",
        str(out),
        "--epochs",
        "1",
        "--lr",
        "0.001",
        "--batch-size",
        "8",
    ]


def test_train_then_evaluate(tiny_encoder_dir, data_dir, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path / "home"))
    config = tmp_path / "train.yaml"
    config.write_text("preset: embedding\nmax_length: 32\n")
    out = tmp_path / "ckpt"
    args = _train_args(tiny_encoder_dir, data_dir, out) + ["--config", str(config), "--json"]
    assert main(args) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_train"] == 48 and summary["n_test"] == 24
    # the reported test macro-F1 is scikit-learn's on the saved model's test predictions
    test = pd.read_parquet(data_dir / "ihc" / "ocampo2023" / "ihc_test.parquet.gzip")
    pred = HateClassifier.from_pretrained(out).predict(test["text"].tolist())
    expected = f1_score(test["label"].astype(int), pred, average="macro")
    assert summary["test_macro_f1"] == pytest.approx(expected, abs=1e-12)
    meta = json.loads((out / "hateproto_classifier.json").read_text())
    assert meta["head"]["type"] == "mlp" and meta["pooling"] == "normalized_sum"
    assert meta["prefix"].startswith("Instruct:")
    assert "epoch 1 done" in (out / "train.log").read_text()

    code = main(
        ["evaluate", "--model", str(out), "--data", "ihc,toxigen", "--protocol", "ocampo2023"]
        + ["--data-dir", str(data_dir), "--json"]
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["dataset"] for r in rows] == ["ihc", "toxigen"]
    assert {"accuracy", "macro_f1", "binary_f1", "pr_auc"} <= set(rows[0])
    assert rows[0]["macro_f1"] == pytest.approx(summary["test_macro_f1"])


def _err(capsys) -> str:
    return " ".join(capsys.readouterr().err.split())  # rich wraps long lines


def test_train_errors(tiny_encoder_dir, data_dir, tmp_path, capsys) -> None:
    assert main(["train", "--model", str(tiny_encoder_dir), "--output", str(tmp_path)]) == 2
    assert "no training data" in _err(capsys)
    assert main(["evaluate", "--model", str(tiny_encoder_dir), "--data", "ihc"]) == 2
    assert "not a HateClassifier checkpoint" in _err(capsys)
    bad = tmp_path / "bad.yaml"
    bad.write_text("pooling: median\n")
    args = _train_args(tiny_encoder_dir, data_dir, tmp_path / "x") + ["--config", str(bad)]
    assert main(args) == 2
    assert "pooling" in _err(capsys)


def _experiment_config(model: Path, data_dir: Path, tmp_path: Path) -> Path:
    config = {
        "name": "tiny-cross",
        "protocol": "ocampo2023",
        "datasets": ["ihc", "toxigen"],
        "seeds": [0, 1],
        "data_dir": str(data_dir),
        "max_train_examples": 40,
        "training": {
            "backbone": str(model),
            "epochs": 1,
            "batch_size": 8,
            "learning_rate": 0.001,
            "max_length": 32,
            "show_progress": False,
        },
        "setups": [
            {"name": "classifier", "overrides": {}},
            {"name": "embedding", "overrides": {"preset": "embedding", "mode": "probe"}},
        ],
        "compare": ["embedding", "classifier"],
        "results": str(tmp_path / "out" / "cross.json"),
        "checkpoint_dir": str(tmp_path / "ckpt" / "{setup}" / "{dataset}-seed{seed}"),
        "log_dir": str(tmp_path / "logs"),
    }
    path = tmp_path / "cross.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_cross_dataset_experiment_resumes(tiny_encoder_dir, data_dir, tmp_path, capsys) -> None:
    path = _experiment_config(tiny_encoder_dir, data_dir, tmp_path)
    assert main(["experiment", "cross-dataset", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    rows = json.loads((tmp_path / "out" / "cross.json").read_text())
    assert len(rows) == 2 * 2 * 2 * 2  # setups x train sets x test sets x seeds
    required = {"setup", "train_dataset", "test_dataset", "seed", "macro_f1", "accuracy"}
    assert all(required <= set(r) for r in rows)
    assert (tmp_path / "ckpt" / "embedding" / "toxigen-seed1" / "head.safetensors").is_file()
    assert (tmp_path / "logs" / "classifier-ihc-seed0.log").is_file()
    markdown = (tmp_path / "out" / "cross.md").read_text()
    assert "train_dataset \\ test_dataset" in markdown and "±" in markdown
    assert "paired t-test" in markdown and "Cross-dataset winner" in markdown
    assert "paired t-test" in out

    config = CrossDatasetConfig.from_yaml(path)
    assert run_cross_dataset(config, echo=lambda _: None) == rows  # nothing left to run
    kept = [r for r in rows if not (r["setup"] == "classifier" and r["test_dataset"] == "ihc")]
    (tmp_path / "out" / "cross.json").write_text(json.dumps(kept))
    messages: list[str] = []
    again = run_cross_dataset(config, echo=messages.append)
    assert len(again) == len(rows)
    redone = [r for r in again if r["setup"] == "classifier" and r["test_dataset"] == "ihc"]
    assert all(r["reused_checkpoint"] for r in redone)  # reloaded, not retrained
    old = {
        (r["train_dataset"], r["seed"]): r["macro_f1"]
        for r in rows
        if r["setup"] == "classifier" and r["test_dataset"] == "ihc"
    }
    for r in redone:
        assert r["macro_f1"] == pytest.approx(old[(r["train_dataset"], r["seed"])], abs=1e-9)

    from hateproto.errors import ConfigError

    longer = config.training.model_copy(update={"epochs": 2})
    (tmp_path / "out" / "cross.json").write_text("[]")
    with pytest.raises(ConfigError, match=r"other settings \['epochs'\]"):
        run_cross_dataset(config.model_copy(update={"training": longer}), echo=lambda _: None)


def test_cross_dataset_config_errors(tmp_path) -> None:
    from hateproto.errors import ConfigError

    base = {"results": str(tmp_path / "r.json")}
    for bad in (
        {"protocol": "nope"},
        {"datasets": ["olid"], "protocol": "ocampo2023"},
        {"compare": ["a", "b"]},
        {"setups": [{"name": "x", "overrides": {"pooling": "median"}}]},
    ):
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump({**base, **bad}))
        with pytest.raises(ConfigError):
            CrossDatasetConfig.from_yaml(path)


def test_select_setups(tiny_encoder_dir, data_dir, tmp_path) -> None:
    from hateproto.errors import ConfigError

    config = CrossDatasetConfig.from_yaml(_experiment_config(tiny_encoder_dir, data_dir, tmp_path))
    one = config.select_setups(["embedding"])
    assert [s.name for s in one.setups] == ["embedding"] and one.compare is None
    assert config.select_setups(["embedding", "classifier"]).compare == ["embedding", "classifier"]
    with pytest.raises(ConfigError, match="unknown setup"):
        config.select_setups(["nope"])
