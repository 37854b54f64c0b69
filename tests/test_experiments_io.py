"""Result store (resume, atomic rewrite), Markdown writers and the paired t-test."""

from __future__ import annotations

import json

import pytest
from scipy import stats

from hateproto.errors import HateprotoError
from hateproto.evaluation import classification_metrics, paired_ttest
from hateproto.experiments import ResultStore, markdown_matrix, markdown_table


def test_result_store_resumes_and_replaces(tmp_path):
    path = tmp_path / "r.json"
    store = ResultStore(path, key_fields=("train", "seed"))
    store.add({"train": "ihc", "seed": 0, "f1": 0.5})
    store.add({"train": "ihc", "seed": 1, "f1": 0.6})
    again = ResultStore(path, key_fields=("train", "seed"))
    assert again.has(train="ihc", seed=1) and not again.has(train="olid", seed=0)
    again.add({"train": "ihc", "seed": 1, "f1": 0.7})
    assert [r["f1"] for r in json.loads(path.read_text())] == [0.5, 0.7]
    assert not list(tmp_path.glob(".*tmp"))
    (tmp_path / ".r.json.k1ll3d.tmp").write_text("[{")  # a save killed before its rename
    assert ResultStore(path, key_fields=("train", "seed")).has(train="ihc", seed=0)
    assert not list(tmp_path.glob(".*tmp"))
    with pytest.raises(HateprotoError, match="key field"):
        again.add({"train": "ihc"})


def test_result_store_refuses_rows_from_other_settings(tmp_path):
    path = tmp_path / "r.json"
    store = ResultStore(path, key_fields=("seed",), settings={"per_class": 50})
    store.add({"seed": 0, "f1": 0.5})
    rows = json.loads(path.read_text())
    assert [{k: v for k, v in r.items() if k != "provenance"} for r in rows] == [
        {"seed": 0, "f1": 0.5, "per_class": 50}
    ]
    assert ResultStore(path, key_fields=("seed",), settings={"per_class": 50}).has(seed=0)
    with pytest.raises(HateprotoError, match="per_class=50, but this run has per_class=200"):
        ResultStore(path, key_fields=("seed",), settings={"per_class": 200})
    assert json.loads(path.read_text())[0]["per_class"] == 50  # the file is left alone


def test_result_store_rejects_corrupt_file(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('[{"a": 1')
    with pytest.raises(HateprotoError, match="not valid JSON"):
        ResultStore(path, key_fields=("a",))


def test_markdown_matrix_mean_and_std():
    rows = [{"tr": "a", "te": "b", "seed": s, "f1": v} for s, v in enumerate([0.5, 0.7])]
    rows.append({"tr": "a", "te": "c", "seed": 0, "f1": 0.25})
    text = markdown_matrix(rows, "tr", "te", "f1")
    assert "| a | 60.0 ± 14.1 | 25.0 |" in text
    assert markdown_table([{"x": 0.123456}], ["x"], digits=2).endswith("| 0.12 |")


def test_paired_ttest_matches_scipy_and_handles_degenerate_input():
    a, b = [0.71, 0.74, 0.69, 0.73], [0.70, 0.70, 0.68, 0.69]
    got = paired_ttest(a, b)
    ref = stats.ttest_rel(a, b)
    assert got["p_value"] == pytest.approx(ref.pvalue)
    assert got["mean_diff"] == pytest.approx(0.025)
    assert paired_ttest([0.5], [0.4])["n"] == 1
    with pytest.raises(HateprotoError, match="equal-length samples, got 2, 1"):
        paired_ttest([1, 2], [1])


def test_classification_metrics_by_hand():
    m = classification_metrics([1, 1, 0, 0], [1, 0, 0, 0], hate_scores=[0.9, 0.4, 0.3, 0.1])
    # hate: P=1, R=0.5, F1=2/3; not-hate: P=2/3, R=1, F1=0.8
    assert m["binary_f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert m["accuracy"] == 0.75 and m["pr_auc"] == pytest.approx(1.0)
