"""Fig 2: prototype transfer.

A model fine-tuned on A is evaluated on A's test set with prototypes built from B's training
set; relative macro-F1 = F1 with B's prototypes / F1 of the model's head on A. Frozen
baselines are evaluated on every dataset E with B's prototypes, relative to the mean head F1
of the models fine-tuned on E. Writes ``prototype-transfer.json``, ``.md`` and ``.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from hateproto.experiments.common import write_rows
from hateproto.experiments.plots import matrix_heatmap
from hateproto.experiments.results import matrix_section
from hateproto.experiments.transfer import TransferConfig, transfer_matrix

Row = dict[str, Any]


class PrototypeTransferConfig(TransferConfig):
    """Fig 2 settings (see :class:`~hateproto.experiments.common.ExperimentConfig`)."""

    name: str = "prototype-transfer"


def in_domain_head_f1(matrix: list[Row]) -> dict[str, float]:
    """Mean head macro-F1 of the models fine-tuned on E, evaluated on E."""
    values: dict[str, list[float]] = {}
    for r in matrix:
        own = r["finetune_dataset"] == r["eval_dataset"] == r["prototype_dataset"]
        if own and r["head_macro_f1"] is not None:
            values.setdefault(r["eval_dataset"], []).append(r["head_macro_f1"])
    return {k: float(np.mean(v)) for k, v in values.items()}


def transfer_rows(matrix: list[Row]) -> list[Row]:
    """Rows for Fig 2: fine-tuned models on their own test set, frozen ones on every set."""
    reference = in_domain_head_f1(matrix)
    rows = []
    for r in matrix:
        frozen = r["finetune_dataset"] == "frozen"
        if not frozen and r["eval_dataset"] != r["finetune_dataset"]:
            continue
        head = reference.get(r["eval_dataset"]) if frozen else r["head_macro_f1"]
        setting = f"frozen on {r['eval_dataset']}" if frozen else r["finetune_dataset"]
        rows.append(
            {
                "model": r["model"],
                "setting": setting,
                "finetune_dataset": r["finetune_dataset"],
                "eval_dataset": r["eval_dataset"],
                "prototype_dataset": r["prototype_dataset"],
                "seed": r["seed"],
                "prototype_macro_f1": r["prototype_macro_f1"],
                "head_macro_f1": head,
                "relative_macro_f1": r["prototype_macro_f1"] / head if head else None,
            }
        )
    return rows


def report(rows: list[Row], config: PrototypeTransferConfig) -> str:
    """The Markdown report of Fig 2."""
    tuned = [r for r in rows if r["finetune_dataset"] != "frozen"]
    frozen = [r for r in rows if r["finetune_dataset"] == "frozen"]
    return "\n".join(
        [
            "# Fig 2: prototype transfer",
            "",
            f"Relative macro-F1 (%) = macro-F1 with prototypes from B ({config.per_class} per "
            "class, last layer) / macro-F1 of the model's own head on A, both on A's test set. "
            "Mean ± std over seeds.",
            "",
            *matrix_section(
                "Fine-tuned on A (rows), prototypes from B (columns), evaluated on A",
                tuned,
                "finetune_dataset",
                "prototype_dataset",
                "relative_macro_f1",
            ),
            *matrix_section(
                "Absolute prototype macro-F1 of the same cells",
                tuned,
                "finetune_dataset",
                "prototype_dataset",
                "prototype_macro_f1",
            ),
            *matrix_section(
                "Frozen baseline: evaluated on E (rows) with prototypes from B, relative to the "
                "mean head F1 of the models fine-tuned on E",
                frozen,
                "setting",
                "prototype_dataset",
                "relative_macro_f1",
            ),
        ]
    )


def plot(rows: list[Row], path: Path) -> None:
    """Heatmap of the relative macro-F1 of the rows where it is known (none: no figure)."""
    known = [r for r in rows if r["relative_macro_f1"] is not None]
    if known:
        matrix_heatmap(
            known,
            ("setting", "prototype_dataset", "relative_macro_f1"),
            "Relative macro-F1: prototypes from B / own head",
            path,
            "prototypes from",
            "fine-tuned on (= evaluated on)",
            center=1.0,
            cmap="RdBu",
        )


def run_prototype_transfer(
    config: PrototypeTransferConfig, console: Console | None = None
) -> list[Row]:
    """Compute (or resume) the matrix, then write JSON, Markdown and PNG; return the rows."""
    rows = transfer_rows(transfer_matrix(config, console))
    write_rows(config, rows, report(rows, config), plot)
    return rows
