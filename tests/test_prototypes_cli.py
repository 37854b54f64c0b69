"""CLI: `hateproto prototypes build/info` and `hateproto triage` on tiny models and files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hateproto.cli.main import main
from hateproto.cli.prototypes_cmd import parse_layers

ROWS = [
    ("they are vermin", 1),
    ("go back home you lazy criminals", 1),
    ("immigrants are dirty evil criminals", 1),
    ("those people deserve hate", 1),
    ("welcome neighbours", 0),
    ("the weather is great today", 0),
    ("people should be kind", 0),
    ("we love our new friends", 0),
]


@pytest.fixture()
def train_csv(tmp_path: Path) -> Path:
    path = tmp_path / "train.csv"
    pd.DataFrame(ROWS, columns=["post", "is_hate"]).to_csv(path, index=False)
    return path


def _build(tiny_encoder_dir: Path, train_csv: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "prototypes",
            "build",
            "--model",
            str(tiny_encoder_dir),
            "--data",
            str(train_csv),
            "--text-column",
            "post",
            "--label-column",
            "is_hate",
            "--per-class",
            "3",
            "--seed",
            "1",
            "--layers",
            "1,3",
            "--out",
            str(out),
            *extra,
        ]
    )


def test_build_and_info(tiny_encoder_dir, train_csv, tmp_path, capsys):
    out = tmp_path / "protos"
    assert _build(tiny_encoder_dir, train_csv, out, "--choose-layer-on", "train") == 0
    capsys.readouterr()
    assert main(["prototypes", "info", str(out)]) == 0
    spec = json.loads(capsys.readouterr().out)
    assert spec["layers"] == [1, 3]
    assert spec["examples_per_class"] == {"0": 3, "1": 3}
    assert spec["source_dataset"] == "train" and spec["per_class"] == 3
    assert spec["default_layer"] in (1, 3)
    assert set(spec["metadata"]["layer_choice"]["per_layer"]) == {"1", "3"}


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_triage_ranks_by_margin(tiny_encoder_dir, train_csv, tmp_path, capsys, suffix):
    out = tmp_path / "protos"
    assert _build(tiny_encoder_dir, train_csv, out) == 0
    posts = tmp_path / "posts.csv"
    pd.DataFrame({"text": [t for t, _ in ROWS], "id": range(len(ROWS))}).to_csv(posts, index=False)
    result = tmp_path / f"ranked{suffix}"
    assert (
        main(["triage", "--input", str(posts), "--prototypes", str(out), "--output", str(result)])
        == 0
    )
    ranked = pd.read_csv(result) if suffix == ".csv" else pd.read_json(result, lines=True)
    assert list(ranked.columns) == ["triage_rank", "text", "id", "margin", "label", "hate_score"]
    assert ranked["margin"].is_monotonic_increasing
    assert ranked["triage_rank"].tolist() == list(range(1, len(ROWS) + 1))
    assert sorted(ranked["id"]) == list(range(len(ROWS)))
    assert set(ranked["label"]) <= {"hate", "not_hate"}
    assert ranked["hate_score"].between(0, 1).all()
    assert not list(tmp_path.glob(".ranked*"))  # no temporary file left behind


def test_triage_top_and_errors(tiny_encoder_dir, tiny_decoder_dir, train_csv, tmp_path, capsys):
    out = tmp_path / "protos"
    assert _build(tiny_encoder_dir, train_csv, out) == 0
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps({"body": t}) + "\n" for t, _ in ROWS))
    result = tmp_path / "top.csv"
    args = ["triage", "--input", str(posts), "--prototypes", str(out), "--output", str(result)]
    assert main([*args, "--text-column", "body", "--top", "3"]) == 0
    assert len(pd.read_csv(result)) == 3
    capsys.readouterr()
    assert main(args) == 2  # no `text` column
    assert "no column 'text'" in capsys.readouterr().err.replace("\n", " ")
    assert main([*args, "--text-column", "body", "--model", str(tiny_decoder_dir)]) == 2
    assert "fingerprint" in capsys.readouterr().err.replace("\n", " ")
    assert main(["prototypes", "info", str(tmp_path / "nothing")]) == 2


def test_build_errors(tiny_encoder_dir, train_csv, tmp_path, capsys):
    assert _build(tiny_encoder_dir, train_csv, tmp_path / "p", "--normalize", "median") == 2
    assert _build(tiny_encoder_dir, train_csv, tmp_path / "p", "--layers", "1,x") == 2
    assert _build(tiny_encoder_dir, train_csv, tmp_path / "p", "--layers", "9") == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert "--normalize" in err and "--layers" in err and "out of range" in err
    assert parse_layers("last") == "last" and parse_layers("0,-1") == [0, -1]
