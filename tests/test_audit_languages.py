"""The audit in German, French and Spanish (issue 25): size, splits, ids, filled templates,
the unchanged English suite, ``--language`` on the command line and the docs' count table.

No accuracy claims: the detector of ``conftest`` is random. Run ``python
tests/test_audit_languages.py`` to print the table that docs/audit.md must contain.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from hateproto.audit import (
    FUNCTIONALITIES,
    LANGUAGES,
    NON_PROTECTED,
    build_suite,
    case_language,
    conan_row_name,
    group_keys,
    language_suite,
    run_audit,
)
from hateproto.audit.languages import SUITES
from hateproto.errors import ConfigError

#: SHA-256 of the English suite (every case, as sorted JSON) before the languages were added.
ENGLISH_DIGEST = "26e8d3911553177a9180b374f2ed053c008450f0be86bf107621a2338edfb463"
OTHER = sorted(SUITES)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "audit.md"
EVERY_GROUP = [f.name for f in FUNCTIONALITIES if f.every_group]


def _digest(cases) -> str:
    rows = [c.to_dict() for c in cases]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@pytest.fixture(scope="module")
def suites():
    return {code: build_suite(language=code) for code in OTHER}


def test_languages_are_registered():
    assert LANGUAGES == ("en", "de", "fr", "es")


def test_english_suite_is_unchanged():
    assert _digest(build_suite()) == ENGLISH_DIGEST
    assert build_suite(language="en") == build_suite() == build_suite(language=" EN ")


@pytest.mark.parametrize("code", OTHER)
def test_size_and_functionalities(suites, code):
    cases = suites[code]
    assert len(cases) >= 400
    present = {c.functionality for c in cases}
    assert set(EVERY_GROUP) <= present
    assert {"profanity_untargeted", "abuse_individual", "abuse_nonprotected_group"} <= present
    assert {f"spelling_{kind}" for kind in ("char_swap", "missing_space", "extra_space")} <= present
    assert present <= {f.name for f in FUNCTIONALITIES}
    gold = {f.name: f.label_gold for f in FUNCTIONALITIES}
    assert all(c.label_gold == gold[c.functionality] for c in cases)


@pytest.mark.parametrize("code", OTHER)
def test_both_halves_of_every_functionality(suites, code):
    halves = Counter((c.functionality, c.split) for c in suites[code])
    for name in {c.functionality for c in suites[code]}:
        assert halves[name, "dev"] > 0 and halves[name, "test"] > 0, name
    dev, test = build_suite("dev", language=code), build_suite("test", language=code)
    assert len(dev) + len(test) == len(suites[code])
    assert {c.split for c in dev} == {"dev"} and {c.split for c in test} == {"test"}


@pytest.mark.parametrize("code", OTHER)
def test_ids_unique_prefixed_and_disjoint_from_english(suites, code):
    ids = [c.id for c in suites[code]]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith(f"{code}.") and case_language(i) == code for i in ids)
    assert all(c.template_id.startswith(f"{code}.") for c in suites[code])
    english = {c.id for c in build_suite()}
    assert english.isdisjoint(ids)
    assert {case_language(i) for i in english} == {"en"}
    others = [c.id for other in OTHER if other != code for c in suites[other]]
    assert set(others).isdisjoint(ids)


@pytest.mark.parametrize("code", OTHER)
def test_every_placeholder_filled_and_texts_unique(suites, code):
    for case in suites[code]:
        assert not re.search(r"[{}\[\]]", case.text), case.id
        assert case.text == case.text.strip() and "  " not in case.text, case.id
    texts = [c.text for c in suites[code]]
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize("code", OTHER)
def test_every_group_in_every_group_functionality(suites, code):
    suite = language_suite(code)
    assert [g.key for g in suite.groups] == group_keys()
    assert {g.key for g in suite.non_protected} <= {g.key for g in NON_PROTECTED}
    for name in EVERY_GROUP:
        targets = Counter(c.target_group for c in suites[code] if c.functionality == name)
        assert set(targets) == set(group_keys()), name
        assert len(set(targets.values())) == 1, name  # as many cases for every group


@pytest.mark.parametrize("code", OTHER)
def test_spelling_variants_perturb_a_hateful_case(suites, code):
    by_id = {c.id: c for c in suites[code]}
    variants = [c for c in suites[code] if c.functionality.startswith("spelling_")]
    assert variants
    for case in variants:
        _, kind, source = case.id.split(".", 2)
        base = by_id[f"{code}.{source}"]
        assert kind == case.functionality and base.label_gold == case.label_gold == 1
        assert case.text != base.text and case.split == base.split
        assert case.target_group == base.target_group


@pytest.mark.parametrize("code", OTHER)
def test_deterministic_and_seeded(suites, code):
    assert build_suite(language=code) == suites[code]
    other = build_suite(language=code, seed=15)
    assert [c.id for c in other] != [c.id for c in suites[code]] or [c.text for c in other] != [
        c.text for c in suites[code]
    ]


def test_unknown_language_names_the_supported_ones():
    with pytest.raises(ConfigError, match=re.escape("supported: " + ", ".join(LANGUAGES))):
        build_suite(language="xx")
    with pytest.raises(ConfigError, match="English"):
        language_suite("en")


def test_the_report_records_its_language(suites):
    german = [c for c in suites["de"] if c.split == "dev"]
    report = run_audit(lambda texts: np.zeros(len(texts), dtype=int), german)
    assert report.language == "de" and report.model_dump()["language"] == "de"
    assert {g.group for g in report.groups} == set(group_keys())
    english = run_audit(lambda texts: np.zeros(len(texts), dtype=int), build_suite("dev"))
    assert english.language == "en"
    assert conan_row_name("test", "fr") == "conan_counter_fr_test"
    assert conan_row_name("test") == "conan_counter_test"


# ---------------------------------------------------------------- the command line
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_cli_exports_german_cases(tmp_path, suffix, capsys):
    from hateproto.cli.main import main

    path = tmp_path / f"x{suffix}"
    assert main(["audit", "--language", "de", "--export-cases", str(path)]) == 0
    assert ", de)" in capsys.readouterr().err
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == ["id", "text", "functionality", "label_gold", "target_group",
                                 "template_id", "split"]  # fmt: skip
    else:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    expected = build_suite(language="de")
    assert [r["id"] for r in rows] == [c.id for c in expected]
    assert rows[0]["text"] == expected[0].text


def test_cli_unknown_language_exits_2(tmp_path, capsys):
    from hateproto.cli.main import main

    code = main(["audit", "--language", "xx", "--export-cases", str(tmp_path / "x.csv")])
    assert code == 2 and "supported" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_cli_audits_in_german_and_skips_conan_with_a_reason(detector_dir, tmp_path, capsys):
    from hateproto.cli.main import main

    out = tmp_path / "audit.json"
    args = ["audit", "--detector", str(detector_dir), "--language", "de", "--split", "dev"]
    assert main([*args, "--json", str(out)]) == 0
    skipped = [line for line in capsys.readouterr().err.splitlines() if "CONAN" in line]
    assert len(skipped) == 1 and "German" in skipped[0]
    report = json.loads(out.read_text())
    assert report["language"] == "de" and report["external"] == []
    assert report["n_cases"] == len(build_suite("dev", language="de"))


# ---------------------------------------------------------------- the docs' table
def counts_table() -> str:
    """The markdown table of cases per functionality and language (docs/audit.md)."""
    codes = list(LANGUAGES)
    counts = {code: Counter(c.functionality for c in build_suite(language=code)) for code in codes}
    lines = ["| functionality | gold | " + " | ".join(codes) + " |"]
    lines.append("|---|---:|" + "---:|" * len(codes))
    for item in FUNCTIONALITIES:
        cells = [str(counts[code][item.name] or "-") for code in codes]
        lines.append(f"| {item.name} | {item.label_gold} | " + " | ".join(cells) + " |")
    totals = [str(sum(counts[code].values())) for code in codes]
    lines.append("| **total** | | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def test_docs_table_matches_the_suites():
    table = counts_table()
    assert table in DOCS.read_text(encoding="utf-8"), "update docs/audit.md with:\n" + table


if __name__ == "__main__":
    sys.stdout.write(counts_table() + "\n")
