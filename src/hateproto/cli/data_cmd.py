"""``hateproto data``: inspect the benchmarks (sizes, class balance, overlap, examples)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from hateproto.cli import options as opt
from hateproto.data.benchmarks import load_benchmark
from hateproto.data.stats import protocol_statistics
from hateproto.data.types import LABEL_NAMES
from hateproto.errors import DataError

HELP = "Inspect the benchmark datasets: sizes, class balance, overlaps and examples."

app = typer.Typer(help=HELP, no_args_is_help=True)

__all__ = ["app"]


def _format(value: object, pattern: str) -> str:
    """Format a number for the table, ``-`` when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return pattern.format(value)


def _stats_table(rows: list[dict], protocol: str) -> Table:
    """Rich table of :func:`protocol_statistics` rows."""
    table = Table(title=f"datasets, protocol {protocol}")
    for column in ("dataset", "split", "n", "hate %", "mean tokens", "duplicates with train"):
        table.add_column(column, justify="left" if column in ("dataset", "split") else "right")
    for row in rows:
        table.add_row(
            row["dataset"],
            row["split"],
            f"{row['n']:,}",
            _format(100 * row["hate_fraction"], "{:.2f}"),
            _format(row["mean_tokens"], "{:.1f}"),
            _format(row.get("duplicates_with_train"), "{:,}"),
        )
    return table


@app.command("stats")
def stats(
    protocol: opt.ProtocolOption = "hateprototypes",
    data_dir: opt.DataDirOption = None,
    as_json: opt.JsonOption = False,
    dataset: opt.DatasetOption[list[str] | None] = None,
    seed: opt.SeedOption = 42,
) -> None:
    """Show size, hate %, mean length and train overlap of every dataset x split."""
    rows = protocol_statistics(protocol, data_dir=data_dir, datasets=dataset, seed=seed)
    if as_json:
        typer.echo(json.dumps(rows))
    else:
        Console().print(_stats_table(rows, protocol))


@app.command("show")
def show(
    dataset: opt.DatasetOption[str],
    protocol: opt.ProtocolOption = "hateprototypes",
    split: opt.SplitOption = "train",
    n: opt.NOption = 5,
    label: str | None = typer.Option(None, "--label", help="Only hate (1) or not_hate (0)."),
    seed: opt.SeedOption = 0,
    data_dir: opt.DataDirOption = None,
) -> None:
    """Print a few random examples of one split, with their label and metadata."""
    data = load_benchmark(dataset, split, protocol, data_dir)
    candidates = np.arange(len(data))
    if label is not None:
        candidates = np.flatnonzero(data.labels == _parse_label(label))
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(candidates, size=min(n, len(candidates)), replace=False))
    table = Table("#", "label", "category", "target", "text", show_lines=True)
    for i in picked:
        meta = data.metadata.iloc[i] if len(data.metadata) else {}
        table.add_row(
            str(i),
            LABEL_NAMES[data.labels[i]],
            str(meta.get("category", "")),
            str(meta.get("target", "")),
            data.texts[i],
        )
    Console().print(table)
    typer.echo(
        f"{dataset}/{split} ({protocol}): {len(data):,} examples, "
        f"{100 * data.hate_fraction:.2f}% hate"
    )


def _parse_label(label: str) -> int:
    """Accept ``1``/``hate`` and ``0``/``not_hate``."""
    names = {"1": 1, "hate": 1, "0": 0, "not_hate": 0}
    if label.lower() not in names:
        raise DataError(f"--label {label!r}: use 1/hate or 0/not_hate")
    return names[label.lower()]


@app.command("check")
@opt.with_groups
def check(
    path: Path = typer.Argument(..., help="CSV, TSV, JSONL or parquet file."),
    columns: opt.LabelColumns = opt.LabelColumns(),
    as_json: opt.JsonOption = False,
) -> None:
    """Validate a labelled file of your own and print its statistics."""
    from hateproto.data.stats import dataset_statistics
    from hateproto.data.tables import load_table

    data = load_table(path, **columns.load_kwargs())
    row = dataset_statistics(data)
    if as_json:
        typer.echo(json.dumps(row))
        return
    typer.echo(
        f"{path}: {row['n']:,} rows, {100 * row['hate_fraction']:.2f}% hate, "
        f"mean {row['mean_tokens']:.1f} whitespace tokens"
    )
