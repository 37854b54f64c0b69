"""The general detector against per-benchmark detectors and TF-IDF, on every test set.

Writes ``benchmarks/results/general-detector.json`` (one row per detector and test set) and
``general-detector.md``, plus ``general-detector-reliability.png``. Run after
``hateproto detector build --recipe general --out DETECTOR`` (whose encodings it reuses)::

    python benchmarks/general_detector.py --detector ~/dets/general \
        --out benchmarks/results/general-detector

Detectors compared (all choices on dev splits; test sets are scored once):

* ``general``: the recipe's detector folder (frozen MiniLM features, logistic regression,
  counterfactual copies, Platt calibration, threshold for the best dev macro-F1);
* ``general-no-augmentation``: the same without counterfactual copies (fairness before/after);
* ``lodo-<d>``: the recipe trained on the five other benchmarks, tested on ``d``;
* ``probe-<d>``: the recipe's model on one benchmark alone (general protocol);
* ``tfidf-<d>`` / ``tfidf-general``: TF-IDF + logistic regression, on one benchmark or the mix.

Test sets: each benchmark's test split under the general protocol, the four HatePrototypes
protocol test splits (``<d>@hateprototypes``: what the paper and the issue's goals quote), and
our functional audit (``audit``; its dev and test halves too).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.audit import build_suite, summarise
from hateproto.data import load_benchmark
from hateproto.data.augment import counterfactual_augment
from hateproto.data.mixture import load_mixture, parse_sources, select_rows
from hateproto.data.types import LabeledTexts
from hateproto.detector import Detector
from hateproto.detector.recipe import GeneralRecipe
from hateproto.evaluation import classification_metrics
from hateproto.evaluation.calibration import (
    ProbabilityCalibrator,
    choose_threshold,
    expected_calibration_error,
    reliability_curve,
)
from hateproto.evaluation.groups import group_fpr
from hateproto.experiments.results import atomic_write_text
from hateproto.provenance import provenance
from hateproto.training import HateClassifier, TrainingConfig
from hateproto.training.features import FeatureStore

HP_TESTS = ("ihc", "olid", "hatexplain", "sbic")


@dataclass
class Fitted:
    """A scorer (texts -> raw hate score) with its calibration and threshold."""

    name: str
    train_sources: str
    raw: Callable[[list[str]], np.ndarray]
    calibrator: ProbabilityCalibrator | None = None
    threshold: float = 0.5

    def calibrate(self, dev: LabeledTexts) -> Fitted:
        raw = self.raw(dev.texts)
        self.calibrator = ProbabilityCalibrator().fit(raw, dev.labels)
        self.threshold = choose_threshold(dev.labels, self.calibrator.transform(raw))["threshold"]
        return self

    def proba(self, texts: list[str]) -> np.ndarray:
        return self.calibrator.transform(self.raw(texts))


def evaluate(fitted: Fitted, test: LabeledTexts, test_name: str) -> dict[str, Any]:
    proba = fitted.proba(test.texts)
    predicted = (proba >= fitted.threshold).astype(int)
    metrics = classification_metrics(test.labels, predicted)
    return {
        "detector": fitted.name,
        "train_sources": fitted.train_sources,
        "test_dataset": test_name,
        "n": len(test),
        "macro_f1": metrics["macro_f1"],
        "accuracy": metrics["accuracy"],
        "ece": expected_calibration_error(test.labels, proba),
        "threshold": fitted.threshold,
        **group_fpr(test, predicted),
    }


def audit_rows(fitted: Fitted) -> list[dict[str, Any]]:
    rows = []
    for split in ("all", "dev", "test"):
        cases = build_suite(split)
        texts = [c.text for c in cases]
        proba = fitted.proba(texts)
        report = summarise(cases, (proba >= fitted.threshold).astype(int), proba)
        gold = np.array([c.label_gold for c in cases])
        rows.append(
            {
                "detector": fitted.name,
                "train_sources": fitted.train_sources,
                "test_dataset": "audit" if split == "all" else f"audit-{split}",
                "n": len(cases),
                "macro_f1": report.macro_f1,
                "accuracy": report.accuracy,
                "ece": expected_calibration_error(gold, proba),
                "fpr_group_spread": report.fpr_spread,
                "audit_passed": report.passed,
                "audit_functionalities": {
                    f.functionality: f.accuracy for f in report.functionalities
                },
                "fpr_per_group": {
                    g.group: {"fpr": g.fpr, "n": g.n_non_hateful} for g in report.groups
                },
            }
        )
    return rows


def probe(store: FeatureStore, train: LabeledTexts, c: float) -> Callable[[list[str]], np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit(store.vectors(train.texts), train.labels)
    return lambda texts: model.predict_proba(store.vectors(texts))[:, 1]


def tfidf(train: LabeledTexts, dev: LabeledTexts) -> Callable[[list[str]], np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x, x_dev = vectorizer.fit_transform(train.texts), None
    x_dev = vectorizer.transform(dev.texts)
    best = None
    for c in (1.0, 4.0, 16.0):  # chosen on dev
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(x, train.labels)
        score = classification_metrics(dev.labels, model.predict(x_dev))["macro_f1"]
        if best is None or score > best[0]:
            best = (score, model)
    model = best[1]
    return lambda texts: model.predict_proba(vectorizer.transform(texts))[:, 1]


def subset(data: LabeledTexts, keep: np.ndarray) -> LabeledTexts:
    return select_rows(data, np.flatnonzero(keep))


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--detector", required=True, help="the recipe's detector folder")
    parser.add_argument("--out", default="benchmarks/results/general-detector")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the Markdown from the JSON only"
    )
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        help="NAME=FOLDER: another detector folder (its own calibration) to score on every test",
    )
    parser.add_argument(
        "--add",
        metavar="NAME=FOLDER",
        help="score one more detector folder (its own calibration) on every test set and the "
        "audit, and add its rows to the existing results file",
    )
    parser.add_argument(
        "--lodo",
        metavar="PREFIX",
        help="with --detector: leave-one-dataset-out rows PREFIX-<d> for that detector's "
        "recipe (its features, C), added to the existing results file",
    )
    args = parser.parse_args()
    start, load_before = time.perf_counter(), os.getloadavg()
    if args.add:
        add_detector(args.add, args.out)
        return
    if args.lodo:
        add_lodo(args.detector, args.lodo, args.out)
        return
    if args.report_only:
        saved = json.loads(Path(f"{args.out}.json").read_text())
        atomic_write_text(f"{args.out}.md", report(saved["rows"], saved["summary"]))
        return
    detector = Detector.from_pretrained(args.detector)
    recipe = recipe_of(detector)
    sources = parse_sources(recipe.data)
    mixture = load_mixture(sources, recipe.data_dir, recipe.seed, recipe.max_dev_per_source)
    source_of = lambda d: d.metadata["source"].to_numpy()  # noqa: E731
    tests = {name: data for name, data in mixture.tests.items()}
    tests.update(
        {f"{n}@hateprototypes": load_benchmark(n, "test", "hateprototypes") for n in HP_TESTS}
    )
    store = recipe_store(recipe)
    c = detector.metadata["training"]["chosen_C"]
    augmented = counterfactual_augment(mixture.train, recipe.counterfactual_copies, recipe.seed)

    det_raw = _raw_scorer(detector)
    extras: list[Fitted] = []
    for item in args.extra:
        name, _, folder = item.partition("=")
        other = Detector.from_pretrained(folder)
        extra_recipe = other.metadata.get("recipe", {})
        fitted_extra = Fitted(
            name,
            extra_recipe.get("data", "?"),
            _raw_scorer(other),
            other.calibration.calibrator,
            other.calibration.threshold,
        )
        extras.append(fitted_extra)
    general = Fitted(
        "general",
        recipe.data,
        det_raw,
        detector.calibration.calibrator,
        detector.calibration.threshold,
    )
    fitted = [general, *extras]
    fitted.append(
        Fitted("general-no-augmentation", recipe.data, probe(store, mixture.train, c)).calibrate(
            mixture.dev
        )
    )
    fitted.append(
        Fitted("tfidf-general", recipe.data, tfidf(augmented, mixture.dev)).calibrate(mixture.dev)
    )
    names = [s.name for s in sources]
    for name in names:
        rest = ",".join(s.name for s in sources if s.name != name)
        keep, keep_dev = source_of(augmented) != name, source_of(mixture.dev) != name
        dev = subset(mixture.dev, keep_dev)
        fitted.append(
            Fitted(f"lodo-{name}", rest, probe(store, subset(augmented, keep), c)).calibrate(dev)
        )
        one_train = subset(mixture.train, source_of(mixture.train) == name)
        one_dev = subset(mixture.dev, ~keep_dev)
        fitted.append(Fitted(f"probe-{name}", name, probe(store, one_train, c)).calibrate(one_dev))
        fitted.append(Fitted(f"tfidf-{name}", name, tfidf(one_train, one_dev)).calibrate(one_dev))
    rows = []
    for model in fitted:
        for test_name, test in tests.items():
            base = test_name.split("@")[0]
            if model.name.startswith("lodo-") and model.name != f"lodo-{base}":
                continue  # leave-one-out rows: only the held-out benchmark
            rows.append(evaluate(model, test, test_name))
        if not model.name.startswith(("lodo-", "tfidf-")) or model.name == "tfidf-general":
            rows += audit_rows(model)
        print(f"{model.name}: done ({time.perf_counter() - start:.0f} s)", flush=True)
    record = provenance(dtype=recipe.dtype)
    rows = [{**row, "provenance": record} for row in rows] + committed_rows()
    dev_proba = general.proba(mixture.dev.texts)
    summary = {
        "detector_folder": str(args.detector),
        "recipe": recipe.model_dump(mode="json"),
        "mixture": mixture.report,
        "general_dev_reliability": reliability_curve(mixture.dev.labels, dev_proba),
        "seconds": time.perf_counter() - start,
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
    }
    atomic_write_text(f"{args.out}.json", json.dumps({"summary": summary, "rows": rows}, indent=1))
    atomic_write_text(f"{args.out}.md", report(rows, summary))
    reliability_figure(mixture, tests, general, f"{args.out}-reliability.png")
    print(f"wrote {args.out}.json/.md in {time.perf_counter() - start:.0f} s")


def recipe_of(detector: Detector) -> GeneralRecipe:
    """The recipe a detector was built with (recipes recorded before ``pool_layers`` existed
    pooled the last layer only)."""
    return GeneralRecipe.from_dict(
        {"pool_layers": None, **detector.metadata["recipe"]}, source="detector"
    )


def recipe_store(recipe: GeneralRecipe) -> FeatureStore:
    """The feature cache of the recipe's frozen model (same pooling, layers and length)."""
    config = TrainingConfig(
        backbone=recipe.model,
        mode="probe",
        dtype=recipe.dtype,
        max_length=recipe.max_length,
        pool_layers=recipe.pool_layers,
        show_progress=False,
    )
    return FeatureStore(HateClassifier.from_config(config))


def add_detector(item: str, out: str) -> None:
    """Score the detector folder of ``NAME=FOLDER`` on the general-protocol test splits of its
    recipe's sources, the papers' protocol test splits and the audit; replace its rows in
    ``out.json`` and rewrite ``out.md``."""
    name, _, folder = item.partition("=")
    start, load_before = time.perf_counter(), os.getloadavg()
    detector = Detector.from_pretrained(folder)
    recipe = recipe_of(detector)
    mixture = load_mixture(
        parse_sources(recipe.data), recipe.data_dir, recipe.seed, recipe.max_dev_per_source
    )
    tests = dict(mixture.tests)
    tests.update(
        {f"{n}@hateprototypes": load_benchmark(n, "test", "hateprototypes") for n in HP_TESTS}
    )
    fitted = Fitted(
        name,
        recipe.data,
        _raw_scorer(detector),
        detector.calibration.calibrator,
        detector.calibration.threshold,
    )
    record = provenance(dtype=recipe.dtype)
    rows = [evaluate(fitted, test, test_name) for test_name, test in tests.items()]
    rows = [{**row, "provenance": record} for row in rows + audit_rows(fitted)]
    saved = json.loads(Path(f"{out}.json").read_text())
    saved["rows"] = [r for r in saved["rows"] if r["detector"] != name] + rows
    saved["summary"].setdefault("added", {})[name] = {
        "detector_folder": folder,
        "recipe": recipe.model_dump(mode="json"),
        "seconds": time.perf_counter() - start,
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
    }
    atomic_write_text(f"{out}.json", json.dumps(saved, indent=1))
    atomic_write_text(f"{out}.md", report(saved["rows"], saved["summary"]))
    print(f"added {len(rows)} rows for {name} in {time.perf_counter() - start:.0f} s")


def add_lodo(folder: str, prefix: str, out: str) -> None:
    """Leave-one-dataset-out rows ``PREFIX-<d>`` for the recipe of the detector in ``folder``:
    its probe (same features and C), trained and calibrated on the other five sources, tested
    on the held-out one; replace those rows in ``out.json`` and rewrite ``out.md``."""
    start, load_before = time.perf_counter(), os.getloadavg()
    detector = Detector.from_pretrained(folder)
    recipe = recipe_of(detector)
    sources = parse_sources(recipe.data)
    mixture = load_mixture(sources, recipe.data_dir, recipe.seed, recipe.max_dev_per_source)
    store = recipe_store(recipe)
    c = detector.metadata["training"]["chosen_C"]
    augmented = counterfactual_augment(mixture.train, recipe.counterfactual_copies, recipe.seed)
    source_of = lambda d: d.metadata["source"].to_numpy()  # noqa: E731
    record, rows = provenance(dtype=recipe.dtype), []
    for source in sources:
        name = source.name
        rest = ",".join(s.name for s in sources if s.name != name)
        train = subset(augmented, source_of(augmented) != name)
        dev = subset(mixture.dev, source_of(mixture.dev) != name)
        fitted = Fitted(f"{prefix}-{name}", rest, probe(store, train, c)).calibrate(dev)
        rows.append({**evaluate(fitted, mixture.tests[name], name), "provenance": record})
        print(f"{prefix}-{name}: {rows[-1]['macro_f1']:.4f} ({time.perf_counter() - start:.0f} s)")
    saved = json.loads(Path(f"{out}.json").read_text())
    names = {r["detector"] for r in rows}
    saved["rows"] = [r for r in saved["rows"] if r["detector"] not in names] + rows
    saved["summary"].setdefault("added", {})[prefix] = {
        "detector_folder": folder,
        "seconds": time.perf_counter() - start,
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
    }
    atomic_write_text(f"{out}.json", json.dumps(saved, indent=1))
    atomic_write_text(f"{out}.md", report(saved["rows"], saved["summary"]))


COMMITTED = "benchmarks/results/cross-dataset-hateprototypes-minilm.json"


def committed_rows() -> list[dict[str, Any]]:
    """The per-benchmark fine-tuned MiniLM detectors of benchmarks/training.md, as that
    committed file reports them (mean over its seeds; 2,000 training examples, test sets
    capped at 1,000): not re-measured here, marked with ``source_file``."""
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in json.loads(Path(COMMITTED).read_text()):
        cells.setdefault((row["train_dataset"], row["test_dataset"]), []).append(row)
    out = []
    for (train, test), rows in sorted(cells.items()):
        out.append(
            {
                "detector": f"finetuned-{train} (training.md)",
                "train_sources": train,
                "test_dataset": f"{test}@hateprototypes",
                "n": rows[0]["n_test"],
                "macro_f1": float(np.mean([r["macro_f1"] for r in rows])),
                "accuracy": float(np.mean([r["accuracy"] for r in rows])),
                "ece": None,
                "seeds": len(rows),
                "source_file": COMMITTED,
            }
        )
    return out


def _raw_scorer(detector: Detector) -> Callable[[list[str]], np.ndarray]:
    """The detector's uncalibrated hate score (its calibration is applied by ``Fitted``)."""

    def raw(texts: list[str]) -> np.ndarray:
        previous, detector.calibration = detector.calibration, None
        try:
            return detector.score_arrays(texts).proba[:, 1]
        finally:
            detector.calibration = previous

    return raw


TESTS = ("ihc", "olid", "hatexplain", "sbic", "dynahate", "toxigen")


def _cell(rows: list[dict[str, Any]], detector: str, test: str, key: str = "macro_f1") -> str:
    for row in rows:
        if row["detector"] == detector and row["test_dataset"] == test:
            value = row.get(key)
            return "" if value is None else f"{100 * value:.1f}"
    return ""


def _matrix(rows: list[dict[str, Any]], detectors: list[str], tests: list[str], key: str) -> str:
    lines = ["| detector | " + " | ".join(tests) + " |", "|---" * (len(tests) + 1) + "|"]
    for det in detectors:
        lines.append(f"| {det} | " + " | ".join(_cell(rows, det, t, key) for t in tests) + " |")
    return "\n".join(lines)


def report(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """The Markdown tables the write-up quotes, all from ``rows``."""
    names = list(dict.fromkeys(row["detector"] for row in rows))
    main = [n for n in names if n.startswith(("general", "tfidf-general"))]
    general_tests = list(TESTS)
    hp_tests = [f"{t}@hateprototypes" for t in ("ihc", "olid", "hatexplain", "sbic")]
    per_benchmark = [n for n in names if n.startswith(("probe-", "tfidf-", "finetuned-"))]
    per_benchmark = [n for n in per_benchmark if n != "tfidf-general"]
    prefixes = sorted({n.rsplit("-", 1)[0] for n in names if n.startswith("lodo")})
    groups_rows = [
        "| detector | test | neutral posts naming a group | FPR | per-group FPR |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        if row["detector"] in main and row.get("fpr_per_group") and "@" not in row["test_dataset"]:
            per = ", ".join(
                f"{g} {100 * v['fpr']:.0f}"
                for g, v in row["fpr_per_group"].items()
                if v.get("fpr") is not None
            )
            overall = row.get("fpr_identity_neutral")
            groups_rows.append(
                f"| {row['detector']} | {row['test_dataset']} | {row.get('n_identity_neutral', '')}"
                f" | {'' if overall is None else f'{100 * overall:.1f}'} | {per} |"
            )
    audit = [r for r in rows if r["test_dataset"] == "audit" and r["detector"] in main]
    functionalities = sorted({f for r in audit for f in r.get("audit_functionalities", {})})
    audit_lines = [
        "| functionality | " + " | ".join(r["detector"] for r in audit) + " |",
        "|---" * (len(audit) + 1) + "|",
    ]
    for f in functionalities:
        audit_lines.append(
            f"| {f} | "
            + " | ".join(f"{100 * r['audit_functionalities'][f]:.0f}" for r in audit)
            + " |"
        )
    return (
        "\n\n".join(
            [
                "# General detector: every detector on every test set",
                "Written by `benchmarks/general_detector.py` from `general-detector.json`; the "
                "write-up is `benchmarks/general-detector.md`. Macro-F1 in points. Machine load "
                f"before/after: {summary['loadavg_before']} / {summary['loadavg_after']}.",
                "## Test splits, general protocol (macro-F1)",
                _matrix(
                    rows, main, [*general_tests, "audit", "audit-dev", "audit-test"], "macro_f1"
                ),
                "## Expected calibration error (points)",
                _matrix(rows, main, [*general_tests, *hp_tests, "audit"], "ece"),
                "## Papers' protocol test splits (macro-F1)",
                _matrix(rows, main + per_benchmark, hp_tests, "macro_f1"),
                "## Per-benchmark detectors on the general-protocol test splits (macro-F1)",
                _matrix(
                    rows,
                    [n for n in per_benchmark if not n.startswith("finetuned")],
                    general_tests,
                    "macro_f1",
                ),
                "## Leave one dataset out (train on the other five, test on the sixth)",
                _lodo_table(rows, prefixes),
                "## False-positive rate on non-hateful posts naming a group (groups with >= 20 "
                "such posts)",
                "\n".join(groups_rows),
                "## Functional audit: accuracy per functionality (%)",
                "\n".join(audit_lines),
            ]
        )
        + "\n"
    )


def _lodo_table(rows: list[dict[str, Any]], prefixes: list[str]) -> str:
    """One line per leave-one-out family (``lodo``: last-layer probe, ``lodo6``: six layers)."""
    lines = [f"| rows | {' | '.join(TESTS)} | mean |", "|---" * (len(TESTS) + 2) + "|"]
    for prefix in prefixes:
        cells = [_cell(rows, f"{prefix}-{t}", t) for t in TESTS]
        values = [float(v) for v in cells if v]
        mean = f"{sum(values) / len(values):.1f}" if values else ""
        lines.append(f"| {prefix}-* | {' | '.join(cells)} | {mean} |")
    return "\n".join(lines)


def reliability_figure(mixture, tests, general: Fitted, path: str) -> None:  # noqa: ANN001
    from hateproto.optional import require

    matplotlib = require("matplotlib", extra="plots", purpose="figures")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hateproto.experiments.results import save_figure

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect")
    for name, data in [("dev (mixture)", mixture.dev), *tests.items()]:
        if "@" in name:
            continue
        curve = reliability_curve(data.labels, general.proba(data.texts))
        ax.plot(
            [r["mean_predicted"] for r in curve],
            [r["observed_rate"] for r in curve],
            marker="o",
            label=name,
        )
    ax.set_xlabel("calibrated hate probability")
    ax.set_ylabel("observed hate rate")
    ax.set_title("General detector: reliability (test splits, general protocol)")
    ax.legend(fontsize=7)
    save_figure(fig, path)


if __name__ == "__main__":
    main()
