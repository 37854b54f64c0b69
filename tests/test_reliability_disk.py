"""Issue 28 H and J: huge cells and wide tables in ``classify``; a full or read-only disk.

A full disk is simulated by making the write (or sync) of one file fail with ``ENOSPC`` or
``EROFS``, as the system would; every error must be one line naming the user's path (never a
hidden temporary one), ``classify`` must keep its progress for ``--resume``, and a build
must find out that it cannot write before it computes anything.
"""

from __future__ import annotations

import errno
import os

import pandas as pd
import pytest
from tiny_detector import HATE, NOT_HATE

from hateproto.cli.main import main
from hateproto.errors import DataError
from hateproto.outputs import atomic_write_text, replace_folder
from hateproto.outputs import files as output_files
from hateproto.scoring import TableReader, classify_file
from hateproto.scoring.writers import TextWriter


def _full(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# ---------------------------------------------------------------------- H
def test_a_huge_cell_is_a_bad_row_never_tokenized(detector, tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["good game today", "x" * 200_001]}).to_csv(source, index=False)
    summary = classify_file(
        detector, source, tmp_path / "out.csv", on_error="skip", show_progress=False
    )
    assert summary.bad_rows == 1 and "200,001 characters" in summary.bad_examples[0]
    with pytest.raises(DataError, match="row 2: text has 200,001 characters"):
        classify_file(detector, source, tmp_path / "o2.csv", show_progress=False)


def test_a_table_with_too_many_columns_is_refused_before_reading_rows(tmp_path):
    source = tmp_path / "wide.csv"
    source.write_text("text," + ",".join(f"c{i}" for i in range(20_000)) + "\nhi\n")
    with pytest.raises(DataError, match="20,001 columns; at most 10,000"):
        TableReader(source, "text")


# ---------------------------------------------------------------------- J: messages
def test_a_full_disk_names_the_users_file(tmp_path, monkeypatch):
    target = tmp_path / "out" / "result.json"
    monkeypatch.setattr(output_files.os, "replace", _full)
    with pytest.raises(OSError) as caught:
        atomic_write_text(target, "{}")
    assert caught.value.filename == str(target) and caught.value.errno == errno.ENOSPC
    assert not list(target.parent.iterdir())  # no temporary file left behind


def test_a_read_only_folder_names_the_users_folder_not_the_staging_one(tmp_path):
    folder = tmp_path / "det"

    def write(staging):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(staging / "detector.json"))

    with pytest.raises(OSError) as caught:
        replace_folder(folder, write)
    assert caught.value.filename == str(folder) and ".tmp-" not in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_the_cli_prints_one_line_with_the_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(output_files.os, "fsync", _full)
    out = tmp_path / "new-det"
    assert main(["detector", "build", "--dataset", "sample", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "No space left on device" in err and str(out) in err and len(err.splitlines()) == 1


# ---------------------------------------------------------------------- J: build checks first
def test_a_build_finds_out_it_cannot_write_before_computing(tmp_path, monkeypatch, capsys):
    import hateproto.cli.detector_cmd as detector_cmd

    called = []
    monkeypatch.setattr(detector_cmd, "build_detector", lambda *a, **k: called.append(1))
    monkeypatch.setattr(output_files.os, "fsync", _full)
    assert main(["detector", "build", "--dataset", "sample", "--out", str(tmp_path / "d")]) == 2
    assert called == [] and "cannot write here" in capsys.readouterr().err


# ---------------------------------------------------------------------- J: resume keeps progress
def test_classify_resume_on_a_full_disk_keeps_its_progress(detector, tmp_path, monkeypatch):
    source = tmp_path / "in.csv"
    texts = (HATE + NOT_HATE) * 3
    pd.DataFrame({"text": texts}).to_csv(source, index=False)
    out, clean = tmp_path / "out.csv", tmp_path / "clean.csv"
    classify_file(detector, source, clean, chunk_size=4, show_progress=False)
    real_write = TextWriter.write
    calls = []

    def fill_up(self, frame):
        calls.append(1)
        if len(calls) == 3:
            _full()
        real_write(self, frame)

    monkeypatch.setattr(TextWriter, "write", fill_up)
    with pytest.raises(DataError, match="the 8 rows done so far are kept.*--resume"):
        classify_file(detector, source, out, chunk_size=4, show_progress=False)
    sidecar = out.with_name(out.name + ".progress.json")
    assert sidecar.is_file() and out.with_name(out.name + ".partial").is_file()
    calls.clear()
    with pytest.raises(DataError, match="kept"):  # and again, resuming on the full disk
        calls.extend([1, 1])
        classify_file(detector, source, out, chunk_size=4, resume=True, show_progress=False)
    assert sidecar.is_file()
    monkeypatch.setattr(TextWriter, "write", real_write)
    summary = classify_file(detector, source, out, chunk_size=4, resume=True, show_progress=False)
    assert summary.resumed_from == 8
    assert out.read_text() == clean.read_text()
