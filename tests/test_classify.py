"""hateproto classify: formats, chunking, bad rows, resume, atomic output, CLI errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tiny_detector import HATE, NOT_HATE

from hateproto.cli.main import main
from hateproto.errors import DataError
from hateproto.scoring import TableReader, classify_file, row_problems

TEXTS = (HATE + NOT_HATE) * 2  # 24 rows


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [f"p{i}" for i in range(len(TEXTS))], "text": TEXTS})


def _write(frame: pd.DataFrame, path) -> None:
    suffix = path.name.split(".", 1)[1]
    if suffix == "csv":
        frame.to_csv(path, index=False)
    elif suffix == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == "jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path, row_group_size=5)


def _read(path) -> pd.DataFrame:
    suffix = path.name.split(".", 1)[1]
    if suffix == "parquet":
        return pd.read_parquet(path)
    if suffix == "jsonl":
        return pd.read_json(path, lines=True, dtype={"id": str})
    return pd.read_csv(path, sep="\t" if suffix == "tsv" else ",", dtype={"id": str})


@pytest.mark.parametrize(
    ("source", "target"),
    [("csv", "parquet"), ("tsv", "jsonl"), ("jsonl", "csv"), ("parquet", "tsv")],
)
def test_formats_in_and_out(detector, tmp_path, source, target):
    src, out = tmp_path / f"in.{source}", tmp_path / f"out.{target}"
    _write(_frame(), src)
    summary = classify_file(detector, src, out, chunk_size=5, show_progress=False)
    assert (summary.rows_read, summary.rows_scored, summary.bad_rows) == (24, 24, 0)
    result = _read(out)
    assert list(result.columns) == [
        "id",
        "text",
        "label",
        "hate_probability",
        "margin",
        "exit_layer",
    ]
    assert result["id"].tolist() == _frame()["id"].tolist()
    expected = [p.hate_probability for p in detector.score(TEXTS)]
    assert result["hate_probability"].tolist() == pytest.approx(expected, abs=1e-4)
    assert set(result["label"]) <= {"hate", "not_hate"}
    assert set(result["exit_layer"]) == {3}
    assert not [p.name for p in tmp_path.iterdir() if p.name not in (src.name, out.name)]


def test_chunk_size_does_not_change_results(detector, tmp_path):
    src = tmp_path / "in.csv"
    _write(_frame(), src)
    classify_file(detector, src, tmp_path / "a.csv", chunk_size=1, show_progress=False)
    classify_file(detector, src, tmp_path / "b.csv", chunk_size=100, show_progress=False)
    a, b = _read(tmp_path / "a.csv"), _read(tmp_path / "b.csv")  # padding moves the last digits
    assert a["id"].tolist() == b["id"].tolist()
    assert a["hate_probability"].tolist() == pytest.approx(b["hate_probability"].tolist(), abs=1e-4)


def test_reader_skips_rows_in_every_format(tmp_path):
    for suffix in ("csv", "jsonl", "parquet"):
        path = tmp_path / f"in.{suffix}"
        _write(_frame(), path)
        reader = TableReader(path, chunk_size=4)
        chunks = list(reader.chunks(skip=7))
        assert chunks[0].start == 7
        assert sum(len(c.frame) for c in chunks) == 17
        assert chunks[0].frame["id"].iloc[0] == "p7"
        assert reader.count_rows() == 24


def test_bad_rows_skip_and_fail(detector, tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "they are vermin"}),
        json.dumps({"id": "b", "text": ""}),
    ]
    lines += ["{not json", json.dumps({"id": "c", "text": 42}), json.dumps({"id": "d"})]
    lines += [json.dumps({"id": "e", "text": "good game today"})]
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    with pytest.raises(DataError, match=r"row 2: text is empty; pass --on-error skip"):
        classify_file(detector, src, out, show_progress=False)
    assert not list(tmp_path.glob("out*"))
    summary = classify_file(detector, src, out, on_error="skip", chunk_size=2, show_progress=False)
    assert (summary.rows_read, summary.rows_scored, summary.bad_rows) == (6, 2, 4)
    assert summary.bad_examples == [
        "row 2: text is empty",
        "row 3: line 3 is not valid JSON (Expecting property name enclosed in double quotes)",
        "row 4: text is int, not a string",
        "row 5: text is missing",
    ]
    assert _read(out)["id"].tolist() == ["a", "e"]


def test_row_problems():
    assert row_problems(["ok", " ", None, float("nan"), b"x"]) == {
        1: "text is empty",
        2: "text is missing",
        3: "text is missing",
        4: "text is bytes, not a string",
    }


def _err(capsys) -> str:
    """Captured stderr with rich's line wrapping undone."""
    return " ".join(capsys.readouterr().err.split())


class _Interrupted(KeyboardInterrupt):
    pass


def _killed_after(detector, chunks: int):
    """A scorer that works for ``chunks`` calls, then dies like a killed process."""
    calls = {"n": 0}

    def score(texts):
        calls["n"] += 1
        if calls["n"] > chunks:
            raise _Interrupted
        return detector.score_arrays(texts)

    return score


@pytest.mark.parametrize("target", ["csv", "parquet", "jsonl"])
def test_resume_after_interrupted_run(detector, tmp_path, target):
    src, out = tmp_path / "in.csv", tmp_path / f"out.{target}"
    _write(_frame(), src)
    with pytest.raises(_Interrupted):
        classify_file(_killed_after(detector, 2), src, out, chunk_size=5, show_progress=False)
    assert not out.exists()  # never half-written
    sidecar = json.loads((tmp_path / f"out.{target}.progress.json").read_text())
    assert sidecar["summary"]["rows_read"] == 10
    # a progress save killed between its write and its rename (SIGKILL) leaves its temporary
    (tmp_path / f".out.{target}.progress.json.k1ll3d.tmp").write_text('{"half": ')
    if target == "csv":  # a chunk written after the last checkpoint must be cut away on resume
        with open(tmp_path / "out.csv.partial", "a") as handle:
            handle.write("garbage,from,a,chunk,cut,short\n")
    summary = classify_file(
        detector.score_arrays, src, out, chunk_size=5, resume=True, show_progress=False
    )
    assert (summary.resumed_from, summary.rows_read, summary.rows_scored) == (10, 24, 24)
    classify_file(
        detector.score_arrays, src, tmp_path / f"whole.{target}", chunk_size=5, show_progress=False
    )
    pd.testing.assert_frame_equal(_read(out), _read(tmp_path / f"whole.{target}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["in.csv", f"out.{target}", f"whole.{target}"]
    )


def test_resume_refuses_a_changed_input_and_finished_runs(detector, tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write(_frame(), src)
    with pytest.raises(_Interrupted):
        classify_file(_killed_after(detector, 1), src, out, chunk_size=5, show_progress=False)
    _write(_frame().iloc[:20], src)
    with pytest.raises(DataError, match="cannot resume"):
        classify_file(detector, src, out, chunk_size=5, resume=True, show_progress=False)
    notes = []
    classify_file(detector, src, out, chunk_size=5, show_progress=False, log=notes.append)
    assert "starting over" in notes[0] and len(_read(out)) == 20
    summary = classify_file(detector, src, out, resume=True, show_progress=False, log=notes.append)
    assert summary.rows_read == 0 and "already complete" in notes[-1]


def test_cli_classify_and_its_errors(detector_dir, tmp_path, capsys):
    src = tmp_path / "in.csv"
    frame = _frame()
    frame.loc[3, "text"] = ""
    _write(frame, src)
    out = tmp_path / "out.parquet"
    base = ["classify", str(src), str(out), "--detector", str(detector_dir), "--quiet"]
    assert main(base) == 2
    assert "row 4: text is missing" in _err(capsys) and not out.exists()
    assert main([*base, "--on-error", "skip", "--json", "--prefix", "pred_"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["rows_scored"], summary["bad_rows"]) == (23, 1)
    assert "pred_label" in pd.read_parquet(out).columns

    for args, message in [
        (["classify", str(tmp_path / "missing.csv"), str(tmp_path / "o1.csv")], "file not found"),
        (["classify", str(src), str(tmp_path / "o2.csv"), "--text-column", "post"], "no column"),
        (["classify", str(src), str(tmp_path / "o3.xlsx")], "unsupported file type"),
    ]:
        assert main([*args, "--detector", str(detector_dir), "--quiet"]) == 2
        assert message in _err(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.parquet"]


def test_cli_label_column_clash(detector_dir, tmp_path, capsys):
    src = tmp_path / "in.csv"
    _frame().assign(label=1).to_csv(src, index=False)
    args = ["classify", str(src), str(tmp_path / "o.csv"), "--detector", str(detector_dir)]
    assert main([*args, "--quiet"]) == 2
    assert "--prefix" in _err(capsys)
    assert main([*args, "--quiet", "--keep-column", "id"]) == 0
    assert list(pd.read_csv(tmp_path / "o.csv").columns)[:2] == ["id", "label"]
