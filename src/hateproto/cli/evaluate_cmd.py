"""``hateproto evaluate``: score a fine-tuned checkpoint on benchmark test sets."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from hateproto.cli.common import load_source
from hateproto.cli.options import (
    BatchSizeOption,
    DataDirOption,
    DataOption,
    DeviceOption,
    JsonOption,
    MaxExamplesOption,
    ModelOption,
    ProtocolOption,
    SplitOption,
)
from hateproto.data import PROTOCOLS
from hateproto.models.device import place
from hateproto.provenance import provenance
from hateproto.training import HateClassifier, evaluate_classifier, stratified_subsample


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command to ``app``."""

    @app.command("evaluate")
    def evaluate(
        model: ModelOption,
        data: DataOption[list[str] | None] = None,
        protocol: ProtocolOption = "hateprototypes",
        split: SplitOption = "test",
        data_dir: DataDirOption = None,
        max_examples: MaxExamplesOption = None,
        batch_size: BatchSizeOption = None,
        device: DeviceOption = None,
        json_out: JsonOption = False,
    ) -> None:
        """Accuracy, macro-F1, binary F1 and PR-AUC of a checkpoint on each dataset.

        --model is the checkpoint folder; --data names the test sets (comma-separated or
        repeated; default: the protocol's benchmarks)."""
        clf = place(HateClassifier.from_pretrained(model), device)
        if batch_size:
            clf.config = clf.config.model_copy(update={"eval_batch_size": batch_size})
        given = ",".join(data or [])
        names = [n.strip() for n in given.split(",") if n.strip()] or list(
            PROTOCOLS.get(protocol, ())
        )
        rows = []
        for name in names:
            test = load_source(name, split, protocol, data_dir)
            test = stratified_subsample(test, max_examples or None, seed=0)
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
