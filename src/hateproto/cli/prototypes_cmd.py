"""``hateproto prototypes``: build prototype folders and show what one holds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console

from hateproto.cli import options as opt
from hateproto.cli.common import check_per_class, load_source
from hateproto.dtypes import resolve_dtype
from hateproto.errors import ConfigError
from hateproto.models import Backbone
from hateproto.outputs import PROTOTYPE_FOLDER, check_output_folder, replace_folder
from hateproto.prototypes import PrototypeClassifier
from hateproto.prototypes.files import read_spec
from hateproto.prototypes.selection import choose_layer

HELP = "Build HatePrototypes (per-layer class means) and inspect saved prototype folders."

app = typer.Typer(help=HELP, no_args_is_help=True)


def parse_layers(value: str) -> str | list[int]:
    """``all``, ``last`` or comma-separated layer numbers (0 = embeddings, negatives from the
    end) → what :meth:`Backbone.resolve_layers` takes.

    Example:
        >>> parse_layers("0,3,-1")
        [0, 3, -1]
    """
    value = value.strip()
    if value in ("all", "last"):
        return value
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--layers {value!r}: use all, last or numbers like 1,3,6") from None


@app.command("build")
@opt.with_groups
def build(
    model: opt.ModelOption,
    data: opt.DataOption[str],
    out: opt.OutOption,
    overwrite: opt.OverwriteOption = False,
    protocol: opt.ProtocolOption = "hateprototypes",
    split: opt.SplitOption = "train",
    per_class: opt.PerClassOption = None,
    seed: opt.SeedOption = 0,
    layers: str = typer.Option("all", "--layers", help="all, last or numbers like 1,3,6."),
    normalize: str = typer.Option("example", "--normalize", help="example or mean."),
    temperature: float = typer.Option(0.05, "--temperature", help="Softmax temperature."),
    choose_layer_on: str | None = typer.Option(
        None, "--choose-layer-on", help="Pick the default layer by macro-F1 on this split."
    ),
    choose_limit: int = typer.Option(2000, "--choose-limit", help="At most this many texts."),
    columns: opt.LabelColumns = opt.LabelColumns(),
    dtype: opt.DtypeOption = "auto",
    batch_size: opt.BatchSizeOption = 32,
    data_dir: opt.DataDirOption = None,
) -> None:
    """Encode N examples per class (default: all) of the --split once (all layers) and save
    their class means."""
    if normalize not in ("example", "mean"):
        raise ConfigError(f"--normalize {normalize!r}: use example or mean")
    start = time.perf_counter()
    out = check_output_folder(out, PROTOTYPE_FOLDER, overwrite, inputs=[_file_or_none(data)])
    source = load_source(data, split, protocol, data_dir, columns)
    check_per_class(source, per_class)
    backbone = Backbone.load(model, dtype=resolve_dtype(dtype))  # auto: float32, as before
    clf = PrototypeClassifier(
        backbone,
        layers=parse_layers(layers),
        normalize=normalize,  # type: ignore[arg-type]
        temperature=temperature,
        batch_size=batch_size,
    )
    clf.fit_data(source, per_class=per_class, seed=seed, show_progress=True)
    clf.metadata["build_command"] = {"model": model, "data": data, "split": split}
    if choose_layer_on:
        dev = load_source(data, choose_layer_on, protocol, data_dir, columns)
        choice = choose_layer(clf, dev, limit=choose_limit, seed=seed, show_progress=True)
        clf.default_layer = choice.chosen
        clf.metadata["layer_choice"] = choice.as_metadata()
    else:
        clf.default_layer = clf.layers[-1]  # recorded, so `prototypes info` shows it
    stale = (out / "early_exit.json").is_file()
    replace_folder(out, clf.save_pretrained)
    counts = ", ".join(f"{k}: {v}" for k, v in clf.n_per_class_.items())
    console = Console(stderr=True, soft_wrap=True)
    console.print(
        f"prototypes of {len(clf.layers)} layer(s) from {source.name}/{source.split} "
        f"({counts} examples per class) with {model}; default layer "
        f"{clf.layers[clf.layer_position(None)]}; written to {out} in "
        f"{time.perf_counter() - start:.1f} s"
    )
    if stale:
        console.print(
            f"removed {out / 'early_exit.json'}: its thresholds were calibrated for the old "
            f"prototypes; run `hateproto early-exit calibrate --prototypes {out} ...` again"
        )


def _file_or_none(data: str) -> Path | None:
    """``data`` as a path when it names an existing file (not a benchmark)."""
    path = Path(data).expanduser()
    return path if path.is_file() else None


@app.command("info")
def info(
    directory: Path = typer.Argument(..., help="A folder written by `prototypes build`."),
) -> None:
    """Print the JSON record of a prototype folder (after checking it is readable)."""
    spec = read_spec(directory)
    typer.echo(json.dumps(spec.model_dump(mode="json"), indent=1))
