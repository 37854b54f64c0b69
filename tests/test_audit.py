"""The functional audit (issues 14 and 23): the suite, the report math, the CONAN row and
``hateproto audit``.

Fast: fake scorers, and the tiny random detector of ``conftest`` for the command line. The
tests that read CONAN are skipped when ``../shared/datasets/conan`` is missing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hateproto.audit import (
    CONTRAST_PAIRS,
    FIRST_EDITION_TEMPLATES,
    FPR_FUNCTIONALITIES,
    FUNCTIONALITIES,
    FUNCTIONALITY_GOALS,
    GROUPS,
    AuditCase,
    AuditGoals,
    AuditReport,
    build_suite,
    conan_counter,
    conan_row_name,
    external_result,
    group_keys,
    macro_f1,
    run_audit,
    sample_by_target,
    summarise,
    template_splits,
    write_figure,
    write_report_json,
)
from hateproto.audit.output import atomic_write
from hateproto.audit.suite import functionality
from hateproto.cli.main import main
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError, HateprotoError

GOLD = {f.name: f.label_gold for f in FUNCTIONALITIES}
NON_HATEFUL = [f.name for f in FUNCTIONALITIES if f.label_gold == 0]
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "datasets"
needs_conan = pytest.mark.skipif(
    not (DATA_DIR / "conan").is_dir(), reason="../shared/datasets/conan is missing"
)
#: SHA-256 of the 1,631 cases of suite 1.0 (sorted JSON lines): 2.0 adds cases, changes none.
FIRST_EDITION_DIGEST = "cbe38893beadc437559be5320b5b47c28e8d2d9f6b2646e9c76fbe9d6c63d127"


@pytest.fixture(scope="module")
def suite() -> list[AuditCase]:
    return build_suite()


def _mentions(text: str, terms: list[str]) -> bool:
    lowered = text.lower()
    return any(re.search(rf"\b{re.escape(t.lower())}\b", lowered) for t in terms)


def _term_scorer(terms: list[str]):
    """A lexical fake: flags every text that names one of ``terms``."""
    return lambda texts: np.array([int(_mentions(t, terms)) for t in texts])


ALL_TERMS = [term for group in GROUPS for term in group.terms]


# ---------------------------------------------------------------- the suite
def test_suite_size_functionalities_and_groups(suite):
    assert len(suite) >= 2000
    counts = Counter(case.functionality for case in suite)
    assert len(FUNCTIONALITIES) >= 20 and set(counts) == set(GOLD)
    assert min(counts.values()) >= 10
    assert len(GROUPS) >= 10 and {"women", "black", "muslims", "jews", "trans"} <= set(group_keys())


def test_generation_is_deterministic(suite):
    assert build_suite() == suite
    other = build_suite(seed=99)
    templated = [c.id for c in suite if not c.functionality.startswith("spelling_")]
    assert [c.id for c in other if not c.functionality.startswith("spelling_")] == templated
    assert [c.text for c in other] != [c.text for c in suite]


def test_ids_and_texts_are_unique_and_fully_rendered(suite):
    assert len({c.id for c in suite}) == len(suite)
    assert len({c.text for c in suite}) == len(suite)
    for case in suite:
        assert not re.search(r"[{}\[\]]", case.text), case.id
        assert case.label_gold == GOLD[case.functionality]
        assert case.target_group is None or case.target_group in group_keys()
        assert case.split in ("dev", "test")


def test_contrast_pairs_have_both_gold_labels(suite):
    present = {c.functionality for c in suite}
    for hateful, contrast in CONTRAST_PAIRS:
        assert {hateful, contrast} <= present
        assert (functionality(hateful).label_gold, functionality(contrast).label_gold) == (1, 0)
    assert {c.label_gold for c in suite} == {0, 1}


def test_every_group_in_every_identity_functionality(suite):
    crossed = [f.name for f in FUNCTIONALITIES if f.every_group]
    assert set(FPR_FUNCTIONALITIES) <= set(crossed)
    for name in crossed:
        per_group = Counter(c.target_group for c in suite if c.functionality == name)
        assert set(per_group) == set(group_keys()), name
        assert len(set(per_group.values())) == 1, name  # as many cases for every group


def test_spelling_variants_perturb_their_hateful_base(suite):
    by_id = {c.id: c for c in suite}
    spelling = [c for c in suite if c.functionality.startswith("spelling_")]
    assert len(spelling) >= 200
    for case in spelling:
        base = by_id[case.id.split(".", 1)[1]]
        assert base.label_gold == 1 and case.text != base.text
        assert (case.target_group, case.template_id, case.split) == (
            base.target_group,
            base.template_id,
            base.split,
        )
        if case.functionality == "spelling_missing_space":
            assert case.text.count(" ") == base.text.count(" ") - 1
        elif case.functionality == "spelling_extra_space":
            assert case.text.replace(" ", "") == base.text.replace(" ", "")
        elif case.functionality == "spelling_char_swap":
            assert sorted(case.text) == sorted(base.text)
        else:
            assert re.search(r"\d", case.text) and len(case.text) == len(base.text)


def test_dev_and_test_split_the_templates_in_halves(suite):
    dev, test = build_suite("dev"), build_suite("test")
    assert len(dev) + len(test) == len(suite)
    assert {c.template_id for c in dev}.isdisjoint({c.template_id for c in test})
    for name in GOLD:
        assert any(c.functionality == name for c in dev), name
        assert any(c.functionality == name for c in test), name
    assert abs(len(dev) - len(test)) < 0.1 * len(suite)


@pytest.mark.parametrize("name", NON_HATEFUL)
def test_every_contrast_functionality_has_100_cases_in_two_halves(suite, name):
    mine = [c for c in suite if c.functionality == name]
    halves = Counter(c.split for c in mine)
    assert len(mine) >= 100, name
    assert min(halves["dev"], halves["test"]) >= max(50, 0.4 * len(mine)), halves
    dev = {c.template_id for c in mine if c.split == "dev"}
    assert dev.isdisjoint(c.template_id for c in mine if c.split == "test")
    assert len({c.text.lower() for c in mine}) == len(mine)


def test_first_edition_cases_keep_their_text_id_and_half(suite):
    first = [
        c
        for c in suite
        if int(c.template_id.rsplit(".", 1)[1])
        < FIRST_EDITION_TEMPLATES.get(c.template_id.rsplit(".", 1)[0], 10**6)
    ]
    assert len(first) == 1631
    lines = sorted(json.dumps(c.to_dict(), sort_keys=True, ensure_ascii=False) for c in first)
    assert hashlib.sha256("\n".join(lines).encode()).hexdigest() == FIRST_EDITION_DIGEST


def test_template_splits_append_later_templates_after_the_first_edition():
    old = [f"slur_homonym.{i:02d}" for i in range(12)]
    grown = template_splits([*old, *(f"slur_homonym.{i:02d}" for i in range(12, 20))])
    assert {t: grown[t] for t in old} == template_splits(old)
    assert Counter(grown.values()) == {"dev": 10, "test": 10}


def test_unknown_split_is_a_clean_error():
    with pytest.raises(HateprotoError, match="unknown split"):
        build_suite("train")


# ---------------------------------------------------------------- the report
def _case(i: int, name: str, group: str | None) -> AuditCase:
    return AuditCase(f"c{i}", f"text {i}", name, GOLD[name], group, f"{name}.00", "dev")


def test_report_math_on_hand_computed_cases():
    cases = [
        _case(0, "derogation_direct", "women"),  # gold 1, predicted 1
        _case(1, "derogation_direct", "jews"),  # gold 1, predicted 0
        _case(2, "identity_neutral", "women"),  # gold 0, predicted 1 (false positive)
        _case(3, "identity_neutral", "jews"),  # gold 0, predicted 0
        _case(4, "counter_quote", "women"),  # gold 0, predicted 1 (false positive)
        _case(5, "profanity_untargeted", None),  # gold 0, predicted 0
    ]
    predicted = np.array([1, 0, 1, 0, 1, 0])
    report = summarise(cases, predicted)
    assert report.accuracy == pytest.approx(3 / 6)
    # hate: tp 1, fp 2, fn 1 -> 2/5; not hate: tp 2, fp 1, fn 2 -> 4/7
    assert report.macro_f1 == pytest.approx((2 / 5 + 4 / 7) / 2)
    assert report.functionality("derogation_direct").accuracy == 0.5
    assert report.functionality("derogation_direct").failed_ids == ["c1"]
    assert report.functionality("identity_neutral").n == 2
    women, jews = report.group("women"), report.group("jews")
    assert (women.n, women.n_non_hateful, women.false_positives, women.fpr) == (3, 2, 2, 1.0)
    assert (jews.fpr, jews.accuracy) == (0.0, 0.5)
    assert report.fpr_spread == pytest.approx(1.0)
    assert not report.passed
    assert macro_f1(np.array([0, 1, 1]), np.array([0, 1, 1])) == 1.0


def test_scorer_that_flags_group_names_fails_the_goals(suite):
    report = run_audit(_term_scorer(ALL_TERMS), suite)
    assert report.functionality("identity_neutral").accuracy == 0.0
    assert report.functionality("identity_positive").accuracy == 0.0
    assert all(group.fpr == 1.0 for group in report.groups)
    assert report.fpr_spread == 0.0
    failed = {goal.name for goal in report.goals if not goal.passed}
    assert failed == {"min_functionality_accuracy"} | {f"{n}_accuracy" for n in FUNCTIONALITY_GOALS}
    assert not report.passed
    assert report.functionality("profanity_untargeted").accuracy == 1.0
    assert report.functionality("abuse_individual").accuracy == 1.0


def _predict_all_right_but(cases, name: str, wrong: int) -> np.ndarray:
    """Gold labels, except the first ``wrong`` cases of functionality ``name`` flipped."""
    predicted = np.array([c.label_gold for c in cases])
    rows = [i for i, c in enumerate(cases) if c.functionality == name][:wrong]
    predicted[rows] = 1 - predicted[rows]
    return predicted


def test_goals_of_issue_23(suite):
    dev = [c for c in suite if c.split == "dev"]
    assert summarise(dev, _predict_all_right_but(dev, "threat", 0)).passed
    n_neutral = sum(c.functionality == "identity_neutral" for c in dev)
    # 85% on identity_neutral: over the 80% of identity_positive, under its own 90%
    report = summarise(dev, _predict_all_right_but(dev, "identity_neutral", n_neutral * 15 // 100))
    assert {g.name for g in report.goals if not g.passed} == {"identity_neutral_accuracy"}
    assert summarise(dev, _predict_all_right_but(dev, "identity_positive", 7)).passed  # 86%
    report = summarise(dev, _predict_all_right_but(dev, "counter_quote", 11))  # 78%
    assert {g.name for g in report.goals if not g.passed} == {"counter_quote_accuracy"}
    report = summarise(dev, _predict_all_right_but(dev, "threat", 16))  # 68% < 70%
    assert {g.name for g in report.goals if not g.passed} == {"min_functionality_accuracy"}
    assert summarise(dev, _predict_all_right_but(dev, "threat", 15)).passed  # 70%
    lenient = AuditGoals(min_functionality_accuracy=0.6, functionality_accuracy={})
    report = summarise(dev, _predict_all_right_but(dev, "identity_neutral", 15), goals=lenient)
    assert report.passed and [g.name for g in report.goals] == [
        "min_functionality_accuracy",
        "fpr_spread",
    ]
    assert AuditGoals().minimum("identity_neutral") == 0.9 and AuditGoals().minimum("threat") == 0.7


def test_scorer_biased_against_one_group_shows_the_fpr_spread(suite):
    report = run_audit(_term_scorer(["Muslims", "Muslim"]), suite)
    assert report.group("muslims").fpr == 1.0 and report.group("jews").fpr == 0.0
    assert report.fpr_spread == 1.0
    assert next(g for g in report.goals if g.name == "fpr_spread").passed is False


def test_scorer_that_never_flags(suite):
    report = run_audit(lambda texts: np.zeros(len(texts), dtype=int), suite, batch_size=100)
    positives = sum(c.label_gold for c in suite)
    negatives = len(suite) - positives
    assert report.macro_f1 == pytest.approx(negatives / (2 * negatives + positives))
    assert report.fpr_spread == 0.0
    assert report.functionality("threat").accuracy == 0.0
    assert report.functionality("identity_positive").mean_hate_probability is None


def test_scorer_with_probabilities_and_bad_scorers(suite):
    cases = suite[:10]

    def with_proba(texts):
        return np.ones(len(texts), dtype=int), np.full(len(texts), 0.75)

    report = run_audit(with_proba, cases)
    assert report.functionality("derogation_direct").mean_hate_probability == 0.75
    with pytest.raises(HateprotoError, match="predictions"):
        run_audit(lambda texts: np.ones(len(texts) + 1, dtype=int), cases)
    with pytest.raises(HateprotoError, match="0 or 1"):
        run_audit(lambda texts: np.full(len(texts), 2), cases)


def test_run_audit_accepts_a_detector_object(detector):
    cases = build_suite("dev")[:40]
    report = run_audit(detector, cases)
    assert report.n_cases == 40 and report.split == "dev"
    assert 0.0 <= report.accuracy <= 1.0
    assert report.functionality("derogation_direct").mean_hate_probability is not None


# ---------------------------------------------------------------- the external row
def _toy_counter_speech() -> LabeledTexts:
    texts = [f"counter speech {i}" + (" flagged" if i in (0, 4, 11) else "") for i in range(12)]
    targets = ["muslim"] * 8 + ["women"] * 3 + [None]
    return LabeledTexts(
        texts,
        np.zeros(12, dtype=np.int64),
        name="toy_counter",
        split="test",
        metadata=pd.DataFrame({"target": targets}),
    )


def test_external_row_is_reported_apart_from_the_suite(suite):
    dev = [c for c in suite if c.split == "dev"]
    scorer = _term_scorer(["flagged", "Muslims"])
    alone = run_audit(scorer, dev)
    report = run_audit(scorer, dev, external={"toy_counter_test": _toy_counter_speech()})
    row = report.external_result("toy_counter_test")
    # flagged: texts 0, 4 (muslim) and 11 (no target)
    assert (row.n, row.n_non_hateful, row.false_positives, row.correct) == (12, 12, 3, 9)
    assert (row.accuracy, row.fpr, row.source) == (0.75, 0.25, "toy_counter/test")
    assert row.target("muslim").fpr == pytest.approx(2 / 8)
    assert (row.target("women").n, row.target("women").fpr) == (3, 0.0)
    assert (row.target("unspecified").n, row.target("unspecified").fpr) == (1, 1.0)
    assert alone.external == [] and "toy_counter_test_fpr" not in {g.name for g in alone.goals}
    assert report.model_dump(exclude={"external", "goals", "passed"}) == alone.model_dump(
        exclude={"external", "goals", "passed"}
    )
    goal = next(g for g in report.goals if g.name == "toy_counter_test_fpr")
    assert (goal.value, goal.threshold, goal.passed) == (0.25, 0.15, False)
    relaxed = run_audit(
        scorer,
        dev,
        external={"toy_counter_test": _toy_counter_speech()},
        goals=AuditGoals(max_external_fpr=0.3),
    )
    assert next(g for g in relaxed.goals if g.name == "toy_counter_test_fpr").passed
    with pytest.raises(KeyError):
        report.external_result("conan_counter_test")


def test_external_result_with_both_labels_and_probabilities():
    data = LabeledTexts(["a", "b", "c", "d"], np.array([0, 0, 1, 1]), name="mixed")
    row = external_result("mixed", data, np.array([1, 0, 1, 0]), np.array([0.9, 0.1, 0.8, 0.2]))
    assert (row.accuracy, row.fpr, row.false_positives, row.n_non_hateful) == (0.5, 0.5, 1, 2)
    assert row.mean_hate_probability == pytest.approx(0.5)
    assert [(t.target, t.n) for t in row.targets] == [("unspecified", 2)]
    with pytest.raises(HateprotoError, match="3 predictions for 4"):
        external_result("mixed", data, np.array([1, 0, 1]))


def test_sample_by_target_is_seeded_and_keeps_the_shares():
    targets = ["muslim"] * 60 + ["women"] * 30 + [None] * 10
    data = LabeledTexts(
        [f"t{i}" for i in range(100)],
        np.zeros(100, dtype=np.int64),
        metadata=pd.DataFrame({"target": targets}),
    )
    small = sample_by_target(data, 20, seed=3)
    assert len(small) == 20 and small.notes["subsampled_from"] == 100
    assert Counter(small.metadata["target"].fillna("none")) == {"muslim": 12, "women": 6, "none": 2}
    assert small.texts == sample_by_target(data, 20, seed=3).texts
    assert small.texts != sample_by_target(data, 20, seed=4).texts
    assert small.texts == sorted(small.texts, key=lambda t: int(t[1:]))  # original order
    assert sample_by_target(data, None) is data and sample_by_target(data, 500) is data


def test_report_json_and_figure(tmp_path, suite):
    report = run_audit(_term_scorer(["women"]), suite)
    written = write_report_json(report, tmp_path / "r.json")
    assert AuditReport.model_validate_json(written.read_text()) == report
    external = {"toy_counter_test": _toy_counter_speech()}
    with_row = run_audit(_term_scorer(["flagged"]), suite[:50], external=external)
    again = write_report_json(with_row, tmp_path / "r.json")
    assert AuditReport.model_validate_json(again.read_text()) == with_row
    figure = write_figure(report, tmp_path / "f.png")
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "r.json"]
    assert written.stat().st_mode & 0o644 == 0o644  # readable by others, unlike mkstemp's


def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")

    def half_then_fail(handle):
        handle.write(b'{"half": ')
        raise OSError(28, "No space left on device")

    with pytest.raises(DataError, match="No space left"):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


# ---------------------------------------------------------------- the command line
def test_cli_audits_a_tiny_detector(detector_dir, tmp_path, capsys):
    out, fig = tmp_path / "audit.json", tmp_path / "audit.png"
    args = ["audit", "--detector", str(detector_dir), "--split", "test"]
    missing = ["--data-dir", str(tmp_path / "no-data")]
    code = main([*args, *missing, "--json", str(out), "--figure", str(fig)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    skipped = [line for line in captured.err.splitlines() if "CONAN" in line]
    assert len(skipped) == 1 and "skipped" in skipped[0] and "no-data" in skipped[0]
    report = json.loads(out.read_text())
    assert report["external"] == [] and report["suite_version"] == "2.0"
    assert report["split"] == "test" and report["n_cases"] == len(build_suite("test"))
    assert len(report["functionalities"]) == len(FUNCTIONALITIES)
    assert {g["group"] for g in report["groups"]} == set(group_keys())
    assert report["detector"]["folder"] == str(detector_dir)
    assert fig.read_bytes()[:4] == b"\x89PNG"
    assert "identity_neutral" in captured.out and "FPR" in captured.out


def test_cli_no_conan_skips_the_row_silently(detector_dir, tmp_path, capsys):
    out = tmp_path / "audit.json"
    args = ["audit", "--detector", str(detector_dir), "--split", "dev", "--no-conan"]
    assert main([*args, "--json", str(out)]) == 0
    assert "CONAN" not in capsys.readouterr().err
    assert json.loads(out.read_text())["external"] == []


@needs_conan
def test_conan_counter_speech_test_split():
    data = conan_counter("test", DATA_DIR)
    assert len(data) > 1000 and set(data.labels.tolist()) == {0}
    assert {"muslim", "jewish", "women"} <= set(data.metadata["target"].dropna())
    assert len(set(data.texts)) == len(data)
    suite_texts = {c.text for c in build_suite()}
    assert suite_texts.isdisjoint(data.texts)
    small = conan_counter("test", DATA_DIR, max_texts=100)
    assert len(small) == 100 and set(small.texts) <= set(data.texts)
    assert small.texts == conan_counter("test", DATA_DIR, max_texts=100).texts
    assert conan_row_name("test") == conan_row_name("all") == "conan_counter_test"
    assert conan_row_name("dev") == "conan_counter_dev"


@needs_conan
def test_cli_reports_the_conan_row(detector_dir, tmp_path, capsys):
    out = tmp_path / "audit.json"
    args = ["audit", "--detector", str(detector_dir), "--split", "test"]
    assert main([*args, "--data-dir", str(DATA_DIR), "--conan-max", "40", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert "conan_counter_test" in captured.out and "skipped" not in captured.err
    report = AuditReport.model_validate_json(out.read_text())
    row = report.external_result("conan_counter_test")
    assert row.n == row.n_non_hateful == 40 and sum(t.n for t in row.targets) == 40
    assert row.fpr == pytest.approx(1 - row.accuracy)
    assert "conan_counter_test_fpr" in {g.name for g in report.goals}
    assert report.n_cases == len(build_suite("test"))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_cli_exports_the_cases(tmp_path, suffix, capsys):
    path = tmp_path / f"cases{suffix}"
    assert main(["audit", "--export-cases", str(path), "--split", "dev"]) == 0
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(build_suite("dev"))
    assert {r["split"] for r in rows} == {"dev"}
    assert rows[0]["text"] == build_suite("dev")[0].text


def test_cli_bad_inputs_exit_2_with_one_line(detector_dir, tmp_path, capsys):
    bad = [
        ["audit"],
        ["audit", "--detector", str(tmp_path / "missing")],
        ["audit", "--detector", str(detector_dir), "--split", "train"],
        ["audit", "--detector", str(detector_dir), "--json", str(tmp_path / "no" / "r.json")],
        ["audit", "--detector", str(detector_dir), "--json", str(detector_dir / "r.json")],
        ["audit", "--detector", str(detector_dir), "--json", str(detector_dir / "detector.json")],
        ["audit", "--detector", str(detector_dir), "--figure", str(tmp_path / "f.jpg")],
        ["audit", "--detector", str(detector_dir), "--json", str(tmp_path)],
        ["audit", "--export-cases", str(tmp_path / "cases.xlsx")],
    ]
    before = sorted(p.name for p in detector_dir.iterdir())
    for args in bad:
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and "\n" not in err, (args, err)
    assert main(["audit", "--detector", str(detector_dir), "--conan-max", "0"]) == 2
    assert "--conan-max" in capsys.readouterr().err
    assert sorted(p.name for p in detector_dir.iterdir()) == before
    assert list(tmp_path.iterdir()) == []
    assert not Path(tmp_path / "no").exists()
