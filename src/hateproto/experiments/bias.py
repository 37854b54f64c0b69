"""Group-specific prototypes and a per-target-group false-positive-rate report.

On a dataset whose neutral posts also name a target group (HateXplain), for every group with
enough training posts of both classes, group prototypes are the class means of up to
``group_per_class`` hateful and neutral training posts about that group. Each neutral test
post about a group is scored by

* ``head``: the checkpoint's own head (fine-tuned models only);
* ``general_prototypes``: prototypes from ``per_class`` random training posts per class;
* ``group_prototypes``: that group's own prototypes;

and the false-positive rate (neutral posts called hate) and the hate recall (on the group's
hateful test posts) are reported per group, with the spread (max - min FPR) per method.
Writes ``group-bias.json``, ``.md`` and ``.png``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console

from hateproto.data import sample_per_class
from hateproto.data.types import LabeledTexts
from hateproto.experiments import common
from hateproto.experiments.common import ExperimentConfig, ScoredModel, load_scored_model
from hateproto.experiments.plots import grouped_bars
from hateproto.experiments.results import atomic_write_text, markdown_matrix, markdown_table
from hateproto.experiments.transfer import prototype_scores

Row = dict[str, Any]
KEYS = ("model", "finetune_dataset", "seed", "dataset", "method", "group")


class GroupBiasConfig(ExperimentConfig):
    """Group-bias settings: ``datasets`` are the datasets with target groups on neutral posts."""

    name: str = "group-bias"
    datasets: list[str] = ["hatexplain"]
    group_per_class: int = 200
    min_train_per_class: int = 30
    min_test_neutral: int = 15


def targets(data: LabeledTexts) -> np.ndarray:
    """Lower-cased target group of every post (``""`` when there is none)."""
    if "target" not in data.metadata.columns:
        return np.array([""] * len(data), dtype=object)
    return data.metadata["target"].fillna("").astype(str).str.lower().to_numpy()


def eligible_groups(train: LabeledTexts, test: LabeledTexts, config: GroupBiasConfig) -> list[str]:
    """Groups with enough training posts of both classes and enough neutral test posts."""
    train_t, test_t = targets(train), targets(test)
    groups = []
    for group in sorted(set(train_t) - {""}):
        per_class = [int(((train_t == group) & (train.labels == c)).sum()) for c in (0, 1)]
        neutral = int(((test_t == group) & (test.labels == 0)).sum())
        if min(per_class) >= config.min_train_per_class and neutral >= config.min_test_neutral:
            groups.append(group)
    return groups


def rates(preds: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """False-positive rate on label-0 rows and recall on label-1 rows (NaN when empty)."""
    neutral, hate = labels == 0, labels == 1
    fpr = float(preds[neutral].mean()) if neutral.any() else float("nan")
    tpr = float(preds[hate].mean()) if hate.any() else float("nan")
    return fpr, tpr


def model_rows(model: ScoredModel, config: GroupBiasConfig, dataset: str) -> list[Row]:
    """FPR and recall per group and method for one model and dataset."""
    train = common.load_split(config, dataset, "train")
    test = common.eval_split(config, dataset)
    groups = eligible_groups(train, test, config)
    vectors = model.encode(test.texts)
    general = common.prototype_sample(config, dataset, model.spec.seed)
    preds = {
        "general_prototypes": prototype_scores(
            model.encode(general.texts), general.labels, vectors
        )[:, -1]
        .argmax(-1)
        .numpy()
    }
    proba = model.head_proba(vectors)
    if proba is not None:
        preds["head"] = proba.argmax(1)
    test_t, train_t = targets(test), targets(train)
    group_preds = np.full(len(test), -1)
    group_sizes = {}
    for group in groups:
        about = train.subset(np.flatnonzero(train_t == group))
        sample = sample_per_class(about, config.group_per_class, model.spec.seed, allow_fewer=True)
        rows = np.flatnonzero(test_t == group)
        sims = prototype_scores(model.encode(sample.texts), sample.labels, vectors[rows])
        group_preds[rows] = sims[:, -1].argmax(-1).numpy()
        group_sizes[group] = (int((sample.labels == 0).sum()), int((sample.labels == 1).sum()))
    preds["group_prototypes"] = group_preds
    out = []
    for method, pred in preds.items():
        for group in groups:
            rows = np.flatnonzero(test_t == group)
            fpr, tpr = rates(pred[rows], test.labels[rows])
            out.append(
                {
                    "model": model.spec.name,
                    "finetune_dataset": model.spec.finetune_dataset,
                    "seed": model.spec.seed,
                    "dataset": dataset,
                    "method": method,
                    "setting": f"{method} ({model.spec.finetune_dataset})",
                    "group": group,
                    "n_neutral": int((test.labels[rows] == 0).sum()),
                    "n_hate": int((test.labels[rows] == 1).sum()),
                    "group_prototype_examples": list(group_sizes[group]),
                    "false_positive_rate": fpr,
                    "hate_recall": tpr,
                }
            )
    return out


def spread_rows(rows: list[Row]) -> list[Row]:
    """Per setting: mean FPR, max - min FPR over groups, mean hate recall (seed-averaged)."""
    out = []
    for setting in dict.fromkeys(r["setting"] for r in rows):
        for dataset in dict.fromkeys(r["dataset"] for r in rows):
            cells = [r for r in rows if r["setting"] == setting and r["dataset"] == dataset]
            if not cells:
                continue
            by_group: dict[str, list[Row]] = {}
            for r in cells:
                by_group.setdefault(r["group"], []).append(r)
            fpr = [np.mean([r["false_positive_rate"] for r in g]) for g in by_group.values()]
            tpr = [np.nanmean([r["hate_recall"] for r in g]) for g in by_group.values()]
            out.append(
                {
                    "dataset": dataset,
                    "setting": setting,
                    "groups": len(by_group),
                    "mean_fpr": float(np.mean(fpr)),
                    "fpr_spread": float(np.max(fpr) - np.min(fpr)),
                    "worst_group": list(by_group)[int(np.argmax(fpr))],
                    "mean_hate_recall": float(np.nanmean(tpr)),
                }
            )
    return out


def plot(rows: list[Row], path: Any) -> None:
    """Grouped bars: FPR per target group for every setting."""
    grouped_bars(
        rows,
        lambda r: r["group"],
        lambda r: r["setting"],
        "false_positive_rate",
        path,
        "Per-target-group false-positive rate",
        "false-positive rate on neutral posts (%)",
        width_per_group=1.0,
        rotate=True,
    )


def run_group_bias(config: GroupBiasConfig, console: Console | None = None) -> list[Row]:
    """Compute (or resume) every model and write JSON, Markdown and PNG."""
    console, base, store = common.open_run(config, KEYS, console)
    done = {(r["model"], r["finetune_dataset"], r["seed"], r["dataset"]) for r in store.rows}
    for dataset in config.datasets:
        for spec in common.pending_models(
            config.model_specs([dataset]),
            console,
            lambda s, d=dataset: (s.name, s.finetune_dataset, s.seed, d) in done,
        ):
            console.print(f"[bold]{spec.name}[/] ({spec.finetune_dataset}) on {dataset}")
            store.extend(model_rows(load_scored_model(spec, config), config, dataset))
    rows = store.rows
    spread = spread_rows(rows)
    text = "\n".join(
        [
            "# Group-specific prototypes: false-positive rate per target group",
            "",
            f"Group prototypes: up to {config.group_per_class} hateful and neutral training "
            f"posts about the group; general prototypes: {config.per_class} random training "
            "posts per class; last layer. FPR = share of the group's neutral test posts called "
            "hate (%, mean ± std over seeds).",
            "",
            "## False-positive rate per group",
            markdown_matrix(rows, "setting", "group", "false_positive_rate"),
            "",
            "## Hate recall per group",
            markdown_matrix(
                [r for r in rows if r["n_hate"] > 0], "setting", "group", "hate_recall"
            ),
            "",
            "## Summary: mean FPR, spread (max - min over groups), mean hate recall",
            markdown_table(
                spread,
                [
                    "dataset",
                    "setting",
                    "groups",
                    "mean_fpr",
                    "fpr_spread",
                    "worst_group",
                    "mean_hate_recall",
                ],
            ),
            "",
        ]
    )
    atomic_write_text(base.with_suffix(".md"), text)
    if rows:
        plot(rows, base.with_suffix(".png"))
    return rows
