"""Messages the user can act on (issue 13): one unwrapped line, hints that name options, one
unit for loss budgets, clean errors for bad ports."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pandas as pd
import pytest
from tiny_detector import HATE, NOT_HATE

from hateproto.cli import detector_cmd, train_cmd
from hateproto.cli.main import main
from hateproto.cli.messages import cli_message, command_name, print_error
from hateproto.errors import HateprotoError


class Captured(HateprotoError):
    """Raised by a stand-in for the slow part of a command, after recording its arguments."""


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


@pytest.fixture()
def labelled(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.csv"
    labels = ["hate"] * len(HATE) + ["normal"] * len(NOT_HATE)
    pd.DataFrame({"post": HATE + NOT_HATE, "class": labels}).to_csv(path, index=False)
    return path


# ---------------------------------------------------------------------- one line
def test_errors_are_never_wrapped(tmp_path, capsys):
    deep = tmp_path / ("a-very-long-folder-name-" * 6) / "posts.csv"
    assert main(["data", "check", str(deep)]) == 2
    err = _one_line(capsys)
    assert len(err) > 120 and str(deep) in err  # grep finds the whole path


def test_print_error_is_plain_off_a_terminal_and_one_line():
    stream = io.StringIO()
    print_error(cli_message("first line\n  second [bold]line[/]"), stream)
    assert stream.getvalue() == "error: first line second [bold]line[/]\n"


# ---------------------------------------------------------------------- hints
@pytest.mark.parametrize(
    "args",
    [
        ["train", "--data", "ihcc", "--output", "OUT"],
        ["prototypes", "build", "--model", "MODEL", "--data", "ihcc", "--out", "OUT"],
        ["detector", "build", "--model", "MODEL", "--dataset", "ihcc", "--out", "OUT"],
    ],
)
def test_a_mistyped_dataset_name_is_an_unknown_dataset(args, tiny_encoder_dir, tmp_path, capsys):
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    args = [str(tiny_encoder_dir) if a == "MODEL" else a for a in args]
    assert main(args) == 2
    err = _one_line(capsys)
    assert "unknown dataset 'ihcc'" in err and "did you mean 'ihc'" in err
    assert "known: " in err and "a path to a CSV/TSV/JSONL/parquet file" in err
    assert "unsupported file type" not in err


def test_a_missing_file_is_a_missing_file(tiny_encoder_dir, tmp_path, capsys):
    args = ["train", "--data", str(tmp_path / "nope.csv"), "--output", str(tmp_path / "o")]
    assert main(args) == 2
    assert "nope.csv: file not found" in _one_line(capsys)


def test_label_hints_name_an_option(tiny_encoder_dir, labelled, tmp_path, capsys):
    base = ["detector", "build", "--model", str(tiny_encoder_dir), "--data", str(labelled)]
    base += ["--text-column", "post", "--label-column", "class", "--per-class", "3"]
    assert main([*base, "--out", str(tmp_path / "d")]) == 2
    err = _one_line(capsys)
    assert "--label-map 'hate=1,not_hate=0'" in err and "pass a label map" not in err
    assert main([*base, "--label-map", "hate=1,normal=0", "--out", str(tmp_path / "d")]) == 0
    message = cli_message(
        "label 'x' is not 0/1; pass a label map (e.g. {'hate': 1, 'not_hate': 0})"
    )
    assert "pass a label map" not in message and "hateproto data check" in message


def test_too_many_per_class_names_the_option(tiny_encoder_dir, labelled, tmp_path, capsys):
    args = ["prototypes", "build", "--model", str(tiny_encoder_dir), "--data", str(labelled)]
    args += ["--text-column", "post", "--label-column", "class", "--label-map", "hate=1,normal=0"]
    assert main([*args, "--per-class", "50", "--out", str(tmp_path / "p")]) == 2
    err = _one_line(capsys)
    assert "has only 6 examples; lower --per-class to 6 or less" in err
    assert "allow_fewer" not in err
    assert "allow_fewer" not in cli_message("x (pass allow_fewer=True to take all)")


def test_train_takes_columns_and_a_dev_file(tmp_path, monkeypatch, labelled, capsys):
    seen = {}

    def run_training(cfg, data, test):
        seen.update(data=data)
        raise Captured("stop here")

    monkeypatch.setattr(train_cmd, "run_training", run_training)
    args = ["train", "--data", str(labelled), "--dev-data", str(labelled)]
    args += ["--text-column", "post", "--label-column", "class", "--output", str(tmp_path / "o")]
    assert main(args) == 2
    data = seen["data"]
    assert (data.text_column, data.label_column, data.dev) == ("post", "class", str(labelled))


def test_command_name():
    assert command_name(["detector", "build", "--out", "x"]) == "detector build"
    assert command_name(["train", "--data", "x"]) == "train"


# ---------------------------------------------------------------------- budgets
def test_exit_budget_is_in_points(tiny_encoder_dir, labelled, tmp_path, monkeypatch, capsys):
    seen = {}

    def build_detector(*args, **kwargs):
        seen.update(kwargs)
        raise Captured("stop here")

    monkeypatch.setattr(detector_cmd, "build_detector", build_detector)
    base = ["detector", "build", "--model", str(tiny_encoder_dir), "--data", str(labelled)]
    base += ["--dev-data", str(labelled), "--text-column", "post", "--label-column", "class"]
    base += ["--label-map", "hate=1,normal=0", "--per-class", "3", "--out", str(tmp_path / "d")]
    assert main([*base, "--exit-budget", "0.5"]) == 2
    assert seen["exit_budget"] == pytest.approx(0.005)  # half a point, not 50 points
    capsys.readouterr()
    for bad in ("150", "-1"):
        assert main([*base, "--exit-budget", bad]) == 2
        err = _one_line(capsys)
        assert "--exit-budget" in err and "points" in err and "out of range" in err
    sample = ["detector", "build", "--dataset", "sample", "--out", str(tmp_path / "s")]
    assert main([*sample, "--exit-budget", "0.5"]) == 2
    assert "needs a dev set" in _one_line(capsys)


def test_early_exit_budget_range(tmp_path, capsys):
    args = ["early-exit", "calibrate", "--prototypes", str(tmp_path), "--data", "ihc"]
    assert main([*args, "--budget", "101"]) == 2
    assert "--budget 101 is out of range" in _one_line(capsys)


# ---------------------------------------------------------------------- serve
def test_serve_port_errors_are_one_line(tmp_path, capsys):
    missing = ["serve", "--detector", str(tmp_path / "none")]
    assert main([*missing, "--port", "99999"]) == 2
    assert "--port 99999 is out of range" in _one_line(capsys)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main([*missing, "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is already in use" in _one_line(capsys)
    assert main([*missing, "--host", "203.0.113.7", "--port", "0"]) == 2
    assert "not an address of this machine" in _one_line(capsys)


def test_serve_refuses_an_empty_token(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HATEPROTO_API_TOKEN", "")
    assert main(["serve", "--detector", str(tmp_path / "none")]) == 2
    assert "HATEPROTO_API_TOKEN is set but empty" in _one_line(capsys)
