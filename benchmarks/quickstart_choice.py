"""How the quickstart recipe's settings were chosen: on IHC's dev split, reported once on test.

The quickstart detector (``hateproto/configs/quickstart.yaml``) is a logistic-regression probe
on frozen MiniLM. This script encodes IHC (hateprototypes protocol; the recipe's leak-free
train/dev split, with and without the recipe's group-swapped copies) once with every layer
pooled, then fits the probe on column slices: the last layer alone, the upper layers, all
layers, each for several regularisation strengths ``C``. Every choice is made by dev macro-F1;
the test split is scored once, for the configuration chosen on dev, and TF-IDF + logistic
regression (its ``C`` also chosen on dev) is the floor to beat.

    python benchmarks/quickstart_choice.py --out benchmarks/results/quickstart-choice
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np

from hateproto.data.augment import counterfactual_augment
from hateproto.data.mixture import load_mixture, parse_sources
from hateproto.detector.recipe import GeneralRecipe
from hateproto.evaluation import classification_metrics
from hateproto.experiments.results import markdown_table
from hateproto.outputs import atomic_write_text
from hateproto.provenance import provenance
from hateproto.training import HateClassifier, TrainingConfig
from hateproto.training.features import FeatureStore

LAYER_SETS = {"6 (last)": [6], "4-6": [4, 5, 6], "2-6": [2, 3, 4, 5, 6], "1-6": [1, 2, 3, 4, 5, 6]}
C_VALUES = [0.3, 1.0, 3.0, 10.0]


def columns(layers: list[int], hidden: int) -> np.ndarray:
    """Feature columns of ``layers`` in vectors pooled from layers 1-6 (in that order)."""
    return np.concatenate([np.arange((layer - 1) * hidden, layer * hidden) for layer in layers])


def fit(x: np.ndarray, y: np.ndarray, c: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed).fit(
        x, y
    )


def tfidf_rows(train, dev, test, seed: int) -> list[dict[str, Any]]:  # noqa: ANN001
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x_train = vectorizer.fit_transform(train.texts)
    rows = []
    for c in C_VALUES:
        model = fit(x_train, train.labels, c, seed)
        dev_f1 = classification_metrics(dev.labels, model.predict(vectorizer.transform(dev.texts)))
        rows.append(
            {
                "features": "tf-idf 1-2 grams",
                "copies": 0,
                "C": c,
                "model": model,
                "dev_macro_f1": dev_f1["macro_f1"],
            }
        )
    best = max(rows, key=lambda r: r["dev_macro_f1"])
    test_pred = best["model"].predict(vectorizer.transform(test.texts))
    best["test_macro_f1"] = classification_metrics(test.labels, test_pred)["macro_f1"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="benchmarks/results/quickstart-choice")
    args = parser.parse_args()
    recipe = GeneralRecipe.default("quickstart")
    mixture = load_mixture(
        parse_sources(recipe.data),
        recipe.data_dir,
        recipe.seed,
        recipe.max_dev_per_source,
        protocol=recipe.protocol,
    )
    dev, test = mixture.dev, mixture.tests[recipe.data]
    clf = HateClassifier.from_config(
        TrainingConfig(
            backbone=recipe.model,
            mode="probe",
            dtype=recipe.dtype,
            max_length=recipe.max_length,
            pool_layers=[1, 2, 3, 4, 5, 6],
            show_progress=False,
        )
    )
    hidden = clf.backbone.hidden_size
    store = FeatureStore(clf)
    start, load = time.perf_counter(), os.getloadavg()[0]
    trains = {n: counterfactual_augment(mixture.train, n, recipe.seed) for n in (0, 1)}
    store.vectors(trains[1].texts + dev.texts + test.texts)
    encode_seconds = time.perf_counter() - start
    x_dev = store.vectors(dev.texts)
    rows: list[dict[str, Any]] = []
    for copies, train in trains.items():
        x_train = store.vectors(train.texts)
        for name, layers in LAYER_SETS.items():
            cols = columns(layers, hidden)
            for c in C_VALUES:
                model = fit(x_train[:, cols], train.labels, c, recipe.seed)
                f1 = classification_metrics(dev.labels, model.predict(x_dev[:, cols]))["macro_f1"]
                rows.append(
                    {
                        "features": f"layers {name}",
                        "copies": copies,
                        "C": c,
                        "n_train": len(train),
                        "dev_macro_f1": f1,
                        "model": model,
                        "cols": cols,
                    }
                )
                print(
                    json.dumps(
                        {k: rows[-1][k] for k in ("features", "copies", "C", "dev_macro_f1")}
                    ),
                    flush=True,
                )
    best = max(rows, key=lambda r: r["dev_macro_f1"])
    test_pred = best["model"].predict(store.vectors(test.texts)[:, best["cols"]])
    best["test_macro_f1"] = classification_metrics(test.labels, test_pred)["macro_f1"]
    rows += tfidf_rows(trains[0], dev, test, recipe.seed)
    for row in rows:
        row.pop("model"), row.pop("cols", None)
    summary = {
        "dataset": f"{recipe.data} ({recipe.protocol})",
        "n_dev": len(dev),
        "n_test": len(test),
        "model": recipe.model,
        "dtype": recipe.dtype,
        "encode_seconds": encode_seconds,
        "loadavg_at_start": load,
        "provenance": provenance(dtype=recipe.dtype),
    }
    atomic_write_text(f"{args.out}.json", json.dumps({"summary": summary, "rows": rows}, indent=1))
    atomic_write_text(
        f"{args.out}.md",
        "# Quickstart recipe: settings chosen on IHC dev (test scored once, for the dev choice)\n\n"
        "Command: `python benchmarks/quickstart_choice.py`. "
        f"{summary['dataset']}, dev {len(dev):,} posts, test {len(test):,}; frozen "
        f"{recipe.model} ({recipe.dtype}), logistic regression with balanced classes.\n\n"
        + markdown_table(
            rows, ["features", "copies", "C", "n_train", "dev_macro_f1", "test_macro_f1"]
        ),
    )


if __name__ == "__main__":
    main()
