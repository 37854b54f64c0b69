"""Which frozen model should the general recipe's probe use? Chosen on dev, on a subsample.

For each candidate model: a logistic-regression probe (the recipe's head) on pooled features
of a stratified subsample of the mixture's training split (``--train-per-source`` posts per
source, with the recipe's counterfactual copies), scored on a subsample of the mixture's dev
split. Encoding speed (posts/s, bf16) is recorded too, since the recipe must train in about an
hour on this machine. Subsampled because encoding the full mixture with a 12-layer model takes
hours on 2 CPU cores; the choice is then applied to the full training split.

A candidate ``model@a-b`` pools layers a to b (each L2-normalised, concatenated) instead of
the last layer alone.

    python benchmarks/general_model_choice.py --models minilm,minilm@2-6,mpnet \
        --out benchmarks/results/general-model-choice
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from hateproto.data.augment import counterfactual_augment
from hateproto.data.mixture import concat, load_mixture, parse_sources, select_rows
from hateproto.data.sampling import stratified_indices
from hateproto.detector.probe import fit_probe
from hateproto.detector.recipe import GeneralRecipe
from hateproto.experiments.results import atomic_write_text, markdown_table
from hateproto.provenance import provenance
from hateproto.training import HateClassifier, TrainingConfig
from hateproto.training.features import FeatureStore


def per_source(data, n: int, seed: int):  # noqa: ANN001, ANN201
    """At most ``n`` stratified rows of each source."""
    parts = []
    for source in sorted(set(data.metadata["source"])):
        part = select_rows(data, np.flatnonzero((data.metadata["source"] == source).to_numpy()))
        if len(part) > n:
            part = select_rows(part, stratified_indices(part.labels, n, seed))
        parts.append(part)
    return concat(parts, "mixture", data.split)


def parse_candidate(text: str) -> tuple[str, list[int] | None]:
    """``minilm`` (last layer) or ``minilm@2-6`` (layers 2 to 6 pooled and concatenated)."""
    if "@" not in text:
        return text, None
    model, span = text.rsplit("@", 1)
    first, last = (int(v) for v in span.split("-"))
    return model, list(range(first, last + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="minilm,mpnet")
    parser.add_argument("--train-per-source", type=int, default=1500)
    parser.add_argument("--dev-per-source", type=int, default=400)
    parser.add_argument("--out", default="benchmarks/results/general-model-choice")
    args = parser.parse_args()
    recipe = GeneralRecipe.default()
    mixture = load_mixture(
        parse_sources(recipe.data), recipe.data_dir, recipe.seed, recipe.max_dev_per_source
    )
    train = per_source(mixture.train, args.train_per_source, recipe.seed)
    train = counterfactual_augment(train, recipe.counterfactual_copies, recipe.seed)
    dev = per_source(mixture.dev, args.dev_per_source, recipe.seed)
    rows = []
    for candidate in args.models.split(","):
        model, pool_layers = parse_candidate(candidate)
        clf = HateClassifier.from_config(
            TrainingConfig(
                backbone=model,
                pool_layers=pool_layers,
                mode="probe",
                dtype="bfloat16",
                max_length=recipe.max_length,
                show_progress=False,
            )
        )
        store = FeatureStore(clf)
        start, load = time.perf_counter(), os.getloadavg()[0]
        store.vectors(train.texts + dev.texts)
        seconds = time.perf_counter() - start
        fitted, per_c = fit_probe(store, train, dev, recipe.regularization, recipe.seed)
        rows.append(
            {
                "model": candidate,
                "pool_layers": pool_layers,
                "layers": clf.backbone.num_layers,
                "hidden": clf.backbone.hidden_size,
                "n_train": len(train),
                "n_dev": len(dev),
                "dev_macro_f1": max(per_c.values()),
                "dev_macro_f1_per_C": per_c,
                "encode_seconds": seconds,
                "loadavg_at_start": load,
                "provenance": provenance(dtype="bfloat16"),
            }
        )
        print(
            json.dumps({k: rows[-1][k] for k in ("model", "dev_macro_f1", "encode_seconds")}),
            flush=True,
        )
    atomic_write_text(f"{args.out}.json", json.dumps(rows, indent=1))
    atomic_write_text(
        f"{args.out}.md",
        "# Model choice for the general recipe (dev, subsampled; see the script)\n\n"
        + markdown_table(
            rows,
            [
                "model",
                "layers",
                "hidden",
                "n_train",
                "n_dev",
                "dev_macro_f1",
                "encode_seconds",
                "loadavg_at_start",
            ],
        )
        + "\n",
    )


if __name__ == "__main__":
    main()
