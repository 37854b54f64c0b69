"""Fig 3: prototype size.

For each dataset and model (the checkpoint fine-tuned on it, and frozen baselines), a pool of
training examples (``pool_per_class`` per class, drawn with ``pool_seed``, default the
model's seed, so that with ``pool_per_class = per_class`` the pool is exactly the prototype
sample of the transfer experiments and its vectors come from the cache) is encoded once;
then for every size in ``sizes`` and each of ``draws`` random draws, prototypes are the class
means of ``size`` pooled vectors per class (no re-encoding), evaluated on the test set at
the last layer.
Writes ``prototype-size.json`` (one row per model, dataset, size: mean, std, 2.5/97.5
percentiles of the draws, the 95% CI of the mean, and the head's F1), ``.md`` and ``.png``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from rich.console import Console

from hateproto.data import sample_per_class
from hateproto.evaluation import classification_metrics
from hateproto.experiments.common import (
    ExperimentConfig,
    ModelSpec,
    ScoredModel,
    eval_split,
    has_all,
    load_scored_model,
    load_split,
    open_run,
    pending_models,
)
from hateproto.experiments.results import atomic_write_text, markdown_table
from hateproto.progress import progress_bar

Row = dict[str, Any]
KEYS = ("model", "finetune_dataset", "seed", "dataset", "per_class")


class PrototypeSizeConfig(ExperimentConfig):
    """Fig 3 settings."""

    name: str = "prototype-size"
    sizes: list[int] = [5, 10, 20, 50, 100, 200, 500]
    draws: int = 100
    pool_per_class: int = 2000
    pool_seed: int | None = None
    seeds: list[int] = [0]


def draw_scores(
    pool: torch.Tensor,
    pool_labels: np.ndarray,
    test: torch.Tensor,
    test_labels: np.ndarray,
    size: int,
    draws: int,
    seed: int,
) -> np.ndarray:
    """Macro-F1 of ``draws`` prototype sets of ``size`` random pool vectors per class.

    ``pool`` ``[P, H]`` and ``test`` ``[N, H]`` are single-layer vectors; each example is
    normalised before averaging (the classifier's default).
    """
    rng = np.random.default_rng(seed)
    unit_pool = torch.nn.functional.normalize(pool.float(), dim=-1)
    unit_test = torch.nn.functional.normalize(test.float(), dim=-1)
    members = [np.flatnonzero(pool_labels == c) for c in (0, 1)]
    scores = np.empty(draws)
    for d in range(draws):
        protos = []
        for rows in members:
            pick = rng.choice(rows, size=min(size, len(rows)), replace=False)
            protos.append(unit_pool[torch.from_numpy(pick)].mean(0))
        prototypes = torch.nn.functional.normalize(torch.stack(protos), dim=-1)
        preds = (unit_test @ prototypes.T).argmax(-1).numpy()
        scores[d] = classification_metrics(test_labels, preds)["macro_f1"]
    return scores


def summary_row(model: ScoredModel, dataset: str, size: int, scores: np.ndarray) -> Row:
    """Mean, spread and intervals of one size's draws."""
    sd = float(scores.std(ddof=1)) if len(scores) > 1 else 0.0
    half = 1.96 * sd / np.sqrt(len(scores))
    return {
        "model": model.spec.name,
        "finetune_dataset": model.spec.finetune_dataset,
        "seed": model.spec.seed,
        "dataset": dataset,
        "per_class": size,
        "draws": int(len(scores)),
        "macro_f1_mean": float(scores.mean()),
        "macro_f1_std": sd,
        "macro_f1_p2_5": float(np.percentile(scores, 2.5)),
        "macro_f1_p97_5": float(np.percentile(scores, 97.5)),
        "mean_ci95_low": float(scores.mean() - half),
        "mean_ci95_high": float(scores.mean() + half),
    }


def dataset_rows(model: ScoredModel, config: PrototypeSizeConfig, dataset: str) -> list[Row]:
    """All sizes for one model and dataset (pool and test encoded once)."""
    train = load_split(config, dataset, "train")
    pool_seed = model.spec.seed if config.pool_seed is None else config.pool_seed
    pool = sample_per_class(train, config.pool_per_class, pool_seed, allow_fewer=True)
    test = eval_split(config, dataset)
    pool_vectors = model.encode(pool.texts)[:, -1]
    test_all = model.encode(test.texts)
    proba = model.head_proba(test_all)
    head_f1 = None if proba is None else classification_metrics(test.labels, proba.argmax(1))
    rows = []
    with progress_bar(len(config.sizes), f"{dataset} sizes", config.show_progress, "sizes") as step:
        for size in config.sizes:
            scores = draw_scores(
                pool_vectors,
                pool.labels,
                test_all[:, -1],
                test.labels,
                size,
                config.draws,
                seed=pool_seed + size + 1000 * model.spec.seed + 7,
            )
            row = summary_row(model, dataset, size, scores)
            row.update(
                pool_hate=int(pool.labels.sum()),
                pool_not_hate=int(len(pool) - pool.labels.sum()),
                n_test=len(test),
                head_macro_f1=None if head_f1 is None else head_f1["macro_f1"],
            )
            rows.append(row)
            step()
    return rows


def model_specs(config: PrototypeSizeConfig, dataset: str) -> list[ModelSpec]:
    """The frozen baselines and the checkpoints fine-tuned on ``dataset``."""
    return [s for s in config.model_specs([dataset]) if s.finetune_dataset in ("frozen", dataset)]


def _label(row: Row) -> str:
    kind = "frozen" if row["finetune_dataset"] == "frozen" else "fine-tuned on it"
    return f"{row['model']} ({kind}), seed {row['seed']}"


def plot(rows: list[Row], path: Any) -> None:
    """One panel per dataset: mean macro-F1 vs size with the 2.5-97.5 percentile band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hateproto.experiments.results import save_figure

    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4 * len(datasets), 3.6), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        subset = [r for r in rows if r["dataset"] == dataset]
        for label in dict.fromkeys(_label(r) for r in subset):
            line = sorted(
                (r for r in subset if _label(r) == label),
                key=lambda r: r["per_class"],
            )
            x = [r["per_class"] for r in line]
            ax.plot(x, [100 * r["macro_f1_mean"] for r in line], marker="o", label=label)
            ax.fill_between(
                x,
                [100 * r["macro_f1_p2_5"] for r in line],
                [100 * r["macro_f1_p97_5"] for r in line],
                alpha=0.2,
            )
            if line and line[0]["head_macro_f1"] is not None:
                ax.axhline(100 * line[0]["head_macro_f1"], ls="--", lw=1, color="gray")
        ax.set_xscale("log")
        ax.set_title(dataset)
        ax.set_xlabel("examples per class")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("macro-F1 (%)")
    axes[0][-1].legend(fontsize=7)
    save_figure(fig, path)


def run_prototype_size(config: PrototypeSizeConfig, console: Console | None = None) -> list[Row]:
    """Compute (or resume) every (model, dataset) and write JSON, Markdown and PNG."""
    console, base, store = open_run(config, KEYS, console)
    for dataset in config.datasets:
        for spec in pending_models(
            model_specs(config, dataset),
            console,
            lambda s, d=dataset: has_all(
                store, s, [{"dataset": d, "per_class": size} for size in config.sizes]
            ),
        ):
            console.print(f"[bold]{spec.name}[/] ({spec.finetune_dataset}) on {dataset}")
            for row in dataset_rows(load_scored_model(spec, config), config, dataset):
                store.add(row)
    rows = store.rows
    columns = [
        "dataset",
        "finetune_dataset",
        "seed",
        "per_class",
        "macro_f1_mean",
        "macro_f1_std",
        "macro_f1_p2_5",
        "macro_f1_p97_5",
        "head_macro_f1",
    ]
    text = (
        "# Fig 3: prototype size\n\n"
        f"{config.draws} random draws per size from a pool of up to {config.pool_per_class} "
        "training examples per class (encoded once); last layer; macro-F1 on the test set "
        "(fraction, not %). p2_5/p97_5: the 2.5th/97.5th percentiles of the draws.\n\n"
        + markdown_table(sorted(rows, key=_row_order), columns)
        + "\n"
    )
    atomic_write_text(base.with_suffix(".md"), text)
    if rows:
        plot(rows, base.with_suffix(".png"))
    return rows


def _row_order(row: Row) -> tuple:
    """Dataset, model, examples per class, then seed: the seeds of one cell side by side."""
    return (row["dataset"], row["finetune_dataset"], row["per_class"], row["seed"])
