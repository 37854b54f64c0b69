"""``hateproto triage``: rank unlabelled posts by prototype margin for human review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hateproto.cli.options import (
    DtypeOption,
    LayerOption,
    ModelOption,
    OutOption,
    PrototypesOption,
    TextColumnOption,
)
from hateproto.data import read_table
from hateproto.dtypes import resolve_dtype
from hateproto.errors import ConfigError
from hateproto.models import Backbone
from hateproto.outputs import atomic_output_file, check_output_file
from hateproto.prototypes import PrototypeClassifier
from hateproto.prototypes.triage import triage_frame, write_table


def register(app: typer.Typer) -> None:
    """Add the ``triage`` command to ``app``."""

    @app.command("triage")
    def triage(
        input_path: Annotated[
            Path, typer.Option("--input", "-i", help="CSV, TSV, JSONL or parquet.")
        ],
        prototypes: PrototypesOption,
        output: OutOption,
        model: ModelOption = None,
        text_column: TextColumnOption = "text",
        layer: LayerOption[int | None] = None,
        top: int | None = typer.Option(None, "--top", help="Write only the N most ambiguous."),
        dtype: DtypeOption = "auto",
    ) -> None:
        """Write the input rows sorted by margin, smallest (most ambiguous) first, with
        triage_rank, margin, label and hate_score columns."""
        dtype = resolve_dtype(dtype)  # auto: float32, as before
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
