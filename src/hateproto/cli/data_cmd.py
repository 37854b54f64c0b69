"""``hateproto data``: inspect the benchmarks (sizes, class balance, overlap, examples)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from hateproto.data.benchmarks import BENCHMARKS, PROTOCOLS, load_benchmark
from hateproto.data.stats import protocol_statistics
from hateproto.data.types import LABEL_NAMES
from hateproto.errors import DataError

HELP = "Inspect the benchmark datasets: sizes, class balance, overlaps and examples."

app = typer.Typer(help=HELP, no_args_is_help=True)

_PROTOCOL_HELP = f"Protocol: {', '.join(PROTOCOLS)}."
_DATA_DIR_HELP = "Folder holding the datasets (default: $HATEPROTO_DATA or ../shared/datasets)."


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
    protocol: str = typer.Option("hateprototypes", "--protocol", "-p", help=_PROTOCOL_HELP),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=_DATA_DIR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print only a JSON list of rows."),
    dataset: list[str] | None = typer.Option(
        None, "--dataset", "-d", help="Only this dataset (repeatable)."
    ),
    seed: int = typer.Option(42, "--seed", help="Seed of the random IHC/OLID splits."),
) -> None:
    """Show size, hate %, mean length and train overlap of every dataset x split."""
    rows = protocol_statistics(protocol, data_dir=data_dir, datasets=dataset, seed=seed)
    if as_json:
        typer.echo(json.dumps(rows))
    else:
        Console().print(_stats_table(rows, protocol))


@app.command("show")
def show(
    dataset: str = typer.Option(..., "--dataset", "-d", help=f"One of {', '.join(BENCHMARKS)}."),
    protocol: str = typer.Option("hateprototypes", "--protocol", "-p", help=_PROTOCOL_HELP),
    split: str = typer.Option("train", "--split", "-s", help="train, dev or test."),
    n: int = typer.Option(5, "--n", "-n", help="How many examples."),
    label: str | None = typer.Option(None, "--label", help="Only hate (1) or not_hate (0)."),
    seed: int = typer.Option(0, "--seed", help="Seed for picking the examples."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=_DATA_DIR_HELP),
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


def parse_label_map(spec: str | None) -> dict[str, int] | None:
    """Parse ``"hate=1,normal=0,offensive=1"`` into a label map (``None`` when not given).

    Example:
        >>> parse_label_map("hate=1, normal=0")
        {'hate': 1, 'normal': 0}
    """
    if not spec:
        return None
    mapping: dict[str, int] = {}
    for item in spec.split(","):
        key, sep, value = item.strip().rpartition("=")
        if not sep or value.strip() not in ("0", "1") or not key:
            raise DataError(f"--label-map item {item.strip()!r}: write it as VALUE=0 or VALUE=1")
        mapping[key.strip()] = int(value)
    return mapping


@app.command("check")
def check(
    path: Path = typer.Argument(..., help="CSV, TSV, JSONL or parquet file."),
    text_column: str = typer.Option("text", help="Column holding the posts."),
    label_column: str = typer.Option("label", help="Column holding the labels."),
    label_map: str | None = typer.Option(
        None, help="Map raw labels to 0/1, e.g. 'hate=1,normal=0' (default: labels are 0/1)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print only a JSON object."),
) -> None:
    """Validate a labelled file of your own and print its statistics."""
    from hateproto.data.stats import dataset_statistics
    from hateproto.data.tables import load_table

    data = load_table(path, text_column, label_column, parse_label_map(label_map))
    row = dataset_statistics(data)
    if as_json:
        typer.echo(json.dumps(row))
        return
    typer.echo(
        f"{path}: {row['n']:,} rows, {100 * row['hate_fraction']:.2f}% hate, "
        f"mean {row['mean_tokens']:.1f} whitespace tokens"
    )
