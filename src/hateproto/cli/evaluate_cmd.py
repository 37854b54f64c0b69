"""``hateproto evaluate``: score a fine-tuned checkpoint on benchmark test sets."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from hateproto.cli.options import DEVICE_HELP
from hateproto.data import PROTOCOLS, load_benchmark
from hateproto.models.device import place
from hateproto.provenance import provenance
from hateproto.training import HateClassifier, evaluate_classifier, stratified_subsample


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command to ``app``."""

    @app.command("evaluate")
    def evaluate(
        model: Path = typer.Option(..., "--model", "-m", help="HateClassifier checkpoint folder."),
        data: str = typer.Option(
            "", "--data", "-d", help="Comma-separated datasets (default: the protocol's)."
        ),
        protocol: str = typer.Option("hateprototypes", "--protocol", "-p"),
        split: str = typer.Option("test", help="train, dev or test."),
        data_dir: str | None = typer.Option(None, "--data-dir"),
        max_examples: int | None = typer.Option(
            None, help="Stratified subsample of each set (seed 0)."
        ),
        batch_size: int | None = typer.Option(None, help="Default: the checkpoint's."),
        device: str | None = typer.Option(None, help=DEVICE_HELP),
        json_out: bool = typer.Option(False, "--json", help="Print only a JSON list of rows."),
    ) -> None:
        """Accuracy, macro-F1, binary F1 and PR-AUC of a checkpoint on each dataset."""
        clf = place(HateClassifier.from_pretrained(model), device)
        if batch_size:
            clf.config = clf.config.model_copy(update={"eval_batch_size": batch_size})
        names = [n.strip() for n in data.split(",") if n.strip()] or list(
            PROTOCOLS.get(protocol, ())
        )
        rows = []
        for name in names:
            test = load_benchmark(name, split, protocol, data_dir)
            test = stratified_subsample(test, max_examples, seed=0)
            row = evaluate_classifier(clf, test, show_progress=not json_out)
            rows.append({"model": str(model), "protocol": protocol, **row})
        if json_out:
            record = provenance(dtype=str(clf.config.dtype))
            typer.echo(json.dumps([{**row, "provenance": record} for row in rows]))
            return
        table = Table("dataset", "n", "accuracy", "macro-F1", "binary F1", "PR-AUC", "s")
        for row in rows:
            table.add_row(
                row["dataset"],
                f"{row['n']:,}",
                *(f"{100 * row[k]:.2f}" for k in ("accuracy", "macro_f1", "binary_f1", "pr_auc")),
                f"{row['seconds']:.1f}",
            )
        Console().print(table)
