"""Issue 28 K: two processes creating the same new folder through ``replace_folder`` at once
both succeed (one of them used to fail with ``Directory not empty``)."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from hateproto.outputs import folders as output_folders
from hateproto.outputs import replace_folder


def _write(marker: str):
    def write(staging: Path) -> None:
        staging.mkdir()
        (staging / "who").write_text(marker)

    return write


def test_a_folder_created_between_the_check_and_the_rename_is_swapped(tmp_path, monkeypatch):
    target = tmp_path / "new"
    real_rename = os.rename
    calls = []

    def rename(src, dst):  # the other process wins the race just before our rename
        if Path(dst) == target and not calls:
            calls.append(dst)
            target.mkdir()
            (target / "who").write_text("other")
        return real_rename(src, dst)

    monkeypatch.setattr(output_folders.os, "rename", rename)
    replace_folder(target, _write("us"))
    assert (target / "who").read_text() == "us" and calls
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def _create(folder: str, marker: str, barrier: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    try:
        replace_folder(folder, _write(marker))
    except OSError:
        os._exit(1)
    os._exit(0)


def test_two_processes_creating_the_same_folder_both_succeed(tmp_path):
    context = multiprocessing.get_context("fork")
    failures = 0
    for round_ in range(30):
        folder = str(tmp_path / f"round-{round_}")
        barrier = context.Barrier(2)
        workers = [context.Process(target=_create, args=(folder, m, barrier)) for m in "ab"]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        failures += sum(worker.exitcode != 0 for worker in workers)
        assert (Path(folder) / "who").read_text() in ("a", "b")
        assert [p.name for p in Path(folder).iterdir()] == ["who"]
    assert failures == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
