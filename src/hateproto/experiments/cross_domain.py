"""Table 2: cross-domain prototype transfer.

For each model fine-tuned on A (and each frozen baseline), prototypes from B's training set
(``per_class`` per class) are evaluated on B's test set, against the same model's own head on
B. Writes ``prototype-cross-domain.json`` (one row per finetune, eval, seed), a Markdown report
with macro-F1 / accuracy matrices, deltas and paired t-tests across seeds, and a PNG heatmap.

Example:
    >>> rows = run_cross_domain(CrossDomainConfig(test_limit={"sbic": 2000}))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from hateproto.evaluation import paired_ttest
from hateproto.experiments.common import write_rows
from hateproto.experiments.plots import matrix_heatmap
from hateproto.experiments.results import markdown_table, matrix_section
from hateproto.experiments.transfer import TransferConfig, transfer_matrix

Row = dict[str, Any]


class CrossDomainConfig(TransferConfig):
    """Table 2 settings (see :class:`~hateproto.experiments.common.ExperimentConfig`)."""

    name: str = "prototype-cross-domain"


def table_rows(matrix: list[Row]) -> list[Row]:
    """The matrix cells whose prototypes come from the evaluation dataset, with deltas."""
    rows = []
    for cell in matrix:
        if cell["prototype_dataset"] != cell["eval_dataset"]:
            continue
        row = {
            k: cell[k]
            for k in (
                "model",
                "finetune_dataset",
                "eval_dataset",
                "seed",
                "n_eval",
                "per_class",
                "head_macro_f1",
                "prototype_macro_f1",
                "head_accuracy",
                "prototype_accuracy",
                "best_layer",
                "prototype_macro_f1_per_layer",
            )
        }
        tuned = row["head_macro_f1"] is not None
        row["delta_macro_f1"] = row["prototype_macro_f1"] - row["head_macro_f1"] if tuned else None
        row["delta_accuracy"] = row["prototype_accuracy"] - row["head_accuracy"] if tuned else None
        rows.append(row)
    return rows


def significance_rows(rows: list[Row]) -> list[Row]:
    """Paired t-tests (prototype vs head macro-F1) per (finetune, eval) across seeds, and
    pooled over all fine-tuned cells."""
    tuned = [r for r in rows if r["head_macro_f1"] is not None]
    groups: dict[tuple[str, str], list[Row]] = {}
    for r in tuned:
        groups.setdefault((r["finetune_dataset"], r["eval_dataset"]), []).append(r)
    out = []
    for (a, b), members in groups.items():
        test = paired_ttest(
            [m["prototype_macro_f1"] for m in members], [m["head_macro_f1"] for m in members]
        )
        out.append({"finetune_dataset": a, "eval_dataset": b, **test})
    if tuned:
        test = paired_ttest(
            [m["prototype_macro_f1"] for m in tuned], [m["head_macro_f1"] for m in tuned]
        )
        out.append({"finetune_dataset": "all", "eval_dataset": "all", **test})
    return out


def report(rows: list[Row], tests: list[Row], config: CrossDomainConfig) -> str:
    """The Markdown report of Table 2."""
    limits = ", ".join(f"{k} {v:,}" for k, v in config.test_limit.items()) or "none"
    parts = [
        "# Table 2: cross-domain prototype transfer",
        "",
        f"Models: checkpoints in `{config.checkpoint('<dataset>', 0).parent}` "
        f"(seeds {config.seeds}) and frozen "
        f"{config.frozen_models}. Prototypes: {config.per_class} training examples per class "
        f"of the evaluation dataset, last layer. Test-set limits (stratified): {limits}. "
        "Values are percentages, mean ± std over seeds.",
        "",
        *matrix_section(
            "Prototype macro-F1 (rows: fine-tuned on, columns: evaluated on)",
            rows,
            "finetune_dataset",
            "eval_dataset",
            "prototype_macro_f1",
        ),
        *[
            line
            for title, field in (
                ("Head macro-F1 (the model's own classification head)", "head_macro_f1"),
                ("Δ macro-F1 (prototypes − head)", "delta_macro_f1"),
                ("Prototype accuracy", "prototype_accuracy"),
                ("Head accuracy", "head_accuracy"),
            )
            for line in matrix_section(title, rows, "finetune_dataset", "eval_dataset", field)
        ],
        "## Paired t-test across seeds (prototype vs head macro-F1)",
        markdown_table(
            tests, ["finetune_dataset", "eval_dataset", "mean_diff", "t", "p_value", "n"]
        ),
        "",
    ]
    return "\n".join(parts)


def plot(rows: list[Row], path: Path) -> None:
    """Heatmap of the prototype macro-F1 (rows: fine-tuned on, columns: evaluated on)."""
    matrix_heatmap(
        rows,
        ("finetune_dataset", "eval_dataset", "prototype_macro_f1"),
        "Prototype macro-F1 (prototypes from the eval set)",
        path,
        "evaluated on (prototypes from)",
        "fine-tuned on",
    )


def run_cross_domain(config: CrossDomainConfig, console: Console | None = None) -> list[Row]:
    """Compute (or resume) the matrix, then write JSON, Markdown and PNG; return the rows."""
    rows = table_rows(transfer_matrix(config, console))
    tests = significance_rows(rows)
    write_rows(config, rows, report(rows, tests, config), plot)
    return rows
