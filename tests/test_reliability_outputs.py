"""Never lose a user's data (issue 13): output folders and files, modes, crash points."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest
from tiny_detector import HATE, NOT_HATE

from hateproto.cli.main import main
from hateproto.detector import Detector
from hateproto.outputs import files as output_files
from hateproto.outputs import folders as output_folders
from hateproto.outputs import recover_folder, replace_folder


def _tree(folder: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under ``folder``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _build(model: Path, out: Path, *extra: str) -> int:
    args = ["detector", "build", "--model", str(model), "--dataset", "sample"]
    return main([*args, "--per-class", "5", "--out", str(out), *extra])


def _err(capsys) -> str:
    return capsys.readouterr().err


def _protos(model: Path, out: Path, tmp_path: Path) -> int:
    data = tmp_path / "labelled.csv"
    pd.DataFrame({"text": HATE + NOT_HATE, "label": [1] * 6 + [0] * 6}).to_csv(data, index=False)
    args = ["prototypes", "build", "--model", str(model), "--data", str(data)]
    return main([*args, "--per-class", "5", "--out", str(out)])


# ---------------------------------------------------------------------- folders
def test_detector_build_keeps_a_folder_it_did_not_write(tiny_encoder_dir, tmp_path, capsys):
    out = tmp_path / "d"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("x\n")
    (out / "sub" / "a.csv").write_text("y\n")
    before = _tree(out)
    assert _build(tiny_encoder_dir, out) == 2
    err = _err(capsys)
    assert "is not empty" in err and "--overwrite" in err and err.count("\n") == 1
    assert _tree(out) == before  # nothing lost
    assert _build(tiny_encoder_dir, out, "--overwrite") == 0  # asked for: replaced
    assert sorted(p.name for p in out.iterdir()) == [
        "detector.json",
        "examples.json",
        "examples.safetensors",
        "prototypes",
    ]


def test_detector_build_replaces_its_own_folder_atomically(tiny_encoder_dir, tmp_path, capsys):
    out = tmp_path / "d"
    assert _build(tiny_encoder_dir, out, "--seed", "0") == 0
    assert _build(tiny_encoder_dir, out, "--seed", "1") == 0
    assert Detector.from_pretrained(out).metadata["built_from"]["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # no temporary left
    (out / "mine.txt").write_text("keep me")
    assert _build(tiny_encoder_dir, out) == 2
    assert "mine.txt" in _err(capsys) and (out / "mine.txt").read_text() == "keep me"


def test_detector_build_bad_out_paths_are_one_line_errors(
    tiny_encoder_dir, tmp_path, capsys, monkeypatch
):
    (tmp_path / "file").write_text("data")
    assert _build(tiny_encoder_dir, tmp_path / "file") == 2
    assert "exists and is not a folder" in _err(capsys)
    assert (tmp_path / "file").read_text() == "data"
    monkeypatch.chdir(tmp_path)
    assert _build(tiny_encoder_dir, Path(".")) == 2
    assert "refusing to replace the current folder" in _err(capsys)
    (tmp_path / "x.partial").write_text("left by an old version")
    assert _build(tiny_encoder_dir, tmp_path / "x") == 0  # a leftover X.partial is no trouble
    data = tmp_path / "in" / "train.csv"
    data.parent.mkdir()
    pd.DataFrame({"text": HATE + NOT_HATE, "label": [1] * 6 + [0] * 6}).to_csv(data, index=False)
    args = ["detector", "build", "--model", str(tiny_encoder_dir), "--data", str(data)]
    assert main([*args, "--per-class", "3", "--out", str(data.parent), "--overwrite"]) == 2
    assert "holds the input" in _err(capsys) and data.is_file()


def test_train_refuses_a_folder_it_did_not_write(tiny_encoder_dir, tmp_path, capsys):
    out = tmp_path / "ckpt"
    out.mkdir()
    (out / "notes.txt").write_text("x")
    data = tmp_path / "train.csv"
    pd.DataFrame({"text": HATE + NOT_HATE, "label": [1] * 6 + [0] * 6}).to_csv(data, index=False)
    args = ["train", "--model", str(tiny_encoder_dir), "--data", str(data), "--output", str(out)]
    assert main(args) == 2
    assert "not a checkpoint folder" in _err(capsys) and (out / "notes.txt").read_text() == "x"


# ---------------------------------------------------------------------- files
@pytest.fixture()
def posts(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    pd.DataFrame({"text": HATE + NOT_HATE}).to_csv(path, index=False)
    path.chmod(0o640)
    return path


def test_triage_and_classify_refuse_to_overwrite_their_input(
    tiny_encoder_dir, detector_dir, posts, tmp_path, capsys
):
    protos = tmp_path / "protos"
    assert _protos(tiny_encoder_dir, protos, tmp_path) == 0
    before = posts.read_bytes()
    triage = ["triage", "--input", str(posts), "--prototypes", str(protos), "--top", "3"]
    assert main([*triage, "--output", str(posts)]) == 2
    assert "is the input file" in _err(capsys)
    link = tmp_path / "link.csv"
    link.symlink_to(posts)
    assert main([*triage, "--output", str(link)]) == 2
    assert main(["classify", str(posts), str(link), "--detector", str(detector_dir)]) == 2
    assert "is the input file" in _err(capsys)
    assert posts.read_bytes() == before and stat.S_IMODE(posts.stat().st_mode) == 0o640


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_written_files_follow_the_umask(tiny_encoder_dir, posts, tmp_path, umask):
    old = os.umask(umask)
    try:
        protos, det, ranked = tmp_path / "protos", tmp_path / "det", tmp_path / "ranked.csv"
        assert _protos(tiny_encoder_dir, protos, tmp_path) == 0
        assert _build(tiny_encoder_dir, det) == 0
        triage = ["triage", "--input", str(posts), "--prototypes", str(protos)]
        assert main([*triage, "--output", str(ranked)]) == 0
    finally:
        os.umask(old)
    for path in [ranked, *protos.rglob("*"), *det.rglob("*"), protos, det]:
        expected = (0o777 if path.is_dir() else 0o666) & ~umask
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def test_prototypes_info_shows_the_default_layer_build_printed(tiny_encoder_dir, tmp_path, capsys):
    out = tmp_path / "protos"
    assert _protos(tiny_encoder_dir, out, tmp_path) == 0
    assert "default layer 3" in _err(capsys)
    assert main(["prototypes", "info", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["default_layer"] == 3


def test_a_header_only_input_gives_an_output_with_the_header(detector_dir, tmp_path):
    source = tmp_path / "empty.csv"
    source.write_text("id,text\n")
    out = tmp_path / "out.csv"
    assert main(["classify", str(source), str(out), "--detector", str(detector_dir)]) == 0
    assert out.read_text().splitlines() == ["id,text,label,hate_probability,margin,exit_layer"]


# ---------------------------------------------------------------------- crash points
class Killed(BaseException):
    """A simulated SIGKILL: after it, the 'process' changes nothing on disk."""


class CrashAt:
    """Counts the calls that change what a folder path names (renames, exchanges, deletes,
    mode changes); the ``at``-th call and every later one raise :class:`Killed`, so no
    clean-up runs, as after a real SIGKILL."""

    def __init__(self, monkeypatch, at: int | None) -> None:
        self.at, self.count, self.dead = at, 0, False
        for owner, name in [
            (os, "rename"),
            (os, "replace"),
            (os, "chmod"),
            (shutil, "rmtree"),
            (output_folders, "_exchange"),
        ]:
            monkeypatch.setattr(owner, name, self._wrap(getattr(owner, name)))

    def _wrap(self, function):
        def step(*args, **kwargs):
            self.count += 1
            if self.dead or (self.at is not None and self.count >= self.at):
                self.dead = True
                raise Killed
            return function(*args, **kwargs)

        return step


def _writer(content: str):
    def write(folder: Path) -> None:
        (folder / "sub").mkdir(parents=True)
        (folder / "detector.json").write_text(content)
        (folder / "sub" / "part").write_text(content * 3)

    return write


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_kill_at_any_step_leaves_old_or_new(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(output_folders, "_exchange", lambda a, b: False)
    monkeypatch.setattr(output_files, "_running", lambda pid: False)  # the 'killed' process is gone
    replace_folder(tmp_path / "probe", _writer("old"))
    with monkeypatch.context() as m:  # how many steps an uninterrupted replace takes
        probe = CrashAt(m, None)
        replace_folder(tmp_path / "probe", _writer("new"))
        steps = probe.count
    assert steps > 3
    for at in range(1, steps + 2):
        dest = tmp_path / f"d{at}"
        replace_folder(dest, _writer("old"))
        old = _tree(dest)
        with monkeypatch.context() as m:
            CrashAt(m, at)
            with contextlib.suppress(Killed):
                replace_folder(dest, _writer("new"))
        recover_folder(dest)  # what the next run does first
        assert _tree(dest) in (old, _tree_of(_writer("new"), tmp_path / "ref")), at
        assert [p.name for p in tmp_path.glob(f".d{at}.*")] == []  # leftovers removed


def _tree_of(write, folder: Path) -> dict[str, str]:
    if not folder.exists():
        write(folder)
    return _tree(folder)


def test_recover_folder_puts_back_an_old_checkpoint(tmp_path, monkeypatch):
    # training swaps a checkpoint in with two renames; a kill between them leaves the old
    # folder under a temporary name: the next run (train_cmd) puts it back first
    monkeypatch.setattr(output_files, "_running", lambda pid: False)
    old = tmp_path / ".ckpt.old-99999"
    old.mkdir()
    (old / "hateproto_classifier.json").write_text("{}")
    recover_folder(tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / "hateproto_classifier.json").is_file() and not old.exists()
