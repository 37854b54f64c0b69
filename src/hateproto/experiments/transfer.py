"""The prototype transfer matrix behind Table 2 and Fig 2.

For every model (frozen baselines, and each checkpoint fine-tuned on dataset A with a seed),
prototypes built from dataset P's training set (``per_class`` examples per class, drawn with
the model's seed) are evaluated on dataset E's test set, for every pair (P, E); the model's own
head is evaluated on every E too. Each dataset is encoded once per model (all layers, one
forward pass, cached on disk), so the matrix costs one encoding pass per model.

Table 2 (:mod:`.cross_domain`) reads the cells P = E; Fig 2 (:mod:`.prototype_transfer`)
reads the cells E = A.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from rich.console import Console

from hateproto.evaluation import classification_metrics
from hateproto.experiments.common import (
    ExperimentConfig,
    ScoredModel,
    check_datasets,
    eval_split,
    has_all,
    load_scored_model,
    output_path,
    pending_models,
    prototype_sample,
)
from hateproto.experiments.results import ResultStore
from hateproto.prototypes.classifier import class_prototypes, cosine_similarities
from hateproto.prototypes.selection import best_position, per_layer_macro_f1

MATRIX_KEYS = ("model", "finetune_dataset", "seed", "prototype_dataset", "eval_dataset")
Row = dict[str, Any]


class TransferConfig(ExperimentConfig):
    """Settings of the transfer matrix (shared by Table 2 and Fig 2)."""

    matrix_file: str = "prototype-transfer-matrix.json"
    compute: bool = True
    """False: only report the rows already in the matrix file (no model is loaded)."""


def prototype_scores(
    proto_vectors: torch.Tensor,
    proto_labels: np.ndarray,
    eval_vectors: torch.Tensor,
    normalize: str = "example",
) -> torch.Tensor:
    """Cosine similarities ``[N, layers, 2]`` of eval vectors to prototypes of classes 0, 1."""
    protos = class_prototypes(proto_vectors, proto_labels, [0, 1], normalize)  # type: ignore[arg-type]
    return cosine_similarities(eval_vectors, protos)


def cell_row(
    model: ScoredModel,
    prototype_dataset: str,
    eval_dataset: str,
    sims: torch.Tensor,
    labels: np.ndarray,
    head: dict[str, float] | None,
    per_class: int,
) -> Row:
    """One (model, P, E) result row: last-layer metrics plus macro-F1 of every layer."""
    preds = sims.argmax(-1).numpy()  # [N, layers]
    scores = torch.softmax(sims[:, -1] / 0.05, dim=-1)[:, 1].numpy()
    last = classification_metrics(labels, preds[:, -1], scores)
    per_layer = per_layer_macro_f1(preds, labels)
    missing = None  # no head (frozen baseline): null in JSON
    return {
        "model": model.spec.name,
        "finetune_dataset": model.spec.finetune_dataset,
        "seed": model.spec.seed,
        "prototype_dataset": prototype_dataset,
        "eval_dataset": eval_dataset,
        "n_eval": int(len(labels)),
        "per_class": per_class,
        "layer": int(sims.shape[1]),
        "head_accuracy": head["accuracy"] if head else missing,
        "head_macro_f1": head["macro_f1"] if head else missing,
        "head_pr_auc": head["pr_auc"] if head else missing,
        "prototype_accuracy": last["accuracy"],
        "prototype_macro_f1": last["macro_f1"],
        "prototype_pr_auc": last["pr_auc"],
        "best_layer": best_position(per_layer) + 1,
        "prototype_macro_f1_per_layer": [round(v, 5) for v in per_layer],
    }


def model_rows(model: ScoredModel, config: ExperimentConfig) -> list[Row]:
    """Every (P, E) cell of one model (each dataset encoded once)."""
    seed = model.spec.seed
    protos = {}
    evals = {}
    for dataset in config.datasets:
        sample = prototype_sample(config, dataset, seed)
        protos[dataset] = (model.encode(sample.texts), sample.labels)
        test = eval_split(config, dataset)
        evals[dataset] = (model.encode(test.texts), test.labels)
    rows = []
    for eval_dataset, (vectors, labels) in evals.items():
        proba = model.head_proba(vectors)
        head = (
            None if proba is None else classification_metrics(labels, proba.argmax(1), proba[:, 1])
        )
        for proto_dataset, (proto_vectors, proto_labels) in protos.items():
            sims = prototype_scores(proto_vectors, proto_labels, vectors)
            rows.append(
                cell_row(model, proto_dataset, eval_dataset, sims, labels, head, config.per_class)
            )
    return rows


def transfer_matrix(config: TransferConfig, console: Console | None = None) -> list[Row]:
    """Compute (or resume) the matrix file and return its rows; skips missing checkpoints."""
    check_datasets(config)
    console = console or Console(stderr=True)
    store = ResultStore(output_path(config, config.matrix_file), MATRIX_KEYS)
    cells = [
        {"prototype_dataset": p, "eval_dataset": e}
        for p in config.datasets
        for e in config.datasets
    ]
    specs = config.model_specs() if config.compute else []
    for spec in pending_models(specs, console, lambda s: has_all(store, s, cells)):
        console.print(f"[bold]{spec.name}[/] ({spec.finetune_dataset}, seed {spec.seed})")
        model = load_scored_model(spec, config)
        store.extend(model_rows(model, config))
    wanted = {(s.name, s.finetune_dataset, s.seed) for s in config.model_specs()}
    return [
        r
        for r in store.rows
        if (r["model"], r["finetune_dataset"], r["seed"]) in wanted
        and r["prototype_dataset"] in config.datasets
        and r["eval_dataset"] in config.datasets
    ]
