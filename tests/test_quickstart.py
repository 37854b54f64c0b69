"""The README's main job (issue 30): its recipes, the demo sentences, the demo table and the
audit summary it prints."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from hateproto.cli.main import main
from hateproto.cli.quickstart_sentences import DEMO_SENTENCES
from hateproto.data.keys import text_key
from hateproto.data.types import LabeledTexts
from hateproto.detector.probe import project_out_in_place
from hateproto.detector.recipe import GeneralRecipe, stratified_cap

SIZE_FIELDS = {"probe_max_train", "group_basis_posts", "max_dev_per_source", "per_class"}


def test_quickstart_is_the_general_recipe_on_a_subsample() -> None:
    quick, general = GeneralRecipe.default("quickstart"), GeneralRecipe.default("general")
    assert quick.probe_max_train is not None and general.probe_max_train is None
    differs = {
        name
        for name in GeneralRecipe.model_fields
        if getattr(quick, name) != getattr(general, name)
    }
    assert differs <= SIZE_FIELDS | {"max_train_examples", "epochs", "learning_rate"}


def test_ihc_paper_recipe_keeps_the_old_quickstart() -> None:
    paper = GeneralRecipe.default("ihc-paper")
    assert (paper.data, paper.protocol, paper.probe_head) == ("ihc", "hateprototypes", "logistic")
    assert paper.group_projection == 0 and paper.target_recall is None


def _strata(data: LabeledTexts) -> pd.Series:
    return pd.Series(list(zip(data.metadata["source"], data.labels, strict=True))).value_counts()


def test_stratified_cap_keeps_every_source_and_label_in_proportion() -> None:
    rng = np.random.default_rng(0)
    sources = ["a"] * 600 + ["b"] * 300 + ["c"] * 100
    labels = rng.integers(0, 2, 1000)
    data = LabeledTexts(
        [f"post {i}" for i in range(1000)],
        labels,
        metadata=pd.DataFrame({"source": sources}),
    )
    capped = stratified_cap(data, 200, seed=0)
    assert len(capped) == 200 and len(set(capped.texts)) == 200
    full, small = _strata(data), _strata(capped)
    for stratum, n in full.items():
        assert abs(small[stratum] - 200 * n / 1000) <= 1
    assert stratified_cap(data, None) is data and stratified_cap(data, 5000) is data
    assert stratified_cap(data, 200, seed=0).texts == capped.texts
    assert stratified_cap(data, 200, seed=1).texts != capped.texts


def test_in_place_projection_equals_project_out() -> None:
    from hateproto.training.consistency import project_out

    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(12, 3)))[0].T  # 3 orthonormal rows
    x = rng.normal(size=(10, 12)).astype(np.float32)
    expected = project_out(x, basis)
    got = project_out_in_place(x.copy(), basis, rows=4)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(got @ basis.T, 0, atol=1e-6)


def test_demo_sentences_are_not_in_the_suite_or_the_generated_pairs() -> None:
    from hateproto.audit import build_suite
    from hateproto.data.contrast_pairs import generate_contrast_pairs

    keys = {text_key(s.text) for s in DEMO_SENTENCES}
    assert len(keys) == len(DEMO_SENTENCES) >= 10
    suite = {text_key(c.text) for c in build_suite("all")}
    pairs = {text_key(t) for s in ("train", "dev") for t in generate_contrast_pairs(s).texts}
    assert not keys & suite and not keys & pairs


def test_demo_sentences_are_labelled_as_their_functionality() -> None:
    from hateproto.audit.suite import functionality

    for sentence in DEMO_SENTENCES:
        assert sentence.label == functionality(sentence.functionality).label_gold, sentence
    kinds = {s.functionality for s in DEMO_SENTENCES}
    needed = {
        "derogation_direct",
        "derogation_implicit",
        "threat",
        "negated_hate",
        "counter_quote",
        "identity_positive",
        "identity_neutral",
        "slur_reclaimed",
        "profanity_untargeted",
    }
    assert needed <= kinds


class _Says:
    """A detector that calls every text containing ``word`` hate (p = 0.9), others 0.1."""

    def __init__(self, word: str) -> None:
        self.word = word

    def score_arrays(self, texts: list[str]) -> SimpleNamespace:
        hate = np.array([self.word in t.lower() for t in texts])
        proba = np.where(hate, 0.9, 0.1)
        return SimpleNamespace(labels=hate.astype(int), proba=np.stack([1 - proba, proba], 1))


def test_demo_table_marks_wrong_answers(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    from hateproto.cli.quickstart_demo import demo_rows, print_demo

    rows = demo_rows(_Says("muslim"))  # hate for one hateful and one negated sentence
    by_text = {r["text"]: r for r in rows}
    assert by_text["Muslims are liars, every single one of them."]["right"]
    neutral = by_text["The mosque on Elm Street holds an open day for visitors this Saturday."]
    assert neutral["right"]  # no "muslim" in it
    negated = by_text["Nothing about being Muslim makes a person violent."]
    assert negated["label"] == "hate" and not negated["right"]
    wrong = [r for r in rows if not r["right"]]
    assert [r["expected"] for r in wrong].count("hate") == 4 and len(wrong) == 5
    print_demo(rows, Console(width=200))
    out = capsys.readouterr().out
    assert out.count("WRONG") == 5 and f"{len(rows) - 5} of {len(rows)} right" in out


def test_audit_summary_is_the_audit_of_the_test_half() -> None:
    from hateproto.audit import build_suite, run_audit
    from hateproto.cli.quickstart_demo import audit_summary

    detector = _Says("not")
    summary = audit_summary(detector)
    report = run_audit(detector, build_suite("test"))
    assert summary["split"] == "test" and summary["n_cases"] == report.n_cases
    assert summary["macro_f1"] == report.macro_f1 and summary["fpr_spread"] == report.fpr_spread
    worst = min(summary["functionality_accuracy"].values())
    assert summary["worst_functionality_accuracy"] == worst
    assert summary["functionality_accuracy"][summary["worst_functionality"]] == worst


def test_quickstart_unknown_recipe_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quickstart", "--recipe", "tiny"]) == 2
    assert "unknown recipe" in capsys.readouterr().err


def test_quickstart_builds_and_prints_the_demo(
    tiny_encoder_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The whole main job on a tiny random model and two small files standing in for the
    benchmarks: the detector is saved, the subsample cap holds, and the demo and the audit's
    test half are reported."""
    from test_recipe import _files

    from hateproto.detector import Detector

    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path / "home"))
    packaged = GeneralRecipe.default.__func__
    small = {
        "data": _files(tmp_path),
        "dtype": "float32",
        "per_class": 5,
        "max_dev_per_source": 50,
        "probe_max_train": 100,
        "group_basis_posts": 10,
        "probe_epochs": 2,
        "pool_layers": [1, 2, 3],
    }

    def default(cls, name="general", overrides_from=None, **overrides):  # noqa: ANN001
        return packaged(cls, name, overrides_from, **{**overrides, **small})

    monkeypatch.setattr(GeneralRecipe, "default", classmethod(default))
    out = tmp_path / "det"
    args = ["quickstart", "--model", str(tiny_encoder_dir), "--data-dir", str(tmp_path)]
    assert main([*args, "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["recipe"] == "quickstart" and summary["detector"] == str(out)
    assert summary["n_train_posts"] == 100 < summary["n_train_posts_available"]
    assert len(summary["demo"]) == len(DEMO_SENTENCES)
    detector = Detector.from_pretrained(out)
    scores = detector.score_arrays([s.text for s in DEMO_SENTENCES])
    for row, proba in zip(summary["demo"], scores.proba[:, 1], strict=True):
        assert row["hate_probability"] == pytest.approx(float(proba), abs=1e-4)
    assert summary["audit"]["split"] == "test" and 0 <= summary["audit"]["macro_f1"] <= 1
    assert main([*args, "--out", str(tmp_path / "det2")]) == 0
    printed = capsys.readouterr().out
    assert "Demo" in printed and "Functional audit, test half" in printed
    assert "hateproto detector build --recipe general" in printed
