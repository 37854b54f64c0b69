"""``hateproto early-exit``: calibrate per-layer thresholds and measure early exit.

    hateproto early-exit calibrate --prototypes DIR --data ihc --budget 0.5
    hateproto early-exit evaluate --prototypes DIR --data ihc [--delta 0.05]

The prototypes come from ``hateproto prototypes build``; when the model they were built on is
a fine-tuned classifier checkpoint, its head decides for posts that reach the last layer.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hateproto.cli.common import budget_points_to_f1
from hateproto.models.device import DEVICE_HELP

app = typer.Typer(
    help="Early exit: calibrate thresholds, evaluate speed and macro-F1.", no_args_is_help=True
)

_PROTOS = typer.Option(..., "--prototypes", "-P", help="Prototype folder (prototypes build).")
_MODEL = typer.Option(None, "--model", "-m", help="Model (default: the one the prototypes record).")
_DATA = typer.Option(..., "--data", "-d", help="Benchmark name.")
_PROTOCOL = typer.Option("hateprototypes", "--protocol", "-p")
_DATA_DIR = typer.Option(None, "--data-dir", help="Folder with the dataset releases.")
_MAX = typer.Option(2000, "--max-examples", help="Stratified subsample of the split (0: all).")
_DTYPE = typer.Option("float32", "--dtype", help="float32 or bfloat16.")
_BATCH = typer.Option(32, "--batch-size")
_DEVICE = typer.Option(None, "--device", help=DEVICE_HELP)


def _data(data: str, split: str, protocol: str, data_dir: Path | None, limit: int):  # noqa: ANN202
    from hateproto.data import load_benchmark
    from hateproto.training.data import stratified_subsample

    loaded = load_benchmark(data, split, protocol, data_dir)
    return stratified_subsample(loaded, limit or None, 0)


@app.command("calibrate")
def calibrate(
    prototypes: Path = _PROTOS,
    data: str = _DATA,
    budget: float = typer.Option(
        0.5, "--budget", help="Allowed macro-F1 loss, in points (0.5 = half a point; 0 to 100)."
    ),
    split: str = typer.Option("dev", "--split"),
    model: str | None = _MODEL,
    protocol: str = _PROTOCOL,
    data_dir: Path | None = _DATA_DIR,
    max_examples: int = _MAX,
    dtype: str = _DTYPE,
    batch_size: int = _BATCH,
    device: str | None = _DEVICE,
) -> None:
    """Choose one delta per layer on a dev split and save them as early_exit.json beside the
    prototypes."""
    from hateproto.early_exit.calibration import calibrate_on_data
    from hateproto.early_exit.loading import load_prototypes_and_head

    budget_f1 = budget_points_to_f1(budget, "--budget")
    protos, head = load_prototypes_and_head(prototypes, model, dtype, device)
    dev = _data(data, split, protocol, data_dir, max_examples)
    thresholds = calibrate_on_data(
        protos, dev, budget_f1, head, batch_size=batch_size, show_progress=True
    )
    path = thresholds.save(prototypes)
    meta = thresholds.metadata
    typer.echo(
        f"{data}/{split} ({len(dev)} posts): mean exit layer {meta['dev_mean_exit_layer']:.2f} "
        f"of {protos.backbone.num_layers}, macro-F1 {100 * meta['dev_macro_f1']:.2f} "
        f"(full {100 * meta['dev_full_macro_f1']:.2f}); deltas "
        + ", ".join(f"{k}: {v:.4g}" for k, v in thresholds.finite().items())
        + f"\nwrote {path}"
    )


@app.command("evaluate")
def evaluate(
    prototypes: Path = _PROTOS,
    data: str = _DATA,
    delta: float | None = typer.Option(
        None, "--delta", help="One margin threshold (default: the calibrated early_exit.json)."
    ),
    split: str = typer.Option("test", "--split"),
    model: str | None = _MODEL,
    protocol: str = _PROTOCOL,
    data_dir: Path | None = _DATA_DIR,
    max_examples: int = _MAX,
    dtype: str = _DTYPE,
    batch_size: int = _BATCH,
    device: str | None = _DEVICE,
    repeats: int = typer.Option(1, "--repeats", help="Interleaved timing repeats."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Macro-F1, mean exit layer and measured speed-up against full depth."""
    from hateproto.early_exit import EarlyExitClassifier, ExitThresholds
    from hateproto.early_exit.loading import load_prototypes_and_head

    protos, head = load_prototypes_and_head(prototypes, model, dtype, device)
    exits = (
        delta
        if delta is not None
        else ExitThresholds.load(prototypes, fingerprint=protos.backbone.fingerprint)
    )
    clf = EarlyExitClassifier.from_prototypes(protos, exits, head=head, batch_size=batch_size)
    test = _data(data, split, protocol, data_dir, max_examples)
    row = clf.evaluate(test, repeats=repeats)
    if json_out:
        typer.echo(json.dumps(row, default=str))
        return
    typer.echo(
        f"{data}/{split} ({row['n']} posts, batch {batch_size}): macro-F1 "
        f"{100 * row['macro_f1']:.2f} (full depth {100 * row['full_macro_f1']:.2f}); mean exit "
        f"layer {row['mean_exit_layer']:.2f} of {row['num_layers']} (counted x"
        f"{row['counted_speedup']:.2f}); measured x{row['measured_speedup']:.2f} "
        f"({row['wall_time_s']:.1f} s vs {row['full_wall_time_s']:.1f} s)"
    )
