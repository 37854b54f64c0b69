"""Per-language figures of hateproto's detectors (issue 25), test splits scored once.

For each detector given (``NAME=DIR``) and each test set: macro-F1, accuracy, ROC AUC and ECE
at the detector's own threshold (chosen on dev), and the false positive rate per target
group where the set names groups. Test sets:

* German: GermEval 2018 test, coarse task (OFFENSE vs OTHER, scored by the TOXICITY head
  where the detector has one, else by the hate probability) and the identity-abuse reading
  (ABUSE vs the rest, hate probability);
* French and Arabic: MLMA's held-out split (hash 80/10/10), the hate rule of
  ``hateproto.data.multilingual_sources``;
* French and Italian: CONAN's held-out pairs (hate speech vs counter-speech);
* our functional audit's test half in every language it has (``--language``);
* English: the six benchmarks' general-protocol test splits, and CONAN.

``routed_by_gold_language`` rows score each set with the detector that ``--route`` names for
its gold language; a detector folder written by ``hateproto detector route`` identifies the
language of each post as the service does. ``--split dev`` scores the dev splits (for
choosing settings); and the language identifier's accuracy on a mixed sample of the
test posts (``detectedLanguages``) is reported.

Usage:
    .venv/bin/python benchmarks/multilingual.py \
        --detector multilingual=~/.cache/hateproto/detectors/multilingual \
        --detector english=~/.cache/hateproto/detectors/perspective \
        --detector routed=~/.cache/hateproto/detectors/multilingual-routed \
        --route en=english --route '*=multilingual' \
        --out benchmarks/results/multilingual.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attribute_scores import HATE, HATE_LABEL, attribute_scores, score_threshold  # noqa: E402

from hateproto.audit import build_suite
from hateproto.data.contrast_sources import load_conan
from hateproto.data.general import GENERAL_DATASETS, load_general
from hateproto.data.languages import detect_languages
from hateproto.data.multilingual_sources import load_germeval, load_mlma
from hateproto.detector import Detector
from hateproto.evaluation.calibration import expected_calibration_error

AUDIT_LANGUAGES = ("en", "de", "fr", "es")
ORACLE = "routed_by_gold_language"
"""The rows of ``--route``: each set scored by the detector its gold language is routed to
(the service identifies the language per post instead: pass a routed detector folder as
``--detector`` for that)."""


@dataclass
class TestSet:
    """Posts, gold labels, the score that answers them and where they come from."""

    name: str
    language: str
    texts: list[str]
    labels: np.ndarray
    score: str = "hate"  # "hate" or an attribute name (TOXICITY)
    groups: list[str | None] = field(default_factory=list)
    functionalities: list[str] = field(default_factory=list)
    provenance: str = ""
    training_data: bool = True


def _groups(metadata, n: int) -> list[str | None]:
    if "target" not in metadata:
        return [None] * n
    return [t if isinstance(t, str) and t else None for t in metadata["target"].tolist()]


def _from_data(name: str, language: str, data, provenance: str) -> TestSet:
    """A test set from a loader's ``LabeledTexts`` (texts, labels, target groups)."""
    return TestSet(
        name,
        language,
        data.texts,
        data.labels,
        groups=_groups(data.metadata, len(data)),
        provenance=provenance,
    )


def _audit_sets(languages: tuple[str, ...], split: str) -> list[TestSet]:
    sets = []
    for language in languages:
        try:
            cases = build_suite(split, language=language)
        except Exception as exc:  # a language the audit does not have yet
            print(f"audit {language}: skipped ({exc})", file=sys.stderr)
            continue
        sets.append(
            TestSet(
                f"audit_{language}",
                language,
                [c.text for c in cases],
                np.array([c.label_gold for c in cases]),
                groups=[c.target_group if c.label_gold == 0 else None for c in cases],
                functionalities=[c.functionality for c in cases],
                provenance=f"hateproto functional audit ({language}), {split} half by template",
                training_data=language != "es",
            )
        )
    return sets


def test_sets(audit_languages: tuple[str, ...], split: str = "test") -> list[TestSet]:
    """Every evaluation set of the report (see the module docstring), ``split`` of each:
    ``test`` for the figures reported once, ``dev`` for choosing settings."""
    sets = []
    germeval = load_germeval(split)
    where = "official test" if split == "test" else "dev (10% of train by hash)"
    sets.append(
        TestSet(
            "germeval2018_coarse",
            "de",
            germeval.texts,
            (germeval.metadata["coarse"] == "OFFENSE").to_numpy(np.int64),
            score="TOXICITY",
            provenance=f"GermEval 2018 {where}, coarse OFFENSE vs OTHER",
        )
    )
    sets.append(
        TestSet(
            "germeval2018_abuse",
            "de",
            germeval.texts,
            germeval.labels,
            provenance=f"GermEval 2018 {where}, fine ABUSE vs INSULT/PROFANITY/OTHER",
        )
    )
    for language in ("fr", "ar"):
        sets.append(
            _from_data(
                f"mlma_{language}",
                language,
                load_mlma(language, split),
                f"MLMA {split}: 10% by hash of the normalised text",
            )
        )
    for language in ("fr", "it"):
        sets.append(
            _from_data(
                f"conan_{language}",
                language,
                load_conan(split, language=language),
                f"CONAN pairs {split}: connected components by hash",
            )
        )
    for name in GENERAL_DATASETS:
        sets.append(
            _from_data(name, "en", load_general(name, split), f"general protocol {split} split")
        )
    sets.append(
        _from_data(
            "conan_en",
            "en",
            load_conan(split),
            f"CONAN pairs {split}: connected components by hash",
        )
    )
    return sets + _audit_sets(audit_languages, split)


def _score_name(detector: Detector, wanted: str) -> str:
    """``wanted`` if the detector answers it, else its hate probability."""
    if wanted == "hate" or detector.attribute_heads is None:
        return "hate"
    return wanted if wanted in detector.attribute_heads.answered() else "hate"


def evaluate(
    test: TestSet, proba: np.ndarray, threshold: float, predicted: np.ndarray | None = None
) -> dict:
    """Figures of one detector on one test set: ``predicted`` labels are the detector's own
    decisions where given (per-language thresholds), else ``proba >= threshold``."""
    if predicted is None:
        predicted = (proba >= threshold).astype(int)
    row = {
        "language": test.language,
        "n": len(test.texts),
        "positives": int(test.labels.sum()),
        "threshold": round(float(threshold), 4),
        "macro_f1": round(100 * f1_score(test.labels, predicted, average="macro"), 2),
        "accuracy": round(100 * accuracy_score(test.labels, predicted), 2),
        "roc_auc": round(float(roc_auc_score(test.labels, proba)), 4)
        if 0 < test.labels.sum() < len(test.labels)
        else None,
        "ece": round(expected_calibration_error(test.labels, proba), 4),
        "provenance": test.provenance,
        "language_in_training_data": test.training_data,
    }
    groups = sorted({g for g in test.groups if g})
    if groups:
        fpr = {}
        for group in groups:
            rows = np.array([g == group for g in test.groups]) & (test.labels == 0)
            if rows.sum() >= 5:
                fpr[group] = {"n": int(rows.sum()), "fpr": round(float(predicted[rows].mean()), 4)}
        row["fpr_per_group"] = fpr
    if test.functionalities:
        names = np.array(test.functionalities)
        accuracy = {
            name: round(
                100 * float((predicted[names == name] == test.labels[names == name]).mean()), 1
            )
            for name in sorted(set(test.functionalities))
        }
        row["accuracy_per_functionality"] = accuracy
        row["lowest_functionality"] = min(accuracy.items(), key=lambda item: item[1])
    return row


def language_id(sets: list[TestSet], per_language: int = 200, seed: int = 0) -> dict:
    """``detect_languages`` on a mixed sample of the test posts (``per_language`` each)."""
    rng = random.Random(seed)
    by_language: dict[str, list[str]] = {}
    for test in sets:
        by_language.setdefault(test.language, []).extend(test.texts)
    per = {}
    right_total = n_total = 0
    for language, texts in sorted(by_language.items()):
        sample = rng.sample(sorted(set(texts)), min(per_language, len(set(texts))))
        detected = [detect_languages(text) for text in sample]
        right = sum(1 for d in detected if d and d[0] == language)
        per[language] = {
            "n": len(sample),
            "right": right,
            "accuracy": round(right / len(sample), 4),
        }
        right_total += right
        n_total += len(sample)
    return {"per_language": per, "n": n_total, "accuracy": round(right_total / n_total, 4)}


def _head(test: TestSet, n: int) -> TestSet:
    """Every ``k``-th post of ``test`` so that about ``n`` remain (smoke runs)."""
    step = max(1, len(test.texts) // n)
    rows = list(range(0, len(test.texts), step))[:n]
    return TestSet(
        test.name,
        test.language,
        [test.texts[i] for i in rows],
        test.labels[rows],
        test.score,
        [test.groups[i] for i in rows] if test.groups else [],
        [test.functionalities[i] for i in rows] if test.functionalities else [],
        test.provenance + f" (smoke run: {len(rows)} posts)",
        test.training_data,
    )


def merged_reports(paths: list[Path]) -> dict:
    """The detectors of several results files in one report (names made unique with the
    file's stem where two files use the same one)."""
    detectors: dict[str, dict] = {}
    for path in paths:
        report = json.loads(path.read_text())
        for name, result in report["detectors"].items():
            detectors[f"{path.stem}:{name}" if name in detectors else name] = result
    return {"detectors": detectors}


def mean_non_english(result: dict) -> float:
    """The rule that chose the recipe: mean macro-F1 over the non-English sets."""
    rows = [r["macro_f1"] for r in result["test_sets"].values() if r["language"] != "en"]
    return round(sum(rows) / len(rows), 1)


def markdown_table(report: dict) -> str:
    """The per-language table of a results file: one row per set, macro-F1 (and the lowest
    functionality for audits) per detector, the highest per-group FPR, and the mean over the
    non-English sets."""
    names = list(report["detectors"])
    first = report["detectors"][names[0]]["test_sets"]
    head = "| set | language | n | " + " | ".join(names) + " | highest group FPR |"
    rows = [head, "|" + "---|" * (len(names) + 4)]
    for test_name, row in first.items():
        cells = []
        worst = []
        for name in names:
            entry = report["detectors"][name]["test_sets"].get(test_name)
            if entry is None:
                cells.append("-")
                continue
            cell = f"{entry['macro_f1']:.1f}"
            if "lowest_functionality" in entry:
                functionality, accuracy = entry["lowest_functionality"]
                cell += f" (min {functionality} {accuracy:.0f})"
            cells.append(cell)
            fpr = entry.get("fpr_per_group") or {}
            if fpr:
                group, value = max(fpr.items(), key=lambda item: item[1]["fpr"])
                worst.append(f"{name}: {group} {100 * value['fpr']:.0f}%")
        rows.append(
            f"| {test_name} | {row['language']} | {row['n']} | "
            + " | ".join(cells)
            + f" | {'; '.join(worst) or '-'} |"
        )
    means = " | ".join(f"{mean_non_english(report['detectors'][n]):.1f}" for n in names)
    rows.append(f"| mean of the non-English sets | | | {means} | |")
    return "\n".join(rows)


def fpr_table(report: dict, name: str) -> str:
    """Every group's false positive rate (percent, with its count of non-hateful posts) on
    every set that names groups, for the detector ``name``."""
    rows = [
        "| set | language | false positive rate per group (non-hateful posts) |",
        "|---|---|---|",
    ]
    for test_name, entry in report["detectors"][name]["test_sets"].items():
        fpr = entry.get("fpr_per_group") or {}
        if fpr:
            cells = ", ".join(
                f"{group} {100 * v['fpr']:.0f}% ({v['n']})" for group, v in sorted(fpr.items())
            )
            rows.append(f"| {test_name} | {entry['language']} | {cells} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", action="append", default=[], help="NAME=DIR")
    parser.add_argument(
        "--markdown",
        metavar="RESULTS",
        nargs="+",
        type=Path,
        help="print the table of results files (their detectors side by side) and stop",
    )
    parser.add_argument("--route", action="append", default=[], help="LANG=NAME or *=NAME")
    parser.add_argument("--language", action="append", default=None, help="audit languages")
    parser.add_argument("--out", default="benchmarks/results/multilingual.json")
    parser.add_argument(
        "--split", choices=("dev", "test"), default="test", help="dev: for choosing settings"
    )
    parser.add_argument(
        "--max-per-set", type=int, default=None, help="smoke runs only: the first N posts"
    )
    parser.add_argument("--fpr-of", metavar="NAME", help="with --markdown: NAME's group FPRs")
    args = parser.parse_args()
    if args.markdown:
        missing = [str(path) for path in args.markdown if not path.is_file()]
        if missing:
            parser.error(f"--markdown: no such results file: {', '.join(missing)}")
        report = merged_reports(args.markdown)
        if args.fpr_of and args.fpr_of not in report["detectors"]:
            known = ", ".join(report["detectors"])
            parser.error(f"--fpr-of {args.fpr_of}: not a detector of these files ({known})")
        print(fpr_table(report, args.fpr_of) if args.fpr_of else markdown_table(report))
        return
    if not args.detector:
        parser.error("give at least one --detector NAME=DIR")
    start = time.time()
    detectors = {}
    for item in args.detector:
        name, _, folder = item.partition("=")
        if not name or not folder:
            parser.error(f"--detector {item!r}: expected NAME=DIR")
        if name == ORACLE:
            parser.error(f"--detector {ORACLE}=... : that name is the --route rows' own")
        detectors[name] = Detector.from_pretrained(os.path.expanduser(folder))
    sets = test_sets(tuple(args.language or AUDIT_LANGUAGES), args.split)
    if args.max_per_set:
        sets = [_head(test, args.max_per_set) for test in sets]
    texts = sorted({t for s in sets for t in s.texts})
    results: dict[str, dict] = {}
    for name, detector in detectors.items():
        print(f"scoring {len(texts):,} texts with {name}", file=sys.stderr)
        scores = attribute_scores(detector, texts, batch_size=1024)
        calibration = detector.calibration
        results[name] = {
            "version": detector.facts().version,
            "language_thresholds": None if calibration is None else calibration.language_thresholds,
            "test_sets": {},
        }
        for test in sets:
            score = _score_name(detector, test.score)
            proba = np.array([scores[t][score] for t in test.texts])
            predicted = (
                np.array([scores[t][HATE_LABEL] for t in test.texts]) if score == HATE else None
            )
            threshold = score_threshold(detector, score)
            if predicted is not None and calibration is not None:
                # The threshold the detector applies to posts identified as this language.
                threshold = calibration.thresholds_for([test.language], 1)[0]
            row = evaluate(test, proba, threshold, predicted)
            row["score"] = score
            results[name]["test_sets"][test.name] = row
    routes = dict(item.split("=", 1) for item in args.route)
    if routes:
        routed = {}
        for test in sets:
            chosen = routes.get(test.language, routes.get("*"))
            if chosen in results:
                routed[test.name] = {"detector": chosen, **results[chosen]["test_sets"][test.name]}
        results[ORACLE] = {"routes": routes, "test_sets": routed}
    report = {
        "command": "python " + " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "seconds": round(time.time() - start, 1),
        "split": args.split,
        "protocol": f"{args.split} splits scored at each detector's dev-chosen threshold; "
        "macro-F1 and accuracy in percent; fpr_per_group: share of a group's non-hateful "
        "posts flagged (groups with at least 5)",
        "language_identification": language_id(sets),
        "detectors": results,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for name, result in results.items():
        for test_name, row in result["test_sets"].items():
            print(
                f"{name:12s} {test_name:22s} {row['language']} n={row['n']:5d} "
                f"macro-F1 {row['macro_f1']:5.1f} acc {row['accuracy']:5.1f} ECE {row['ece']:.3f}"
            )
    print("language id", report["language_identification"]["accuracy"])


if __name__ == "__main__":
    main()
