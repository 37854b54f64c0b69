"""Issue 28 A: a detector folder is a self-contained artifact.

Its classifier head, prototypes, calibration and settings live inside it with a sha256 per
file; the base model is named, never located; ``detector export``/``import`` move it between
machines, and a detector moved to a fresh machine scores bit-identically.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_detector import HATE, NOT_HATE, rehash, tiny_train

from hateproto.cli.main import main
from hateproto.detector import Detector, build_detector
from hateproto.detector.transfer import export_detector, import_detector
from hateproto.errors import MismatchError, ModelError
from hateproto.training import HateClassifier, TrainingConfig

TEXTS = [*HATE[:3], *NOT_HATE[:3], "people of the city"]


def _checkpoint(model_dir: Path, folder: Path, sign: float) -> Path:
    """A probe-mode classifier on the tiny model, its head set to ``sign`` x a fixed draw
    (so that two builds into the same folder give opposite answers, like a changed data file)."""
    clf = HateClassifier.from_config(
        TrainingConfig(backbone=str(model_dir), mode="probe", head="linear", max_length=32)
    )
    generator = torch.Generator().manual_seed(0)
    linear = clf.head.classifier
    with torch.no_grad():
        weight = torch.randn(linear.weight.shape, generator=generator)
        linear.weight.copy_(sign * weight * 3)
        linear.bias.zero_()
    return clf.save_pretrained(folder)


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    """A fresh ``$HATEPROTO_HOME`` for each test (its index of local models starts empty)."""
    path = tmp_path / "home"
    monkeypatch.setenv("HATEPROTO_HOME", str(path))
    return path


@pytest.fixture()
def head_detector(tiny_encoder_dir, tmp_path, home) -> tuple[Path, Path]:
    """(checkpoint folder, saved detector folder) of a head-deciding detector."""
    checkpoint = _checkpoint(tiny_encoder_dir, tmp_path / "checkpoints" / "recipe-x", 1.0)
    detector = build_detector(str(checkpoint), tiny_train(), per_class=None, decision_layer=None)
    assert detector.decides_with == "head"
    return checkpoint, detector.save_pretrained(tmp_path / "det")


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_the_folder_holds_the_head_and_names_no_local_path(head_detector, tiny_encoder_dir):
    checkpoint, folder = head_detector
    manifest = json.loads((folder / "detector.json").read_text())
    assert manifest["model"]["checkpoint"] == "model" and manifest["model"]["source"] == "local"
    assert manifest["model"]["reference"] == f"local:{Path(tiny_encoder_dir).name}"
    assert "model/head.safetensors" in manifest["files"]
    assert sorted(manifest["files"]) == [f for f in _files(folder) if f != "detector.json"]
    for path in folder.rglob("*.json"):  # no file names a path of this machine
        text = path.read_text()
        assert str(tiny_encoder_dir) not in text and str(checkpoint) not in text, path


def test_a_rebuild_of_the_checkpoint_leaves_an_old_detector_unchanged(
    head_detector, tiny_encoder_dir
):
    checkpoint, folder = head_detector
    before = Detector.from_pretrained(folder).predict_proba(TEXTS)
    _checkpoint(tiny_encoder_dir, checkpoint, -1.0)  # "the data file changed": same key, new head
    rebuilt = build_detector(str(checkpoint), tiny_train(), per_class=None, decision_layer=None)
    assert not np.allclose(rebuilt.predict_proba(TEXTS), before)
    np.testing.assert_array_equal(Detector.from_pretrained(folder).predict_proba(TEXTS), before)
    shutil.rmtree(checkpoint)  # and the checkpoint may go entirely
    np.testing.assert_array_equal(Detector.from_pretrained(folder).predict_proba(TEXTS), before)


def test_copied_to_a_fresh_machine_it_scores_identically(
    head_detector, tiny_encoder_dir, tmp_path, monkeypatch, capsys
):
    checkpoint, folder = head_detector
    here = Detector.from_pretrained(folder)
    expected = here.predict_proba(TEXTS)
    archive = tmp_path / "transfer" / "det.tar.gz"
    assert main(["detector", "export", str(folder), "--out", str(archive)]) == 0
    # the "fresh machine": another home (no index of local models), the base model copied to
    # another place, the build's checkpoint gone, the detector only in the archive
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path / "other-home"))
    base = shutil.copytree(tiny_encoder_dir, tmp_path / "elsewhere" / "bert")
    shutil.rmtree(checkpoint)
    shutil.rmtree(folder)
    moved = tmp_path / "server" / "det"
    assert main(["detector", "import", str(archive), "--out", str(moved)]) == 0
    assert main(["detector", "info", str(moved)]) == 2  # the base model must be named once
    assert "give its folder with --model FOLDER" in capsys.readouterr().err
    there = Detector.from_pretrained(moved, model=str(base))
    np.testing.assert_array_equal(there.predict_proba(TEXTS), expected)
    assert [p.to_dict() for p in there.score(TEXTS)] == [p.to_dict() for p in here.score(TEXTS)]
    # named once, it is remembered on this machine, and re-saving keeps it self-contained
    again = Detector.from_pretrained(moved)
    resaved = again.save_pretrained(tmp_path / "resaved")
    np.testing.assert_array_equal(Detector.from_pretrained(resaved).predict_proba(TEXTS), expected)


def test_other_weights_under_the_same_name_are_refused(head_detector, tiny_encoder_dir, tmp_path):
    from transformers import BertModel

    _, folder = head_detector
    other = shutil.copytree(tiny_encoder_dir, tmp_path / "bert")
    model = BertModel.from_pretrained(str(other))
    with torch.no_grad():
        model.embeddings.word_embeddings.weight.mul_(2)
    model.save_pretrained(other)
    with pytest.raises(MismatchError, match=f"fingerprint .* but {other} gives"):
        Detector.from_pretrained(folder, model=str(other))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "model" / "head.safetensors").write_bytes(b"x"), "head.safetensors has"),
        (lambda f: (f / "calibration.json").write_text("{}"), "not one of the detector's files"),
        (lambda f: (f / "model" / "head.safetensors").unlink(), "head.safetensors is missing"),
        (
            lambda f: (f / "stray").symlink_to(f / "detector.json"),
            "not a plain file or folder",
        ),
    ],
)
def test_any_change_to_the_files_is_refused_in_one_line(head_detector, damage, message):
    _, folder = head_detector
    damage(folder)
    with pytest.raises(ModelError, match=message) as caught:
        Detector.from_pretrained(folder)
    assert "\n" not in str(caught.value) and str(folder) in str(caught.value)


def test_export_is_reproducible_and_import_is_checked(head_detector, tmp_path):
    _, folder = head_detector
    first = export_detector(folder, tmp_path / "a.tar.gz")
    second = export_detector(folder, tmp_path / "b.tar.gz")
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        assert all(m.isfile() and m.uid == 0 and m.mtime == 0 for m in tar.getmembers())
    out = import_detector(first, tmp_path / "imported")
    assert _files(out) == _files(folder)


def _archive(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (tarfile.TarInfo("../escape.json"), "unsafe file name"),
        (tarfile.TarInfo("/etc/evil"), "unsafe file name"),
        (tarfile.TarInfo("model/../../x"), "unsafe file name"),
        (_link("detector.json", "/etc/passwd"), "link or special file"),
        (_link("calibration.json", "detector.json", tarfile.LNKTYPE), "link or special file"),
    ],
)
def test_import_refuses_path_tricks_and_links(head_detector, tmp_path, member, message):
    _, folder = head_detector
    good = [(tarfile.TarInfo(n), (folder / n).read_bytes()) for n in ("detector.json",)]
    bad = _archive(tmp_path / "bad.tar.gz", [*good, (member, b"{}")])
    out = tmp_path / "out"
    with pytest.raises(ModelError, match=message):
        import_detector(bad, out)
    assert not out.exists() and not (tmp_path / "escape.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_import_refuses_a_changed_file_and_keeps_the_old_folder(head_detector, tmp_path):
    _, folder = head_detector
    archive = export_detector(folder, tmp_path / "d.tar.gz")
    out = import_detector(archive, tmp_path / "out")
    before = _files(out)
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    changed = [(m, b"{}" if m.name == "calibration.json" else d) for m, d in members]
    if not any(m.name == "calibration.json" for m, _ in members):
        changed = [(m, d + b" " if m.name.endswith("prototypes.json") else d) for m, d in members]
    bad = _archive(tmp_path / "bad.tar.gz", changed)
    with pytest.raises(ModelError, match="has changed since the detector was saved") as caught:
        import_detector(bad, out)
    assert str(bad) in str(caught.value) and ".tmp-" not in str(caught.value)
    assert _files(out) == before
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(archive.read_bytes()[:200])
    with pytest.raises(ModelError, match="cut.tar.gz"):
        import_detector(truncated, tmp_path / "never")


def test_a_format_1_folder_still_loads_with_a_warning_and_upgrades(
    detector, detector_dir, tmp_path, capsys
):
    old = shutil.copytree(detector_dir, tmp_path / "old")
    manifest = json.loads((old / "detector.json").read_text())
    manifest["format_version"] = 1
    manifest["model"].update(reference=str(detector.model_reference))
    for key in ("source", "checkpoint"):
        manifest["model"].pop(key)
    manifest.pop("files")
    (old / "detector.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match="format-1 detector folder.*detector upgrade"):
        loaded = Detector.from_pretrained(old)
    expected = detector.predict_proba(TEXTS)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected, atol=1e-6)
    assert main(["detector", "export", str(old), "--out", str(tmp_path / "x.tar.gz")]) == 2
    assert "detector upgrade" in capsys.readouterr().err
    assert main(["detector", "upgrade", str(old)]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        upgraded = Detector.from_pretrained(old)
    assert json.loads((old / "detector.json").read_text())["format_version"] == 2
    np.testing.assert_allclose(upgraded.predict_proba(TEXTS), expected, atol=1e-6)


def test_a_deliberately_edited_and_rehashed_file_reaches_its_own_checks(head_detector):
    _, folder = head_detector
    meta = folder / "model" / "hateproto_classifier.json"
    meta.write_text(meta.read_text()[:40])
    rehash(folder)
    with pytest.raises(ModelError, match="hateproto_classifier.json"):
        Detector.from_pretrained(folder)
