"""Issue 23: where to put a detector's decision threshold, judged on dev data only.

For each threshold: hateful cases caught and non-hateful cases passed on the audit's **dev**
half, the mean macro-F1 over the six benchmarks' dev splits, and the recall on the recipe's
whole dev split (the number ``target_recall`` in a recipe config refers to). Writes
``--out`` (JSON)::

    python benchmarks/threshold_sweep.py --detector ~/dets/t5 \
        --out benchmarks/results/threshold-sweep-t5.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from hateproto.audit import build_suite
from hateproto.data.benchmarks import BENCHMARKS
from hateproto.data.mixture import load_mixture, parse_sources
from hateproto.detector import Detector
from hateproto.detector.recipe import GeneralRecipe
from hateproto.evaluation import classification_metrics
from hateproto.experiments.results import atomic_write_text
from hateproto.provenance import provenance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--detector", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    detector = Detector.from_pretrained(Path(args.detector).expanduser())
    recipe = GeneralRecipe.from_dict(detector.metadata["recipe"], source="recipe")
    cases = build_suite("dev")
    gold = np.array([c.label_gold for c in cases])
    audit = detector.score_arrays([c.text for c in cases]).proba[:, 1]
    mixture = load_mixture(parse_sources(recipe.data), None, recipe.seed, recipe.max_dev_per_source)
    dev = mixture.dev
    proba = detector.score_arrays(dev.texts).proba[:, 1]
    source = dev.metadata["source"].to_numpy()
    rows = []
    for threshold in np.round(np.arange(0.20, 0.56, 0.025), 3):
        flags, dev_flags = audit >= threshold, proba >= threshold
        bench = [
            classification_metrics(dev.labels[source == b], dev_flags[source == b])["macro_f1"]
            for b in BENCHMARKS
        ]
        rows.append(
            {
                "threshold": float(threshold),
                "audit_dev_hate_caught": float(flags[gold == 1].mean()),
                "audit_dev_nonhate_passed": float(1 - flags[gold == 0].mean()),
                "benchmark_dev_mean_macro_f1": float(np.mean(bench)),
                "recipe_dev_recall": float(dev_flags[dev.labels == 1].mean()),
                "recipe_dev_macro_f1": classification_metrics(dev.labels, dev_flags)["macro_f1"],
            }
        )
        print(json.dumps({k: round(v, 3) for k, v in rows[-1].items()}), flush=True)
    record = {"detector": args.detector, "calibrated_threshold": detector.calibration.threshold}
    out = {"rows": rows, **record, "provenance": provenance()}
    atomic_write_text(args.out, json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
