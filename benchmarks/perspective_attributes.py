"""Test figures of a Perspective-attributes detector (issue 24), scored once.

For every attribute the detector answers: its held-out test split (the proxy data of
``hateproto.data.attributes``; IDENTITY_ATTACK: the six benchmarks' test splits under the
general protocol), macro-F1 at the head's own threshold (chosen on dev), ROC AUC, ECE,
threshold, per-source ROC AUC; and the share of the audit's non-hateful identity cases
(identity_neutral, identity_positive; test half) each attribute flags, per group.

Usage:
    .venv/bin/python benchmarks/perspective_attributes.py DETECTOR_DIR \
        --out benchmarks/results/perspective-attributes.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attribute_scores import attribute_scores, score_threshold  # noqa: E402

from hateproto.audit import IDENTITY_FUNCTIONALITIES, build_suite
from hateproto.data.attributes import ATTRIBUTE_DATA, load_attribute
from hateproto.data.general import GENERAL_DATASETS, load_general
from hateproto.data.mixture import concat
from hateproto.detector import Detector
from hateproto.evaluation.calibration import expected_calibration_error


def _test_sets(attributes: tuple[str, ...]) -> dict:
    sets = {}
    for name in attributes:
        if name == "IDENTITY_ATTACK":
            parts = [load_general(b, "test") for b in GENERAL_DATASETS]
            for part in parts:
                part.metadata["source"] = part.name
            sets[name] = concat(parts, "IDENTITY_ATTACK", "test")
        elif name in ATTRIBUTE_DATA:
            sets[name] = load_attribute(name, "test")
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("detector")
    parser.add_argument("--out", default="benchmarks/results/perspective-attributes.json")
    args = parser.parse_args()
    start = time.time()
    detector = Detector.from_pretrained(args.detector)
    attributes = detector.facts().attributes
    sets = _test_sets(attributes)
    audit = [
        case
        for case in build_suite("test")
        if case.functionality in IDENTITY_FUNCTIONALITIES and case.label_gold == 0
    ]
    texts = [t for data in sets.values() for t in data.texts] + [c.text for c in audit]
    scores = attribute_scores(detector, texts)
    results = {}
    for name, data in sets.items():
        proba = np.array([scores[t][name] for t in data.texts])
        threshold = score_threshold(detector, name)
        predicted = (proba >= threshold).astype(int)
        sources = data.metadata["source"].astype(str).to_numpy()
        per_source = {}
        for source in sorted(set(sources)):
            rows = sources == source
            labels = data.labels[rows]
            per_source[source] = {
                "n": int(rows.sum()),
                "positives": int(labels.sum()),
                "roc_auc": float(roc_auc_score(labels, proba[rows]))
                if 0 < labels.sum() < len(labels)
                else None,
                "flagged": float(predicted[rows].mean()),
            }
        audit_proba = np.array([scores[c.text][name] for c in audit])
        groups = {}
        for group in sorted({c.target_group for c in audit if c.target_group}):
            rows = np.array([c.target_group == group for c in audit])
            groups[group] = round(100 * float((audit_proba[rows] >= threshold).mean()), 1)
        results[name] = {
            "test_sets": sorted(set(sources)),
            "n": len(data),
            "positives": int(data.labels.sum()),
            "threshold": threshold,
            "macro_f1": round(100 * f1_score(data.labels, predicted, average="macro"), 2),
            "roc_auc": round(float(roc_auc_score(data.labels, proba)), 4),
            "ece": round(expected_calibration_error(data.labels, proba), 4),
            "per_source": per_source,
            "audit_identity_cases_flagged_pct_per_group": groups,
            "audit_group_fpr_spread_points": round(max(groups.values()) - min(groups.values()), 1),
            "audit_identity_cases": len(audit),
        }
    report = {
        "command": "python " + " ".join(sys.argv),
        "detector": detector.facts().version,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "seconds": round(time.time() - start, 1),
        "protocol": "each attribute's test split (hateproto.data.attributes; IDENTITY_ATTACK: "
        "the six benchmarks' general-protocol test splits), scored once; thresholds, "
        "calibration and C chosen on dev; audit: identity_neutral and identity_positive "
        "cases of the test half (all not hateful), share at or above each threshold",
        "attributes": results,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for name, row in results.items():
        print(
            f"{name:16s} n={row['n']:6d} macro-F1 {row['macro_f1']:5.1f} AUC {row['roc_auc']:.3f}"
            f" ECE {row['ece']:.3f} thr {row['threshold']:.3f}"
            f" group spread {row['audit_group_fpr_spread_points']:.0f}"
        )


if __name__ == "__main__":
    main()
