"""Which head for the Perspective attributes (issue 24): logistic regression or the hate
head's two-layer kind, chosen on dev ROC AUC (test splits are not read).

Features: the pooled six-layer MiniLM features of the perspective recipe's classifier (group
directions not projected, the same for both), from the feature cache.

Usage:
    .venv/bin/python benchmarks/perspective_head_choice.py CHECKPOINT_OR_DETECTOR \
        --out benchmarks/results/perspective-head-choice.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from hateproto.data.attributes import ATTRIBUTE_DATA, load_attribute
from hateproto.data.spelling import normalizer
from hateproto.detector import Detector
from hateproto.detector.attribute_fit import fit_two_layer_head
from hateproto.detector.attributes import AttributeHeads, HeadRecord
from hateproto.detector.recipe import GeneralRecipe
from hateproto.training.features import FeatureStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("detector", help="a detector folder built by --recipe perspective")
    parser.add_argument("--out", default="benchmarks/results/perspective-head-choice.json")
    args = parser.parse_args()
    recipe = GeneralRecipe.default("perspective")
    store = FeatureStore(Detector.from_pretrained(args.detector).classifier)
    prepare = normalizer(recipe.normalize)
    rows = {}
    for name in ATTRIBUTE_DATA:
        cap = recipe.attribute_max_per_source
        train, dev = (load_attribute(name, s, None, cap, recipe.seed) for s in ("train", "dev"))
        x_train = store.vectors([prepare(t) for t in train.texts])
        x_dev = store.vectors([prepare(t) for t in dev.texts])
        logistic = {}
        for c in recipe.regularization:
            model = LogisticRegression(C=c, max_iter=1000, class_weight="balanced").fit(
                x_train, train.labels
            )
            logistic[str(c)] = round(roc_auc_score(dev.labels, model.decision_function(x_dev)), 4)
        tensors, facts = fit_two_layer_head(
            x_train, train.labels, x_dev, dev.labels, recipe.probe_hidden, recipe.probe_epochs, 0
        )
        heads = AttributeHeads([HeadRecord(name=name)], {k: v[None] for k, v in tensors.items()})
        mlp = round(roc_auc_score(dev.labels, heads.score(x_dev, 0)), 4)
        rows[name] = {
            "n_train": len(train),
            "n_dev": len(dev),
            "dev_roc_auc_logistic_per_C": logistic,
            "dev_roc_auc_two_layer": mlp,
            "two_layer_best_epoch": facts["best_epoch"],
        }
        print(name, rows[name])
    report = {
        "command": "python " + " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "features": "pooled six-layer MiniLM (bf16), the perspective recipe's classifier",
        "attributes": rows,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
