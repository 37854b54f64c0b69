"""``hateproto early-exit``: calibrate per-layer thresholds and measure early exit.

    hateproto early-exit calibrate --prototypes DIR --data ihc --budget 0.5
    hateproto early-exit evaluate --prototypes DIR --data ihc [--delta 0.05]

The prototypes come from ``hateproto prototypes build``; when the model they were built on is
a fine-tuned classifier checkpoint, its head decides for posts that reach the last layer.

Importing this module loads neither torch nor the data stack: each command imports what it
needs when it runs, so ``hateproto early-exit --help`` stays fast.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import typer

from hateproto.cli.options import DEVICE_HELP

HELP = "Early exit: calibrate thresholds, evaluate speed and macro-F1."

_PROTOS = typer.Option(..., "--prototypes", "-P", help="Prototype folder (prototypes build).")
_DATA = typer.Option(..., "--data", "-d", help="Benchmark name.")


class Source(NamedTuple):
    """The options both commands share: the model, where the posts come from, and how to run.

    Each field is one command-line option (see :data:`_SOURCE_OPTIONS`).
    """

    model: str | None
    protocol: str
    data_dir: Path | None
    max_examples: int
    dtype: str
    batch_size: int
    device: str | None


_SOURCE_OPTIONS: dict[str, tuple[Any, Any]] = {
    "model": (
        str | None,
        typer.Option(None, "--model", "-m", help="Model (default: the one the prototypes record)."),
    ),
    "protocol": (str, typer.Option("hateprototypes", "--protocol", "-p")),
    "data_dir": (
        Path | None,
        typer.Option(None, "--data-dir", help="Folder with the dataset releases."),
    ),
    "max_examples": (
        int,
        typer.Option(2000, "--max-examples", help="Stratified subsample of the split (0: all)."),
    ),
    "dtype": (str, typer.Option("float32", "--dtype", help="float32 or bfloat16.")),
    "batch_size": (int, typer.Option(32, "--batch-size")),
    "device": (str | None, typer.Option(None, "--device", help=DEVICE_HELP)),
}


def _with_source(command: Callable[..., None]) -> Callable[..., None]:
    """``command(..., split, source)`` as a typer command whose signature has the
    :class:`Source` options in place of ``source``, right after ``split``."""

    @functools.wraps(command)
    def wrapper(**options: Any) -> None:
        source = Source(**{name: options.pop(name) for name in Source._fields})
        command(source=source, **options)

    own = [p for p in inspect.signature(command).parameters.values() if p.name != "source"]
    at = [p.name for p in own].index("split") + 1
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    shared = [
        inspect.Parameter(name, kind, default=option, annotation=annotation)
        for name, (annotation, option) in _SOURCE_OPTIONS.items()
    ]
    wrapper.__signature__ = inspect.Signature(own[:at] + shared + own[at:])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **{k: v for k, v in command.__annotations__.items() if k != "source"},
        **{name: annotation for name, (annotation, _) in _SOURCE_OPTIONS.items()},
    }
    return wrapper


def _data(data: str, split: str, source: Source):  # noqa: ANN202
    from hateproto.data import load_benchmark
    from hateproto.training.data import stratified_subsample

    loaded = load_benchmark(data, split, source.protocol, source.data_dir)
    return stratified_subsample(loaded, source.max_examples or None, 0)


def _load(prototypes: Path, source: Source):  # noqa: ANN202
    from hateproto.early_exit.loading import load_prototypes_and_head

    return load_prototypes_and_head(prototypes, source.model, source.dtype, source.device)


def calibrate(
    prototypes: Path = _PROTOS,
    data: str = _DATA,
    budget: float = typer.Option(
        0.5, "--budget", help="Allowed macro-F1 loss, in points (0.5 = half a point; 0 to 100)."
    ),
    split: str = typer.Option("dev", "--split"),
    *,
    source: Source,
) -> None:
    """Choose one delta per layer on a dev split and save them as early_exit.json beside the
    prototypes."""
    from hateproto.cli.common import budget_points_to_f1
    from hateproto.early_exit.calibration import calibrate_on_data

    budget_f1 = budget_points_to_f1(budget, "--budget")
    protos, head = _load(prototypes, source)
    dev = _data(data, split, source)
    thresholds = calibrate_on_data(
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
    prototypes: Path = _PROTOS,
    data: str = _DATA,
    delta: float | None = typer.Option(
        None, "--delta", help="One margin threshold (default: the calibrated early_exit.json)."
    ),
    split: str = typer.Option("test", "--split"),
    *,
    source: Source,
    repeats: int = typer.Option(1, "--repeats", help="Interleaved timing repeats."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
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
    group.command("calibrate")(_with_source(calibrate))
    group.command("evaluate")(_with_source(evaluate))
    app.add_typer(group, name="early-exit")
