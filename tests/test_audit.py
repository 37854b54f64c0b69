"""The functional audit (issue 14): the suite, the report math and ``hateproto audit``.

Fast: fake scorers, and the tiny random detector of ``conftest`` for the command line.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from hateproto.audit import (
    CONTRAST_PAIRS,
    FPR_FUNCTIONALITIES,
    FUNCTIONALITIES,
    GROUPS,
    AuditCase,
    AuditReport,
    build_suite,
    group_keys,
    macro_f1,
    run_audit,
    summarise,
    write_figure,
    write_report_json,
)
from hateproto.audit.output import atomic_write
from hateproto.audit.suite import functionality
from hateproto.cli.main import main
from hateproto.errors import DataError, HateprotoError

GOLD = {f.name: f.label_gold for f in FUNCTIONALITIES}


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
    assert len(suite) >= 1500
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
    assert failed == {
        "min_functionality_accuracy",
        "identity_neutral_accuracy",
        "identity_positive_accuracy",
    }
    assert not report.passed
    assert report.functionality("profanity_untargeted").accuracy == 1.0


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


def test_report_json_and_figure(tmp_path, suite):
    report = run_audit(_term_scorer(["women"]), suite)
    written = write_report_json(report, tmp_path / "r.json")
    assert AuditReport.model_validate_json(written.read_text()) == report
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
    code = main([*args, "--json", str(out), "--figure", str(fig)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(out.read_text())
    assert report["split"] == "test" and report["n_cases"] == len(build_suite("test"))
    assert len(report["functionalities"]) == len(FUNCTIONALITIES)
    assert {g["group"] for g in report["groups"]} == set(group_keys())
    assert report["detector"]["folder"] == str(detector_dir)
    assert fig.read_bytes()[:4] == b"\x89PNG"
    assert "identity_neutral" in captured.out and "FPR" in captured.out


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
    assert sorted(p.name for p in detector_dir.iterdir()) == before
    assert list(tmp_path.iterdir()) == []
    assert not Path(tmp_path / "no").exists()
