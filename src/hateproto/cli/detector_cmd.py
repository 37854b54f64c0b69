"""``hateproto detector``: build, inspect and try out detector folders.

From nothing to a served detector in two commands::

    hateproto detector build --model minilm --dataset ihc --per-class 50 --out detectors/ihc
    hateproto serve --detector detectors/ihc
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from hateproto.cli import options as opt
from hateproto.cli.adapt_cmd import adapt, print_neighbours
from hateproto.cli.common import budget_points_to_f1, check_data_source
from hateproto.data import BENCHMARKS, load_benchmark, load_sample, load_table
from hateproto.data.types import LabeledTexts
from hateproto.detector import Detector, DetectorSettings, build_detector
from hateproto.detector.adapt import (
    apply_build_sources,
    draw_sources,
    merge_examples,
    parse_weighted,
)
from hateproto.dtypes import resolve_dtype
from hateproto.errors import ConfigError, DataError
from hateproto.outputs import DETECTOR_FOLDER, check_output_folder, replace_folder

HELP = "Build, inspect and try out detectors (model + prototypes + early-exit settings)."

app = typer.Typer(help=HELP, no_args_is_help=True)


def _training_data(
    dataset: str | None,
    data: Path | None,
    dev_data: Path | None,
    protocol: str,
    data_dir: str | None,
    columns: opt.LabelColumns,
) -> tuple[LabeledTexts, LabeledTexts | None]:
    """(train, dev) from a benchmark name, the built-in sample, or labelled files."""
    if (dataset is None) == (data is None):
        raise DataError("give either --dataset NAME (a benchmark or 'sample') or --data FILE")
    if data is not None:
        load = columns.load_kwargs()
        train = load_table(data, **load)
        dev = load_table(dev_data, split="dev", **load) if dev_data else None
        return train, dev
    check_data_source(dataset, ("sample", *BENCHMARKS), "--dataset")
    if dataset == "sample":
        return load_sample("train"), None
    return (
        load_benchmark(dataset, "train", protocol, data_dir),
        load_benchmark(dataset, "dev", protocol, data_dir),
    )


def _decision_layer(layer: str) -> int | str | None:
    """``auto``, ``last`` (None) or a layer number, from the command line."""
    if layer in ("auto", "last"):
        return None if layer == "last" else "auto"
    try:
        return int(layer)
    except ValueError:
        raise DataError(f"--layer must be auto, last or a layer number, not {layer!r}") from None


def _check_exit_budget(
    budget_points: float | None, dataset: str | None, dev_data: Path | None
) -> float | None:
    """The budget in F1 units; refused when there is no dev set to choose thresholds on."""
    budget = budget_points_to_f1(budget_points, "--exit-budget")
    if budget is not None and (dataset == "sample" or (dataset is None and dev_data is None)):
        raise ConfigError(
            "--exit-budget needs a dev set: give --dev-data FILE with --data, or a "
            "benchmark --dataset (it has a dev split; 'sample' has none)"
        )
    return budget


def _autotune_options(
    early_exit: bool,
    mode: str | None,
    dtype: str,
    budget: float | None,
    delta: float | None,
) -> tuple[bool, list[str]]:
    """(early exit on, choices to measure) from ``--early-exit``, ``--early-exit-mode`` and
    ``--dtype`` (auto: measured here); refused before anything is loaded when they cannot
    work. The dtype name itself is checked by the option, its support by the settings."""
    if mode not in (None, "on", "off", "auto"):
        raise ConfigError(f"--early-exit-mode must be on, off or auto, not {mode!r}")
    if mode in ("off", "auto") and (early_exit or delta is not None):
        raise ConfigError(f"--early-exit-mode {mode} contradicts --early-exit/--delta")
    if mode == "auto" and budget is None:
        raise ConfigError(
            "--early-exit-mode auto needs per-layer thresholds calibrated on dev: add "
            "--exit-budget POINTS (with a dev set: --dev-data FILE or a --dataset)"
        )
    autotune = [
        name for name, on in (("dtype", dtype == "auto"), ("early_exit", mode == "auto")) if on
    ]
    return early_exit or mode == "on", autotune


@app.command("build")
@opt.with_groups
def build(
    out: opt.OutOption = ...,
    overwrite: opt.OverwriteOption = False,
    model: opt.ModelOption = "minilm",
    dataset: opt.DatasetOption[str | None] = None,
    data: opt.DataOption[list[str] | None] = None,
    store_examples: opt.StoreExamplesOption = False,
    dev_data: opt.DevDataOption = None,
    columns: opt.LabelColumns = opt.LabelColumns(),
    protocol: opt.ProtocolOption = "hateprototypes",
    data_dir: opt.DataDirOption = None,
    per_class: opt.PerClassOption = 50,
    seed: opt.SeedOption = 0,
    layer: opt.LayerOption[str] = "auto",
    exit_budget: float | None = typer.Option(
        None,
        "--exit-budget",
        "--calibrate-budget",
        help="Choose per-layer early-exit thresholds on dev, allowing this macro-F1 "
        "loss against the full model, in points (0.5 = half a point; 0 to 100). "
        "--calibrate-budget is its old name.",
    ),
    early_exit: opt.EarlyExitOption = False,
    early_exit_mode: str | None = typer.Option(
        None,
        help="on (= --early-exit), off, or auto: measure on up to 512 dev posts here and turn "
        "early exit on only if it is >= 1.05x faster within the --exit-budget (needed), "
        "with batch refill where that is faster.",
    ),
    delta: opt.DeltaOption = None,
    decide_with: str = typer.Option("auto", help="auto, prototypes or head (fine-tuned head)."),
    dtype: opt.DtypeOption = "auto",
    device: opt.DeviceOption = None,
    batch_size: opt.BatchSizeOption = 32,
    threads: opt.ThreadsOption = None,
    recipe: opt.RecipeOption = None,
    recipe_config: Path | None = typer.Option(
        None, help="YAML overriding fields of the recipe (see hateproto/configs/<recipe>.yaml)."
    ),
    checkpoint: Path | None = typer.Option(
        None, help="With --recipe: reuse this trained checkpoint instead of training."
    ),
    target_precision: float | None = typer.Option(
        None, min=0.0, max=1.0, help="With --recipe: threshold for this dev precision."
    ),
    target_recall: float | None = typer.Option(
        None, min=0.0, max=1.0, help="With --recipe: threshold for this dev recall."
    ),
) -> None:
    """Build a detector folder: prototypes from PER_CLASS examples of each class.

    --dtype auto measures bfloat16 against float32 here (on up to 512 dev, else training,
    posts) and keeps the faster one whose labels agree on >= 99.5% of them."""
    console = Console(stderr=True, soft_wrap=True)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    if recipe is not None:
        from hateproto.cli.recipe_cmd import build_from_recipe

        build_from_recipe(
            out,
            overwrite,
            recipe,
            recipe_config,
            checkpoint,
            target_precision,
            target_recall,
            console,
        )
        return
    files = [parse_weighted(value) for value in data or []]
    inputs = [path for path, _ in files]
    out = check_output_folder(out, DETECTOR_FOLDER, overwrite, inputs=[*inputs, dev_data])
    budget = _check_exit_budget(exit_budget, dataset, dev_data)
    early_exit, autotune = _autotune_options(early_exit, early_exit_mode, dtype, budget, delta)
    first = inputs[0] if inputs else None
    train, dev = _training_data(dataset, first, dev_data, protocol, data_dir, columns)
    sources = draw_sources(train, files, per_class, seed, columns.load_kwargs())
    # auto starts from float32 and is measured by build_detector (autotune)
    values = {"dtype": resolve_dtype(dtype), "device": device}
    values["batch_size"] = batch_size
    values["decide_with"] = decide_with
    values.update(early_exit=early_exit or delta is not None, delta=delta)
    settings = DetectorSettings.from_dict(values, "options")
    detector = build_detector(
        model,
        merge_examples(sources),
        per_class=None,
        seed=seed,
        dev=dev,
        decision_layer=_decision_layer(layer),
        settings=settings,
        exit_budget=budget,
        show_progress=True,
        autotune=autotune,
    )
    detector = apply_build_sources(detector, sources, store_examples, per_class, seed)
    replace_folder(out, detector.save_pretrained)
    selection = detector.metadata.get("layer_selection")
    if selection:
        how = f"best dev macro-F1, {selection['per_layer'][str(detector.decision_layer)]}"
    else:
        how = "given" if layer not in ("auto", "last") else "last layer; no dev set to choose on"
    console.print(
        f"Detector written to [bold]{out}[/]: {model}, prototypes from {per_class} examples per "
        f"class of {train.name}, decision layer {detector.decision_layer}/"
        f"{detector.backbone.num_layers} ({how}); decides with {detector.decides_with}."
    )
    if detector.thresholds is not None:
        meta = detector.thresholds.metadata
        console.print(
            f"Early-exit thresholds calibrated on {dev.name}/{dev.split} (budget "
            f"{exit_budget:g} macro-F1 points): dev mean exit layer "
            f"{meta['dev_mean_exit_layer']:.2f}, "
            f"macro-F1 {meta['dev_macro_f1']:.4f} (full {meta['dev_full_macro_f1']:.4f})."
        )
    for key in ("dtype_choice", "early_exit_choice"):
        if key in detector.metadata:
            console.print(detector.metadata[key]["reason"], markup=False)
    console.print(f"Serve it: hateproto serve --detector {out}")


app.command("adapt")(adapt)


@app.command("route")
def route(
    folder: Path = typer.Argument(..., help="Detector that scores the posts not routed."),
    routes: list[str] = typer.Option(
        ...,
        "--route",
        "-r",
        help="LANGUAGE=DETECTOR_DIR: posts identified as LANGUAGE go to that detector; "
        "repeat for several.",
    ),
    out: opt.OutOption = None,
    overwrite: opt.OverwriteOption = False,
) -> None:
    """Route posts by language: a new detector folder that scores the posts of each --route
    language with that detector (copied inside) and the rest with FOLDER.

    E.g. keep English on the English detector: --route en=detectors/general."""
    from hateproto.detector.routing import check_route

    pairs = [_route_pair(value) for value in routes]
    inputs = [folder] + [path for _, path in pairs]
    out = check_output_folder(out, DETECTOR_FOLDER, overwrite, inputs=inputs)
    detector = Detector.from_pretrained(folder)
    answered = detector.facts().attributes
    for language, path in pairs:
        routed = Detector.from_pretrained(path)
        code = check_route(language, routed, answered)
        if code in detector.routes:
            raise ConfigError(f"--route {language}: the language {code!r} is routed twice")
        detector.routes[code] = routed
    replace_folder(out, detector.save_pretrained)
    codes = ", ".join(
        f"{code} -> {path}" for code, (_, path) in zip(detector.routes, pairs, strict=True)
    )
    typer.echo(
        f"Detector written to {out}: {codes}; every other language -> {folder}. "
        f"Languages served: {', '.join(detector.facts().languages)}"
    )


def _route_pair(value: str) -> tuple[str, Path]:
    language, sep, path = value.partition("=")
    if not sep or not language.strip() or not path.strip():
        raise ConfigError(f"--route {value!r}: give LANGUAGE=DETECTOR_DIR, e.g. en=detectors/en")
    if not Path(path).is_dir():
        raise ConfigError(f"--route {value!r}: detector folder not found: {path}")
    return language.strip(), Path(path)


@app.command("export")
def export(
    folder: Path = typer.Argument(..., help="Detector folder (format 2)."),
    out: opt.OutOption = ...,
) -> None:
    """Pack a detector folder into one .tar.gz, every file checked against its sha256.

    --out is the archive to write."""
    from hateproto.detector.transfer import export_detector

    archive = export_detector(folder, out)
    typer.echo(
        f"Detector {folder} exported to {archive}; on the other machine: "
        f"hateproto detector import {archive.name} --out DIR"
    )


@app.command("import")
def import_(
    archive: Path = typer.Argument(..., help="Archive written by `hateproto detector export`."),
    out: opt.OutOption = ...,
    overwrite: opt.OverwriteOption = False,
) -> None:
    """Unpack a detector archive into a folder, checking every file's sha256 (atomic)."""
    from hateproto.detector.transfer import import_detector

    folder = import_detector(archive, out, overwrite)
    typer.echo(f"Detector imported to {folder}; check it with: hateproto detector info {folder}")


@app.command("upgrade")
def upgrade(
    folder: Path = typer.Argument(..., help="Detector folder to rewrite in the current format."),
    model: opt.ModelOption = None,
) -> None:
    """Rewrite a detector folder as a self-contained format-2 folder (in place, atomically)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        detector = Detector.from_pretrained(folder, model=model)
    replace_folder(folder, detector.save_pretrained)
    typer.echo(f"Detector {folder} rewritten as a self-contained folder (format 2).")


@app.command("info")
def info(
    folder: Path = typer.Argument(..., help="Detector folder."),
    model: opt.ModelOption = None,
) -> None:
    """Print a detector's model, prototypes, thresholds and settings as JSON."""
    typer.echo(json.dumps(Detector.from_pretrained(folder, model=model).info(), indent=2))


@app.command("explain")
def explain(
    folder: Path = typer.Argument(..., help="Detector folder."),
    text: str = typer.Argument(..., help="The text to explain."),
    early_exit: opt.EarlyExitOption = False,
    delta: opt.DeltaOption = None,
    as_json: opt.JsonOption = False,
    k: int = typer.Option(5, "--neighbours", "-k", min=0, help="Nearest stored examples."),
) -> None:
    """Per-class similarity and margin of TEXT at every layer, and the decision."""
    overrides = {"early_exit": True, "delta": delta} if early_exit or delta is not None else {}
    explanation = Detector.from_pretrained(folder, **overrides).explain(text, k)
    if as_json:
        typer.echo(json.dumps(explanation.to_dict(), indent=2))
        return
    from rich.table import Table

    table = Table("layer", "not_hate", "hate", "margin", "label", "threshold")
    for row in explanation.layers:
        marker = " <" if row.layer == explanation.prediction.exit_layer else ""
        table.add_row(
            f"{row.layer}{marker}",
            f"{row.similarities.get('not_hate', float('nan')):.4f}",
            f"{row.similarities.get('hate', float('nan')):.4f}",
            f"{row.margin:.4f}",
            row.label,
            "-" if row.threshold is None else f"{row.threshold:.4f}",
        )
    console = Console(soft_wrap=True)
    console.print(table)
    print_neighbours(console, explanation.neighbours)
    p = explanation.prediction
    console.print(
        f"decision: [bold]{p.label}[/] (hate probability {p.hate_probability:.3f}, margin "
        f"{p.margin:.4f}, exit layer {p.exit_layer})"
    )
