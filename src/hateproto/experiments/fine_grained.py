"""Fig 1: fine-grained accuracy per IHC implicit category and per target group.

For each evaluation dataset with metadata (IHC: ``category`` = implicit class, ``target``;
SBIC: implicit/explicit and target; HateXplain: hatespeech/offensive/normal and target), every
model (fine-tuned checkpoints and frozen baselines) is scored with prototypes from that
dataset's training set (last layer) and, for checkpoints, with its own head. Accuracy is given
per category and per target group (groups with at least ``min_group`` test posts; target
names are lower-cased). For hate-only groups, accuracy is the hate recall. Writes
``fine-grained.json`` and ``.md``, and one PNG heatmap per dataset and grouping.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

from hateproto.data.types import LabeledTexts
from hateproto.experiments.common import (
    ExperimentConfig,
    ScoredModel,
    eval_split,
    load_scored_model,
    open_run,
    output_path,
    pending_models,
    prototype_sample,
)
from hateproto.experiments.plots import matrix_heatmap
from hateproto.experiments.results import atomic_write_text, markdown_matrix
from hateproto.experiments.transfer import prototype_scores

Row = dict[str, Any]
KEYS = ("model", "finetune_dataset", "seed", "eval_dataset", "method", "group_type", "group")


class FineGrainedConfig(ExperimentConfig):
    """Fig 1 settings: ``datasets`` are the evaluation datasets with metadata."""

    name: str = "fine-grained"
    datasets: list[str] = ["ihc", "sbic", "hatexplain"]
    finetune_datasets: list[str] = ["ihc", "olid", "hatexplain", "sbic"]
    min_group: int = 20


def group_labels(data: LabeledTexts, group_type: str) -> pd.Series:
    """The ``category`` or lower-cased ``target`` of every example (missing → NaN)."""
    if group_type not in data.metadata.columns:
        return pd.Series([np.nan] * len(data))
    values = data.metadata[group_type].astype("object")
    return values.str.lower() if group_type == "target" else values


def grouped_rows(
    base: Row, data: LabeledTexts, correct: np.ndarray, preds: np.ndarray, min_group: int
) -> list[Row]:
    """Accuracy (and hate rate of the predictions) per category and per target group."""
    rows = [
        {
            **base,
            "group_type": "all",
            "group": "all",
            "n": len(data),
            "hate_fraction": float(data.labels.mean()),
            "accuracy": float(correct.mean()),
        }
    ]
    for group_type in ("category", "target"):
        groups = group_labels(data, group_type)
        for group, count in groups.value_counts().items():
            if count < min_group:
                continue
            mask = (groups == group).to_numpy()
            rows.append(
                {
                    **base,
                    "group_type": group_type,
                    "group": str(group),
                    "n": int(mask.sum()),
                    "hate_fraction": float(data.labels[mask].mean()),
                    "accuracy": float(correct[mask].mean()),
                    "predicted_hate": float(preds[mask].mean()),
                }
            )
    return rows


def model_rows(model: ScoredModel, config: FineGrainedConfig) -> list[Row]:
    """Rows of one model on every evaluation dataset (head and prototypes)."""
    rows = []
    for dataset in config.datasets:
        sample = prototype_sample(config, dataset, model.spec.seed)
        test = eval_split(config, dataset)
        vectors = model.encode(test.texts)
        sims = prototype_scores(model.encode(sample.texts), sample.labels, vectors)
        predictions = {"prototypes": sims[:, -1].argmax(-1).numpy()}
        proba = model.head_proba(vectors)
        if proba is not None:
            predictions["head"] = proba.argmax(1)
        for method, preds in predictions.items():
            base = {
                "model": model.spec.name,
                "finetune_dataset": model.spec.finetune_dataset,
                "seed": model.spec.seed,
                "eval_dataset": dataset,
                "method": method,
                "setting": f"{method} ({model.spec.finetune_dataset})",
            }
            rows += grouped_rows(base, test, preds == test.labels, preds, config.min_group)
    return rows


def report(rows: list[Row], config: FineGrainedConfig) -> str:
    """Markdown: one accuracy matrix (setting x group) per dataset and grouping."""
    parts = [
        "# Fig 1: fine-grained accuracy",
        "",
        f"Prototypes: {config.per_class} training examples per class of the evaluation dataset, "
        "last layer; `head` = the checkpoint's own head. `setting` = method (fine-tuned on). "
        "Accuracy in %, mean ± std over seeds; for hate-only groups it is the hate recall.",
    ]
    for dataset in config.datasets:
        for group_type in ("category", "target"):
            subset = [
                r
                for r in rows
                if r["eval_dataset"] == dataset and r["group_type"] in (group_type, "all")
            ]  # noqa: E127
            if not any(r["group_type"] == group_type for r in subset):
                continue
            parts += [
                "",
                f"## {dataset}: accuracy per {group_type}",
                markdown_matrix(subset, "setting", "group", "accuracy"),
            ]
    return "\n".join(parts) + "\n"


def run_fine_grained(config: FineGrainedConfig, console: Console | None = None) -> list[Row]:
    """Compute (or resume) every model and write JSON, Markdown and PNG heatmaps."""
    console, base, store = open_run(config, KEYS, console)
    done = {(r["model"], r["finetune_dataset"], r["seed"]) for r in store.rows}
    for spec in pending_models(
        config.model_specs(config.finetune_datasets),
        console,
        lambda s: (s.name, s.finetune_dataset, s.seed) in done,
    ):
        console.print(f"[bold]{spec.name}[/] ({spec.finetune_dataset}, seed {spec.seed})")
        store.extend(model_rows(load_scored_model(spec, config), config))
    rows = store.rows
    atomic_write_text(base.with_suffix(".md"), report(rows, config))
    for dataset in config.datasets:
        for group_type in ("category", "target"):
            subset = [
                r for r in rows if r["eval_dataset"] == dataset and r["group_type"] == group_type
            ]  # noqa: E127
            if subset:
                matrix_heatmap(
                    subset,
                    ("setting", "group", "accuracy"),
                    f"{dataset}: accuracy per {group_type}",
                    output_path(config, f"{config.name}-{dataset}-{group_type}.png"),
                    group_type,
                    "method (fine-tuned on)",
                )
    return rows
