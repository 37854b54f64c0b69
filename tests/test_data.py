"""Tests of hateproto.data: user tables, sampling, the built-in sample, benchmarks and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hateproto.data import (
    BENCHMARKS,
    PROTOCOLS,
    LabeledTexts,
    dataset_statistics,
    load_benchmark,
    load_sample,
    load_table,
    read_table,
    sample_per_class,
    train_test_overlap,
)
from hateproto.errors import DataError
from hateproto.paths import default_data_dir

# --------------------------------------------------------------------------- helpers


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _squash(text: str) -> str:
    """Remove all whitespace (rich wraps long error lines)."""
    return "".join(text.split())


TOY = pd.DataFrame(
    {
        "text": ["you are vermin", "nice day", "they are rats"],
        "label": [1, 0, 1],
        "group": list("abc"),
    }
)


# --------------------------------------------------------------------------- load_table formats


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".json", ".parquet", ".parquet.gzip"])
def test_load_table_each_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"toy{suffix}"
    if suffix in (".csv", ".tsv"):
        TOY.to_csv(path, sep="," if suffix == ".csv" else "\t", index=False)
    elif suffix in (".jsonl", ".json"):
        TOY.to_json(path, orient="records", lines=True)
    else:
        TOY.to_parquet(path)
    data = load_table(path, metadata_columns=["group"], split="test")
    assert data.texts == TOY["text"].tolist()
    assert data.labels.tolist() == [1, 0, 1]
    assert data.name == "toy" and data.split == "test" and data.protocol == "table"
    assert data.metadata["group"].tolist() == ["a", "b", "c"]
    assert data.notes["source_files"] == [str(path)]


def test_load_table_json_array_and_string_labels(tmp_path: Path) -> None:
    rows = [{"post": "a b", "y": "1"}, {"post": "c", "y": "0"}, {"post": "d", "y": True}]
    path = _write(tmp_path / "x.json", json.dumps(rows))
    data = load_table(path, text_column="post", label_column="y")
    assert data.labels.tolist() == [1, 0, 1]


def test_load_table_label_map_and_drop(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.tsv", "text\tclass\na\tOFF\nb\tNOT\nc\tskip\n")
    data = load_table(path, label_column="class", label_map={"OFF": 1, "NOT": 0, "skip": None})
    assert data.texts == ["a", "b"] and data.labels.tolist() == [1, 0]
    assert data.notes["dropped_by_label_map"] == 1


def test_csv_text_that_looks_missing_stays_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", "text,label\nNA,0\nNone,1\n")
    assert load_table(path).texts == ["NA", "None"]


def test_read_table_unlabelled(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", "post,id\nhello there,1\nbye,2\n")
    frame = read_table(path, text_column="post")
    assert frame["post"].tolist() == ["hello there", "bye"]


# --------------------------------------------------------------------------- load_table errors


def _error(path: Path, **kwargs: object) -> str:
    with pytest.raises(DataError) as info:
        load_table(path, **kwargs)
    return str(info.value)


def test_error_missing_file(tmp_path: Path) -> None:
    message = _error(tmp_path / "nope.csv")
    assert "nope.csv" in message and "not found" in message


def test_error_unsupported_extension(tmp_path: Path) -> None:
    message = _error(_write(tmp_path / "x.xlsx", "whatever"))
    assert "x.xlsx" in message and ".csv" in message


def test_error_empty_file(tmp_path: Path) -> None:
    assert "empty" in _error(_write(tmp_path / "x.csv", ""))
    assert "no data rows" in _error(_write(tmp_path / "h.csv", "text,label\n"))


def test_error_missing_column_lists_existing(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", "post,label\na,1\n")
    message = _error(path)
    assert "x.csv" in message and "'text'" in message and "post, label" in message


def test_error_label_outside_map(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", "text,label\na,hate\nb,maybe\n")
    message = _error(path, label_map={"hate": 1, "not_hate": 0})
    assert "x.csv" in message and "'label'" in message and "row 2" in message
    assert "'maybe'" in message and "'hate'" in message and "'not_hate'" in message


def test_error_label_not_binary_without_map(tmp_path: Path) -> None:
    message = _error(_write(tmp_path / "x.csv", "text,label\na,1\nb,0\nc,2\n"))
    assert "row 3" in message and "'label'" in message and "label map" in message


@pytest.mark.parametrize("cell", ["", "   "])
def test_error_empty_text(tmp_path: Path, cell: str) -> None:
    path = _write(tmp_path / "x.csv", f'text,label\nfine,1\n"{cell}",0\n')
    message = _error(path)
    assert "x.csv" in message and "'text'" in message and "row 2" in message


def test_error_non_string_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.jsonl", '{"text": "ok", "label": 1}\n{"text": 42, "label": 0}\n')
    message = _error(path)
    assert "x.jsonl" in message and "row 2" in message and "42" in message
    parquet = tmp_path / "x.parquet"
    pd.DataFrame({"text": ["a", None], "label": [0, 1]}).to_parquet(parquet)
    message = _error(parquet)
    assert "row 2" in message and "NaN" in message


def test_error_undecodable_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", b"text,label\nfine,1\nbad \xff byte,0\n")
    message = _error(path)
    assert "x.csv" in message and "offset 22" in message and "line 3" in message


def test_error_invalid_json_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.jsonl", '{"text": "a", "label": 1}\n{"text": oops}\n')
    message = _error(path)
    assert "x.jsonl" in message and "line 2" in message


# --------------------------------------------------------------------------- LabeledTexts, sampling


def test_subset_keeps_metadata_and_order() -> None:
    data = LabeledTexts(
        ["a", "b", "c"], np.array([0, 1, 1]), metadata=pd.DataFrame({"t": ["x", "y", "z"]})
    )
    part = data.subset([2, 0])
    assert part.texts == ["c", "a"] and part.labels.tolist() == [1, 0]
    assert part.metadata["t"].tolist() == ["z", "x"]


def test_sample_per_class_deterministic() -> None:
    train = load_sample("train")
    first = sample_per_class(train, n=5, seed=3)
    assert first.texts == sample_per_class(train, n=5, seed=3).texts
    assert first.texts != sample_per_class(train, n=5, seed=4).texts
    assert first.labels.tolist() == [0] * 5 + [1] * 5
    assert first.notes["sampled_per_class"] == 5


def test_sample_per_class_too_few() -> None:
    data = LabeledTexts(["a", "b", "c"], np.array([0, 1, 1]), name="toy")
    with pytest.raises(DataError, match=r"class 0 \(not_hate\) has only 1"):
        sample_per_class(data, n=2)
    assert sample_per_class(data, n=2, allow_fewer=True).labels.tolist() == [0, 1, 1]


def test_builtin_sample_balanced() -> None:
    train, test, everything = load_sample("train"), load_sample("test"), load_sample("all")
    assert (len(train), len(test), len(everything)) == (40, 20, 60)
    assert train.hate_fraction == 0.5 and test.hate_fraction == 0.5
    assert train.name == "sample" and train.protocol == "builtin"
    assert train_test_overlap(train, test) == 0
    assert "target" in train.metadata
    with pytest.raises(DataError, match="train, test, all"):
        load_sample("dev")


def test_dataset_statistics_keys() -> None:
    row = dataset_statistics(load_sample("test"))
    assert row["n"] == 20 and row["n_hate"] == 10 and row["hate_fraction"] == 0.5
    assert row["mean_tokens"] > 3
    fake = dataset_statistics(load_sample("test"), tokenizer=lambda t: {"input_ids": [0, 1]})
    assert fake["mean_tokens"] == 2.0


# --------------------------------------------------------------------------- benchmark errors


def test_unknown_choices_listed(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="hateprototypes, ocampo2023"):
        load_benchmark("ihc", protocol="nope", data_dir=tmp_path)
    with pytest.raises(DataError, match="ihc, sbic, olid, hatexplain"):
        load_benchmark("toxigen", protocol="hateprototypes", data_dir=tmp_path)
    with pytest.raises(DataError, match="train, dev, test"):
        load_benchmark("ihc", split="holdout", data_dir=tmp_path)
    assert set(BENCHMARKS) == {n for names in PROTOCOLS.values() for n in names}


def test_missing_file_names_full_path(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_benchmark("toxigen", "test", "ocampo2023", data_dir=tmp_path)
    expected = tmp_path / "toxigen" / "ocampo2023" / "toxigen_test.parquet.gzip"
    assert str(expected) in str(info.value) and "HATEPROTO_DATA" in str(info.value)


def test_no_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hateproto.data.benchmarks.resolve_data_dir", lambda _: None)
    with pytest.raises(DataError, match="--data-dir"):
        load_benchmark("ihc")


def test_cli_missing_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hateproto.cli.main import main

    missing = tmp_path / "absent"
    code = main(["data", "stats", "--protocol", "ocampo2023", "--data-dir", str(missing)])
    assert code == 2
    expected = missing / "ihc" / "ocampo2023" / "ihc_train.parquet.gzip"
    assert _squash(str(expected)) in _squash(capsys.readouterr().err)


# --------------------------------------------------------------------------- real data

DATA_DIR = default_data_dir()
needs_data = pytest.mark.skipif(
    DATA_DIR is None or not Path(DATA_DIR).is_dir(), reason="shared datasets folder not found"
)

EXPECTED = {
    ("hateprototypes", "ihc"): (14273, 3059, 3059),
    ("hateprototypes", "olid"): (9268, 3972, 860),
    ("hateprototypes", "hatexplain"): (15383, 1922, 1924),
    ("hateprototypes", "sbic"): (35423, 4666, 4691),
    ("ocampo2023", "ihc"): (12888, 4296, 4296),
    ("ocampo2023", "sbic"): (35423, 4666, 4691),
    ("ocampo2023", "dynahate"): (32924, 4100, 4120),
    ("ocampo2023", "toxigen"): (7168, 1792, 907),
}


@needs_data
@pytest.mark.parametrize(("protocol", "name"), sorted(EXPECTED))
def test_benchmark_counts(protocol: str, name: str) -> None:
    sizes = tuple(len(load_benchmark(name, s, protocol)) for s in ("train", "dev", "test"))
    assert sizes == EXPECTED[(protocol, name)]
    test = load_benchmark(name, "test", protocol)
    assert test.name == name and test.protocol == protocol and test.split == "test"
    assert {"category", "target"} <= set(test.metadata.columns)
    assert all(Path(f).is_file() for f in test.notes["source_files"])


@needs_data
def test_benchmark_details() -> None:
    toxigen = load_benchmark("toxigen", "test", "ocampo2023")
    assert toxigen.notes["dropped_unlabelled"] == 28
    ihc = [load_benchmark("ihc", s) for s in ("train", "dev", "test")]
    assert sum(len(d) for d in ihc) == 20391
    assert abs(np.mean(np.concatenate([d.labels for d in ihc])) - 0.3482) < 1e-3
    assert "not_hate" in set(ihc[0].metadata["category"])
    hatexplain = load_benchmark("hatexplain", "validation")
    assert hatexplain.split == "dev" and abs(hatexplain.hate_fraction - 0.5937) < 1e-3
    assert set(hatexplain.metadata["category"]) == {"hatespeech", "offensive", "normal"}
    sbic = load_benchmark("sbic", "train")
    assert sbic.notes["mixed_label_posts"] == 717 and len(set(sbic.texts)) == len(sbic)
    olid = load_benchmark("olid", "test")
    assert int(olid.labels.sum()) == 240


@needs_data
def test_splits_deterministic_and_seeded() -> None:
    first = load_benchmark("ihc", "test", seed=7)
    assert first.texts == load_benchmark("ihc", "test", seed=7).texts
    assert first.texts != load_benchmark("ihc", "test", seed=8).texts
    train, dev, test = (load_benchmark("ihc", s, seed=7) for s in ("train", "dev", "test"))
    assert train_test_overlap(train, test) == 0 and train_test_overlap(train, dev) == 0
    olid = load_benchmark("olid", "dev", seed=1)
    assert olid.texts == load_benchmark("olid", "dev", seed=1).texts


@needs_data
def test_cli_stats_json(capsys: pytest.CaptureFixture[str]) -> None:
    from hateproto.cli.main import main

    code = main(["data", "stats", "--protocol", "hateprototypes", "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    sizes = {(r["dataset"], r["split"]): r["n"] for r in rows}
    for (protocol, name), expected in EXPECTED.items():
        if protocol == "hateprototypes":
            assert tuple(sizes[(name, s)] for s in ("train", "dev", "test")) == expected
    assert all(r["protocol"] == "hateprototypes" and 0 < r["hate_fraction"] < 1 for r in rows)
    assert all("duplicates_with_train" in r for r in rows if r["split"] != "train")
