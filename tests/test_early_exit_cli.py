"""Early-exit commands (calibrate, evaluate, the experiment) on a tiny model and real posts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hateproto.cli.main import main
from hateproto.paths import default_data_dir


@pytest.fixture
def data_dir() -> Path:
    found = default_data_dir()
    if found is None or not (found / "olid").exists():
        pytest.skip("the shared datasets are not available")
    return found


def test_experiment_writes_rows_tables_and_figures(
    tiny_encoder_dir: Path, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path / "home"))
    results = tmp_path / "out" / "early-exit.json"
    config = {
        "datasets": ["olid"],
        "data_dir": str(data_dir),
        "results": str(results),
        "sweep_points": 4,
        "timed_sweep_points": 1,
        "gate_training": {"steps": 20},
        "models": [
            {
                "name": "tiny",
                "model": str(tiny_encoder_dir),
                "checkpoint": str(tmp_path / "missing-{dataset}"),
                "train_per_class": 8,
                "max_dev_examples": 30,
                "max_test_examples": 30,
                "timing_examples": 12,
                "batch_size": 8,
                "repeats": 1,
            }
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["experiment", "early-exit", "all", "--config", str(path)]) == 0
    rows = json.loads(results.read_text())
    methods = {r["method"] for r in rows}
    assert {"full_model", "entropy", "patience", "prototype_exit"} <= methods
    for row in rows:
        for key in (
            "model",
            "dataset",
            "method",
            "num_layers",
            "mean_exit_layer",
            "macro_f1",
            "full_macro_f1",
            "batch_size",
            "measured_speedup",
        ):
            assert key in row
        assert 1 <= row["mean_exit_layer"] <= 3
    table = [r for r in rows if r["method"] == "prototype_layer1"][0]
    assert table["mean_exit_layer"] == 1 and table["timing_agreement"] == 1.0
    assert (tmp_path / "home" / "early-exit" / "tiny" / "olid" / "gates" / "gates.json").is_file()
    assert (tmp_path / "home" / "early-exit" / "tiny" / "olid" / "early_exit.json").is_file()
    for suffix in ("fig4-exit-layers", "fig5-f1-vs-speedup", "fig6-delta-sweep"):
        assert (tmp_path / "out" / f"early-exit-{suffix}.png").is_file()
    assert "Prototype exit" in (tmp_path / "out" / "early-exit.md").read_text()
    # resumable: a second run adds nothing and recomputes nothing
    assert main(["experiment", "early-exit", "all", "--config", str(path)]) == 0
    assert len(json.loads(results.read_text())) == len(rows)


def test_experiment_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"models": [], "datasets": ["nope"]}))
    assert main(["experiment", "early-exit", "table4", "--config", str(path)]) == 2
    assert "EarlyExitConfig" in capsys.readouterr().err


def test_calibrate_and_evaluate(
    tiny_encoder_dir: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hateproto import Backbone, PrototypeClassifier, load_benchmark, sample_per_class

    backbone = Backbone.load(str(tiny_encoder_dir))
    train = sample_per_class(load_benchmark("olid", "train", "hateprototypes", data_dir), 10)
    protos = tmp_path / "protos"
    PrototypeClassifier(backbone).fit(train.texts, train.labels).save_pretrained(protos)
    common = [
        "--prototypes",
        str(protos),
        "--data",
        "olid",
        "--data-dir",
        str(data_dir),
        "--max-examples",
        "30",
    ]
    assert main(["early-exit", "calibrate", *common, "--budget", "100"]) == 0
    saved = json.loads((protos / "early_exit.json").read_text())
    assert saved["budget"] == 1.0 and saved["metadata"]["fallback"] == "prototypes"
    assert "mean exit layer 1.00 of 3" in capsys.readouterr().out  # any loss allowed
    assert main(["early-exit", "evaluate", *common, "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["mean_exit_layer"] == 1.0 and row["n"] == 30
    assert main(["early-exit", "evaluate", *common, "--delta", "1e9"]) == 0
    assert "mean exit layer 3.00 of 3" in capsys.readouterr().out
    assert main(["early-exit", "calibrate", *common, "--budget", "-1"]) == 2
