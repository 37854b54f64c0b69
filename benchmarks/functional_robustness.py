"""Issue 23: does a detector spare the people hate targets? Per contrast functionality and per
group, before and after, with a TF-IDF baseline on the same data.

Writes ``benchmarks/results/functional-robustness.json`` with rows

* ``{detector, split, functionality, n, accuracy}``: every functionality of our audit on its
  dev and test halves (template-disjoint), and ``counter_speech_conan`` on CONAN's held-out
  test split (counter-speech written by NGO operators, all non-hateful);
* ``{detector, split, group, n, fpr}``: false-positive rate per group on the audit halves
  (the contrast functionalities, same templates for every group), on CONAN's counter-speech
  test split (by target) and on every benchmark test split with group labels (non-hateful
  posts that name a group; groups with >= 20 such posts);

and a Markdown summary beside it. Every row carries provenance. Usage::

    python benchmarks/functional_robustness.py --detector before=~/dets/general-before \
        --detector after=~/dets/general --tfidf-recipe after

Test halves and test splits are scored once, after every choice was made on dev data.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.audit import build_suite
from hateproto.audit.suite import FPR_FUNCTIONALITIES, functionality
from hateproto.data.contrast_sources import load_conan
from hateproto.data.mixture import load_mixture, parse_sources
from hateproto.data.types import LabeledTexts
from hateproto.detector import Detector
from hateproto.detector.recipe import GeneralRecipe
from hateproto.evaluation.calibration import ProbabilityCalibrator, choose_threshold
from hateproto.evaluation.groups import group_fpr
from hateproto.experiments.results import atomic_write_text
from hateproto.provenance import provenance

Labeller = Callable[[list[str]], np.ndarray]
GROUP_TESTS = ("hatexplain", "sbic", "toxigen", "dynahate", "ihc")


def detector_labeller(folder: str) -> tuple[Labeller, dict[str, Any]]:
    """Labels from a detector folder at its own calibrated threshold, and its recipe."""
    detector = Detector.from_pretrained(Path(folder).expanduser())
    return (lambda texts: detector.score_arrays(texts).labels), detector.metadata.get("recipe", {})


def tfidf_labeller(recipe: dict[str, Any]) -> Labeller:
    """TF-IDF (word 1-2 grams) + logistic regression on the recipe's training mixture, C and
    threshold chosen on its dev split (Platt-calibrated, best dev macro-F1)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    settings = GeneralRecipe.from_dict(recipe, source="recipe")
    mixture = load_mixture(
        parse_sources(settings.data), settings.data_dir, settings.seed, settings.max_dev_per_source
    )
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x, x_dev = vectorizer.fit_transform(mixture.train.texts), None
    x_dev = vectorizer.transform(mixture.dev.texts)
    best: tuple[float, Any] | None = None
    for c in (1.0, 4.0, 16.0):
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        model.fit(x, mixture.train.labels)
        score = f1_score(mixture.dev.labels, model.predict(x_dev), average="macro")
        if best is None or score > best[0]:
            best = (score, model)
    assert best is not None
    model = best[1]
    raw_dev = model.predict_proba(x_dev)[:, 1]
    calibrator = ProbabilityCalibrator().fit(raw_dev, mixture.dev.labels)
    threshold = choose_threshold(mixture.dev.labels, calibrator.transform(raw_dev))["threshold"]

    def label(texts: list[str]) -> np.ndarray:
        raw = model.predict_proba(vectorizer.transform(texts))[:, 1]
        return (calibrator.transform(raw) >= threshold).astype(int)

    return label


def audit_rows(name: str, label: Labeller) -> list[dict[str, Any]]:
    """Accuracy per functionality and FPR per group on the audit's dev and test halves."""
    rows: list[dict[str, Any]] = []
    for split in ("dev", "test"):
        cases = build_suite(split)
        predicted = label([c.text for c in cases])
        functionalities = sorted({c.functionality for c in cases})
        for func in functionalities:
            hits = [
                int(p == c.label_gold)
                for c, p in zip(cases, predicted, strict=True)
                if c.functionality == func
            ]
            rows.append(_functionality_row(name, f"audit-{split}", func, hits))
        by_group: dict[str, list[int]] = {}
        for case, p in zip(cases, predicted, strict=True):
            if case.functionality in FPR_FUNCTIONALITIES and case.target_group:
                by_group.setdefault(case.target_group, []).append(int(p))
        rows += [
            {"detector": name, "split": f"audit-{split}", "group": g, "n": len(f), "fpr": mean(f)}
            for g, f in sorted(by_group.items())
        ]
    return rows


def conan_rows(name: str, label: Labeller, conan: LabeledTexts) -> list[dict[str, Any]]:
    """Counter-speech from CONAN's test split: share passed, FPR overall and per target."""
    predicted = label(conan.texts)
    rows = [_functionality_row(name, "conan-test", "counter_speech_conan", 1 - predicted)]
    rows.append(
        {
            "detector": name,
            "split": "conan-test",
            "group": "all",
            "n": len(predicted),
            "fpr": mean(predicted),
        }
    )
    rows += _group_rows(name, "conan-test", conan, predicted)
    return rows


def benchmark_rows(
    name: str, label: Labeller, tests: dict[str, LabeledTexts]
) -> list[dict[str, Any]]:
    """FPR per group on the non-hateful posts of every benchmark test split with groups."""
    rows = []
    for test_name, test in tests.items():
        rows += _group_rows(name, f"{test_name}-test", test, label(test.texts))
    return rows


def _group_rows(
    name: str, split: str, data: LabeledTexts, predicted: np.ndarray
) -> list[dict[str, Any]]:
    rates = group_fpr(data, predicted)
    return [
        {"detector": name, "split": split, "group": g, "n": v["n"], "fpr": v["fpr"]}
        for g, v in rates.get("fpr_per_group", {}).items()
    ]


def _functionality_row(name: str, split: str, functionality: str, hits: Any) -> dict[str, Any]:
    return {
        "detector": name,
        "split": split,
        "functionality": functionality,
        "n": len(hits),
        "accuracy": mean(hits),
    }


def mean(values: Any) -> float:
    """The mean of ``values`` as a float."""
    return float(np.mean(np.asarray(values, dtype=float)))


def report(rows: list[dict[str, Any]]) -> str:
    """A Markdown summary: functionalities (test half) and group FPR spreads per split."""
    names = list(dict.fromkeys(r["detector"] for r in rows))
    lines = [
        "# Functional robustness (issue 23)",
        "",
        "Written by `benchmarks/functional_robustness.py` from `functional-robustness.json`.",
        "",
    ]
    for split in ("audit-dev", "audit-test", "conan-test"):
        funcs = sorted(
            {r["functionality"] for r in rows if r.get("split") == split and "functionality" in r}
        )
        if not funcs:
            continue
        lines += [
            f"## Accuracy per functionality, {split} (%)",
            "",
            "| functionality | n | " + " | ".join(names) + " |",
            "|---|---|" + "---|" * len(names),
        ]
        for func in funcs:
            cells, n = [], ""
            for name in names:
                hit = [
                    r
                    for r in rows
                    if r["detector"] == name
                    and r.get("split") == split
                    and r.get("functionality") == func
                ]
                cells.append(f"{100 * hit[0]['accuracy']:.1f}" if hit else "")
                n = str(hit[0]["n"]) if hit else n
            lines.append(f"| {func} | {n} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += caught_and_passed(rows, names)
    lines += [
        "## False-positive rate per group (%), and the spread (max - min)",
        "",
        "| split | detector | spread | per group |",
        "|---|---|---|---|",
    ]
    splits = list(dict.fromkeys(r["split"] for r in rows if "group" in r))
    for split in splits:
        for name in names:
            groups = {
                r["group"]: r
                for r in rows
                if r["detector"] == name
                and r["split"] == split
                and "group" in r
                and r["group"] != "all"
            }
            if not groups:
                continue
            rates = [g["fpr"] for g in groups.values()]
            spread = 100 * (max(rates) - min(rates)) if len(rates) > 1 else float("nan")
            detail = ", ".join(f"{g} {100 * r['fpr']:.0f}" for g, r in groups.items())
            lines.append(f"| {split} | {name} | {spread:.1f} | {detail} |")
    return "\n".join(lines) + "\n"  # fmt: skip


def caught_and_passed(rows: list[dict[str, Any]], names: list[str]) -> list[str]:
    """Markdown lines: hateful cases caught and non-hateful cases passed per audit half."""
    lines = [
        "## Hateful cases caught and non-hateful cases passed (%)",
        "",
        "| split | detector | hateful caught | non-hateful passed | n hateful | n non-hateful |",
        "|---|---|---|---|---|---|",
    ]
    for split in ("audit-dev", "audit-test"):
        for name in names:
            mine = [
                r
                for r in rows
                if r["detector"] == name and r.get("split") == split and "functionality" in r
            ]
            share = {}
            for gold in (1, 0):
                group = [r for r in mine if functionality(r["functionality"]).label_gold == gold]
                n = sum(r["n"] for r in group)
                share[gold] = (sum(r["accuracy"] * r["n"] for r in group) / max(n, 1), n)
            lines.append(
                f"| {split} | {name} | {100 * share[1][0]:.1f} | {100 * share[0][0]:.1f} "
                f"| {share[1][1]} | {share[0][1]} |"
            )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--detector", action="append", default=[], help="NAME=FOLDER")
    parser.add_argument(
        "--tfidf-recipe", help="NAME of a --detector whose recipe data TF-IDF is trained on"
    )
    parser.add_argument("--out", default="benchmarks/results/functional-robustness")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if args.report_only:
        rows = json.loads(Path(f"{args.out}.json").read_text())["rows"]
        atomic_write_text(f"{args.out}.md", report(rows))
        return
    load_before = os.getloadavg()
    labellers: dict[str, Labeller] = {}
    recipes: dict[str, dict[str, Any]] = {}
    for item in args.detector:
        name, _, folder = item.partition("=")
        labellers[name], recipes[name] = detector_labeller(folder)
    if args.tfidf_recipe:
        labellers["tfidf"] = tfidf_labeller(recipes[args.tfidf_recipe])
    sources = parse_sources(",".join(GROUP_TESTS))
    tests = load_mixture(sources, max_dev_per_source=10).tests
    conan = load_conan("test", roles=("counter",))
    rows: list[dict[str, Any]] = []
    for name, label in labellers.items():
        rows += audit_rows(name, label) + conan_rows(name, label, conan)
        rows += benchmark_rows(name, label, tests)
        print(f"{name}: done", flush=True)
    record = {**provenance(), "load_before": load_before, "load_after": os.getloadavg()}
    rows = [{**row, "provenance": record} for row in rows]
    atomic_write_text(f"{args.out}.json", json.dumps({"rows": rows}, indent=1) + "\n")
    atomic_write_text(f"{args.out}.md", report(rows))


if __name__ == "__main__":
    main()
