"""``hateproto triage``: rank unlabelled posts by prototype margin for human review."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from hateproto.data import read_table
from hateproto.errors import ConfigError
from hateproto.models import Backbone
from hateproto.outputs import atomic_output_file, check_output_file
from hateproto.prototypes import PrototypeClassifier
from hateproto.prototypes.triage import triage_frame, write_table


def register(app: typer.Typer) -> None:
    """Add the ``triage`` command to ``app``."""

    @app.command("triage")
    def triage(
        input_path: Path = typer.Option(..., "--input", "-i", help="CSV, TSV, JSONL or parquet."),
        prototypes: Path = typer.Option(..., "--prototypes", help="A prototype folder."),
        output: Path = typer.Option(..., "--output", "-o", help="CSV, TSV or JSONL to write."),
        model: str | None = typer.Option(
            None, "--model", "-m", help="Backbone (default: the one the prototypes record)."
        ),
        text_column: str = typer.Option("text", "--text-column"),
        layer: int | None = typer.Option(None, "--layer", help="Default: the saved default."),
        top: int | None = typer.Option(None, "--top", help="Write only the N most ambiguous."),
        dtype: str = typer.Option("float32", "--dtype", help="float32 or bfloat16."),
    ) -> None:
        """Write the input rows sorted by margin, smallest (most ambiguous) first, with
        triage_rank, margin, label and hate_score columns."""
        output = check_output_file(output, inputs=[input_path])
        if top is not None and top < 1:
            raise ConfigError(f"--top must be at least 1, got {top}")
        frame = read_table(input_path, text_column=text_column)
        backbone = Backbone.load(model, dtype=dtype) if model else None
        clf = PrototypeClassifier.from_pretrained(prototypes, backbone=backbone, dtype=dtype)
        ranked = triage_frame(clf, frame, text_column, layer, show_progress=True)
        if top is not None:
            ranked = ranked.head(top)
        with atomic_output_file(output) as tmp:
            write_table(ranked, tmp)
        Console(stderr=True, soft_wrap=True).print(
            f"{len(ranked):,} of {len(frame):,} posts ranked by margin (layer "
            f"{clf.layers[clf.layer_position(layer)]}) written to {output}"
        )
