"""Every result row records where it came from."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import torch
import transformers

import hateproto
from hateproto.experiments.results import ResultStore, with_provenance
from hateproto.provenance import git_commit, provenance

FIELDS = {
    "hateproto_version",
    "git_commit",
    "torch_version",
    "transformers_version",
    "python_version",
    "device",
    "dtype",
    "threads",
}
ROOT = Path(__file__).resolve().parents[1]


def test_provenance_names_the_versions_in_use() -> None:
    record = provenance(dtype="bfloat16")
    assert set(record) == FIELDS
    assert record["torch_version"] == torch.__version__
    assert record["transformers_version"] == transformers.__version__
    assert record["dtype"] == "bfloat16"
    assert record["threads"] == torch.get_num_threads()
    assert record["device"].startswith("cuda:" if torch.cuda.is_available() else "cpu:")


def test_version_has_one_source() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert hateproto.__version__ == declared == provenance()["hateproto_version"]


def test_git_commit_is_the_checkouts_head() -> None:
    head = (ROOT / ".git" / "HEAD").read_text().strip()
    commit = git_commit()
    assert commit is not None and len(commit.split("+")[0]) == 40
    if not head.startswith("ref:"):
        assert commit.startswith(head)


def test_result_store_rows_carry_provenance(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "r.json", key_fields=("train",), dtype="float32")
    store.add({"train": "ihc", "macro_f1": 0.7})
    rows = json.loads((tmp_path / "r.json").read_text())
    assert set(rows[0]["provenance"]) == FIELDS
    assert rows[0]["provenance"]["dtype"] == "float32"
    # Resuming with another commit or library version is allowed: provenance is per row.
    ResultStore(tmp_path / "r.json", key_fields=("train",)).add({"train": "olid"})


def test_with_provenance_adds_the_record_to_each_row() -> None:
    rows = with_provenance([{"a": 1}, {"a": 2}], dtype="float32")
    assert [r["a"] for r in rows] == [1, 2]
    assert all(set(r["provenance"]) == FIELDS for r in rows)
