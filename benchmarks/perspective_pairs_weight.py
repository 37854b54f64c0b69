"""How much weight our generated minimal pairs get in the attribute heads' data (issue 24),
chosen on dev: each attribute's dev ROC AUC, and on the audit's dev half the share of
non-hateful identity cases flagged (mean and spread over groups) and of hateful cases caught.

Usage:
    .venv/bin/python benchmarks/perspective_pairs_weight.py DETECTOR_DIR --repeats 4 12 \
        --out benchmarks/results/perspective-pairs-weight.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from hateproto.audit import IDENTITY_FUNCTIONALITIES, build_suite
from hateproto.data.mixture import load_mixture, parse_sources
from hateproto.detector import Detector
from hateproto.detector.recipe import GeneralRecipe, attribute_heads

ATTRIBUTES = ["TOXICITY", "SEVERE_TOXICITY", "INSULT"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("detector")
    parser.add_argument("--repeats", type=int, nargs="+", default=[4, 12])
    parser.add_argument("--out", default="benchmarks/results/perspective-pairs-weight.json")
    args = parser.parse_args()
    recipe = GeneralRecipe.default("perspective")
    mixture = load_mixture(
        parse_sources(recipe.data),
        None,
        recipe.seed,
        recipe.max_dev_per_source,
        protocol=recipe.protocol,
    )
    detector = Detector.from_pretrained(args.detector)
    cases = build_suite("dev")
    calm = [c for c in cases if c.functionality in IDENTITY_FUNCTIONALITIES and c.label_gold == 0]
    hateful = [c for c in cases if c.label_gold == 1]
    rows = {}
    for repeat in args.repeats:
        chosen = recipe.model_copy(
            update={"attributes": ATTRIBUTES, "attribute_repeats": {"contrast_pairs": repeat}}
        )
        detector.attribute_heads = attribute_heads(detector, mixture.train, chosen)
        calm_scores = detector.score_arrays([c.text for c in calm]).attributes
        hate_scores = detector.score_arrays([c.text for c in hateful]).attributes
        per_attribute = {}
        for record in detector.attribute_heads.records:
            flagged = calm_scores[record.name] >= record.threshold
            groups = sorted({c.target_group for c in calm})
            rates = {
                g: 100 * float(flagged[[c.target_group == g for c in calm]].mean()) for g in groups
            }
            per_attribute[record.name] = {
                "dev_roc_auc": round(record.dev["dev_roc_auc"], 4),
                "audit_dev_identity_flagged_pct": round(100 * float(flagged.mean()), 1),
                "audit_dev_identity_group_spread": round(
                    max(rates.values()) - min(rates.values()), 1
                ),
                "audit_dev_hateful_caught_pct": round(
                    100 * float((hate_scores[record.name] >= record.threshold).mean()), 1
                ),
            }
        rows[f"contrast_pairs x{repeat}"] = per_attribute
        print(repeat, json.dumps(per_attribute))
    report = {
        "command": "python " + " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "audit_dev_cases": {"identity_not_hateful": len(calm), "hateful": len(hateful)},
        "results": rows,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
