"""``hateproto classify``: score a CSV, TSV, JSON-lines or Parquet file with a detector.

Streams the input in chunks (constant memory), shows a progress bar with rate and ETA, writes
the output to a temporary file renamed at the end, and can resume a killed run::

    hateproto classify posts.parquet scored.csv --detector detectors/ihc
    hateproto classify posts.csv scored.parquet --model minilm --prototypes protos/ --resume
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from hateproto.cli.options import (
    BatchSizeOption,
    DetectorOptions,
    JsonOption,
    MaxCharsOption,
    TextColumnOption,
    ThreadsOption,
    with_groups,
)
from hateproto.errors import DataError
from hateproto.outputs import check_output_file
from hateproto.scoring import ClassifySummary, TableReader, classify_file
from hateproto.scoring.classify import MAX_CHARS


def _report(summary: ClassifySummary, console: Console, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary.to_dict()))
        return
    rate = (summary.rows_read - summary.resumed_from) / summary.seconds if summary.seconds else 0
    console.print(
        f"Wrote {summary.rows_scored:,} scored rows to [bold]{summary.output}[/] "
        f"({summary.rows_read:,} rows read, {summary.bad_rows:,} bad rows skipped"
        + (f", resumed after row {summary.resumed_from:,}" if summary.resumed_from else "")
        + f"; {summary.seconds:.1f} s, {rate:,.1f} rows/s)."
    )
    for example in summary.bad_examples:
        console.print(f"  skipped {example}")


def register(app: typer.Typer) -> None:
    """Add the ``classify`` command to ``app``."""

    @app.command("classify")
    @with_groups
    def classify(
        input_path: Path = typer.Argument(..., metavar="INPUT", help="CSV/TSV/JSONL/parquet."),
        output_path: Path = typer.Argument(..., metavar="OUTPUT", help="Its format from suffix."),
        loaded: DetectorOptions = DetectorOptions(),
        text_column: TextColumnOption = "text",
        keep_columns: list[str] | None = typer.Option(
            None,
            "--keep-column",
            help="Input column to copy to the output (repeatable; default: all).",
        ),
        prefix: str = typer.Option("", help="Prefix of the prediction columns (e.g. pred_)."),
        chunk_size: int = typer.Option(1000, min=1, help="Rows read, scored, written at a time."),
        batch_size: BatchSizeOption = None,
        threads: ThreadsOption = None,
        resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run."),
        on_error: str = typer.Option("fail", help="Bad rows (empty/non-string text): skip|fail."),
        max_chars: MaxCharsOption = MAX_CHARS,
        engine: str = typer.Option("local", help="local, or ray (Ray Data workers)."),
        ray_address: str | None = typer.Option(
            None, help="Ray cluster: auto, ray://HEAD:10001 (default: start a local Ray)."
        ),
        ray_workers: int = typer.Option(1, min=1, help="Ray actors, each with one detector."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
        as_json: JsonOption = False,
    ) -> None:
        """Score every row of INPUT and write OUTPUT with label, hate_probability, margin and
        exit_layer added.

        Longer texts than --max-chars are bad rows, never tokenized (local engine)."""
        console = Console(stderr=True, soft_wrap=True)
        check_output_file(output_path, inputs=[input_path], option="OUTPUT")
        if on_error not in ("skip", "fail"):
            raise DataError(f"--on-error must be skip or fail, not {on_error!r}")
        if engine not in ("local", "ray"):
            raise DataError(f"--engine must be local or ray, not {engine!r}")
        TableReader(input_path, text_column)  # a bad input fails before the model loads
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        spec = loaded.spec(batch_size=batch_size)
        options = {
            "text_column": text_column,
            "chunk_size": chunk_size,
            "on_error": on_error,
            "keep_columns": keep_columns or None,
            "prefix": prefix,
            "show_progress": not quiet,
        }
        if engine == "ray":
            if resume:
                raise DataError("--resume works with --engine local only")
            from hateproto.scoring.ray_engine import classify_with_ray

            summary = classify_with_ray(
                spec, input_path, output_path, address=ray_address, workers=ray_workers, **options
            )
        else:
            summary = classify_file(
                spec.load(),
                input_path,
                output_path,
                resume=resume,
                log=lambda message: console.print(f"[yellow]{message}[/]"),
                max_chars=max_chars,
                **options,
            )
        _report(summary, console, as_json)
