"""``hateproto early-exit``: calibrate per-layer thresholds and measure early exit.

    hateproto early-exit calibrate --prototypes DIR --data ihc --budget 0.5
    hateproto early-exit evaluate --prototypes DIR --data ihc [--delta 0.05]

The prototypes come from ``hateproto prototypes build``; when the model they were built on is
a fine-tuned classifier checkpoint, its head decides for posts that reach the last layer.

Importing this module loads neither torch nor the data stack: each command imports what it
needs when it runs, so ``hateproto early-exit --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer

from hateproto.cli.options import (
    BatchSizeOption,
    DataDirOption,
    DataOption,
    DeltaOption,
    DeviceOption,
    DtypeOption,
    JsonOption,
    MaxExamplesOption,
    ModelOption,
    ProtocolOption,
    PrototypesOption,
    SplitOption,
    with_groups,
)

HELP = "Early exit: calibrate thresholds, evaluate speed and macro-F1."


@dataclasses.dataclass(frozen=True)
class Source:
    """The options both commands share: the model, where the posts come from, and how to run."""

    model: ModelOption = None
    protocol: ProtocolOption = "hateprototypes"
    data_dir: DataDirOption = None
    max_examples: MaxExamplesOption = 2000
    dtype: DtypeOption = "auto"
    batch_size: BatchSizeOption = 32
    device: DeviceOption = None


def _data(data: str, split: str, source: Source):  # noqa: ANN202
    from hateproto.cli.common import load_source
    from hateproto.training.data import stratified_subsample

    loaded = load_source(data, split, source.protocol, source.data_dir)
    return stratified_subsample(loaded, source.max_examples or None, 0)


def _load(prototypes: Path, source: Source):  # noqa: ANN202
    from hateproto.dtypes import resolve_dtype
    from hateproto.early_exit.loading import load_prototypes_and_head

    dtype = resolve_dtype(source.dtype)  # auto: float32, as before
    return load_prototypes_and_head(prototypes, source.model, dtype, source.device)


def calibrate(
    prototypes: PrototypesOption,
    data: DataOption[str],
    budget: float = typer.Option(
        0.5, "--budget", help="Allowed macro-F1 loss, in points (0.5 = half a point; 0 to 100)."
    ),
    split: SplitOption = "dev",
    source: Source = Source(),
) -> None:
    """Choose one delta per layer on a dev split and save them as early_exit.json beside the
    prototypes."""
    from hateproto.cli.common import budget_points_to_f1
    from hateproto.early_exit.thresholds import choose_exit_thresholds

    budget_f1 = budget_points_to_f1(budget, "--budget")
    protos, head = _load(prototypes, source)
    dev = _data(data, split, source)
    thresholds = choose_exit_thresholds(
        protos, dev, budget_f1, head, batch_size=source.batch_size, show_progress=True
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


def evaluate(
    prototypes: PrototypesOption,
    data: DataOption[str],
    delta: DeltaOption = None,
    split: SplitOption = "test",
    source: Source = Source(),
    repeats: int = typer.Option(1, "--repeats", help="Interleaved timing repeats."),
    json_out: JsonOption = False,
) -> None:
    """Macro-F1, mean exit layer and measured speed-up against full depth."""
    from hateproto.early_exit import EarlyExitClassifier, ExitThresholds

    protos, head = _load(prototypes, source)
    exits = (
        delta
        if delta is not None
        else ExitThresholds.load(prototypes, fingerprint=protos.backbone.fingerprint)
    )
    clf = EarlyExitClassifier.from_prototypes(
        protos, exits, head=head, batch_size=source.batch_size
    )
    test = _data(data, split, source)
    row = clf.evaluate(test, repeats=repeats)
    if json_out:
        typer.echo(json.dumps(row, default=str))
        return
    typer.echo(
        f"{data}/{split} ({row['n']} posts, batch {source.batch_size}): macro-F1 "
        f"{100 * row['macro_f1']:.2f} (full depth {100 * row['full_macro_f1']:.2f}); mean exit "
        f"layer {row['mean_exit_layer']:.2f} of {row['num_layers']} (counted x"
        f"{row['counted_speedup']:.2f}); measured x{row['measured_speedup']:.2f} "
        f"({row['wall_time_s']:.1f} s vs {row['full_wall_time_s']:.1f} s)"
    )


def register(app: typer.Typer) -> None:
    """Add the ``early-exit`` command group (calibrate, evaluate) to ``app``."""
    group = typer.Typer(help=HELP, no_args_is_help=True)
    group.command("calibrate")(with_groups(calibrate))
    group.command("evaluate")(with_groups(evaluate))
    app.add_typer(group, name="early-exit")
