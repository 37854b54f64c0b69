"""``hateproto quickstart``: the main job on a built-in default.

Build a detector a user can keep, in about two minutes on 2 CPU cores: the packaged
``quickstart`` recipe (``hateproto/configs/quickstart.yaml``: a logistic-regression probe on
several layers of frozen MiniLM, trained on IHC's training split with group-swapped copies,
its regularisation, calibration and threshold chosen on dev). It prints the dataset
statistics, the test macro-F1 at the calibrated threshold, the expected calibration error and
the false-positive rate on non-hateful posts that name a group, and saves the detector.

Without a data directory it builds prototypes on the built-in sample of ~60 posts instead (a
smoke test of the installation, not a detector), and says so.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from hateproto.outputs import DETECTOR_FOLDER, check_output_folder, replace_folder
from hateproto.paths import home_dir, resolve_data_dir


def _print_statistics(splits: dict[str, Any], console: Console) -> None:
    from hateproto.data import dataset_statistics

    table = Table(
        "dataset", "protocol", "split", "n", "hate %", "mean tokens", title="Dataset statistics"
    )
    for split, data in splits.items():
        row = dataset_statistics(data)
        table.add_row(
            row["dataset"],
            row["protocol"],
            split,
            f"{row['n']:,}",
            f"{100 * row['hate_fraction']:.2f}",
            f"{row['mean_tokens']:.1f}",
        )
    console.print(table)


def _evaluate(detector: Any, test: Any) -> dict[str, Any]:
    """Test metrics of ``detector`` at its calibrated threshold."""
    from hateproto.evaluation import classification_metrics
    from hateproto.evaluation.calibration import expected_calibration_error
    from hateproto.evaluation.groups import group_fpr

    scores = detector.score_arrays(test.texts)
    metrics = classification_metrics(test.labels, scores.labels)
    return {
        "test_macro_f1": metrics["macro_f1"],
        "test_accuracy": metrics["accuracy"],
        "test_ece": expected_calibration_error(test.labels, scores.proba[:, 1]),
        "n_test": len(test),
        **group_fpr(test, scores.labels),
    }


def _build(
    model: str,
    dataset: str,
    protocol: str,
    data_dir: Path,
    overrides: dict[str, Any],
    console: Console,
) -> tuple[Any, dict[str, Any]]:
    """Train the quickstart recipe's detector; return it and its test figures."""
    from hateproto.data import load_benchmark
    from hateproto.detector.recipe import GeneralRecipe, build_general_detector

    splits = {s: load_benchmark(dataset, s, protocol, data_dir) for s in ("train", "dev", "test")}
    _print_statistics(splits, console)
    recipe = GeneralRecipe.default(
        "quickstart",
        model=model,
        data=dataset,
        protocol=protocol,
        data_dir=str(data_dir),
        **{k: v for k, v in overrides.items() if v is not None},
    )
    detector = build_general_detector(recipe, echo=lambda m: console.print(m, highlight=False))
    return detector, _evaluate(detector, splits["test"])


def _sample_run(model: str, per_class: int, seed: int, console: Console) -> dict[str, Any]:
    """No data directory: prototypes from the built-in sample (a smoke test, not a detector).
    The sample has no dev split, so the layer is chosen on its training posts."""
    from hateproto.data import load_sample, sample_per_class
    from hateproto.evaluation import classification_metrics
    from hateproto.models import Backbone
    from hateproto.prototypes import PrototypeClassifier
    from hateproto.prototypes.selection import choose_layer

    console.print(
        "[yellow]No data directory found (--data-dir, $HATEPROTO_DATA or ../shared/datasets): "
        "using the built-in sample of ~60 posts, with prototypes.[/]"
    )
    train, test = load_sample("train"), load_sample("test")
    _print_statistics({"train": train, "test": test}, console)
    backbone = Backbone.load(model)
    clf = PrototypeClassifier(backbone, layers="all")
    fit_set = sample_per_class(train, per_class, seed=seed, allow_fewer=True)
    clf.fit(fit_set.texts, fit_set.labels)
    choice = choose_layer(clf, train, limit=None)
    metrics = classification_metrics(test.labels, clf.predict(test.texts, layer=choice.chosen))
    last = classification_metrics(test.labels, clf.predict(test.texts, layer=clf.layers[-1]))
    return {
        "dataset": "sample",
        "layer": choice.chosen,
        "num_layers": backbone.num_layers,
        "dev_macro_f1": choice.per_layer[choice.chosen],
        "test_macro_f1": metrics["macro_f1"],
        "test_accuracy": metrics["accuracy"],
        "test_macro_f1_last_layer": last["macro_f1"],
        "n_test": len(test),
    }


def _report(summary: dict[str, Any], console: Console) -> None:
    from hateproto.evaluation.groups import MIN_GROUP

    line = (
        f"[bold]Test macro-F1: {summary['test_macro_f1']:.4f}[/] (accuracy "
        f"{summary['test_accuracy']:.4f}) on {summary['n_test']:,} {summary['dataset']} test posts"
    )
    if "test_ece" in summary:
        line += f"; calibration error (ECE) {summary['test_ece']:.3f}"
    console.print(line + ".")
    if summary.get("n_identity_neutral", 0) >= MIN_GROUP:
        groups = ", ".join(
            f"{g} {100 * v['fpr']:.0f}%" for g, v in summary["fpr_per_group"].items()
        )
        console.print(
            f"Non-hateful test posts that name a group flagged: "
            f"{100 * summary['fpr_identity_neutral']:.1f}% of "
            f"{summary['n_identity_neutral']:,} ({groups})."
        )
    if summary.get("detector"):
        console.print(
            f"Detector saved to [bold]{summary['detector']}[/]. Use it: hateproto classify "
            f"--detector {summary['detector']} posts.csv scored.csv; audit it: hateproto audit "
            f"--detector {summary['detector']}."
        )
        console.print(
            "A detector trained on all six benchmarks, for hate no single benchmark covers: "
            "hateproto detector build --recipe general --out detectors/general (about 26 min)."
        )
    console.print(f"[bold]Wall time: {summary['wall_time_s']:.1f} s[/]")


def register(app: typer.Typer) -> None:
    """Add the ``quickstart`` command to ``app``."""

    @app.command("quickstart")
    def quickstart(
        model: str = typer.Option("minilm", help="Alias, folder or hub id."),
        dataset: str = typer.Option("ihc", help="Benchmark to train and test on."),
        protocol: str = typer.Option("hateprototypes", help="Label and split protocol."),
        out: Path | None = typer.Option(
            None, help="Detector folder to write (default: $HATEPROTO_HOME/detectors/quickstart)."
        ),
        per_class: int | None = typer.Option(
            None, help="Prototype examples per class (default: the recipe's; 50 on the sample)."
        ),
        dtype: str | None = typer.Option(None, help="float32 or bfloat16 (default: bfloat16)."),
        seed: int = typer.Option(0, help="Seed of every random draw."),
        data_dir: str | None = typer.Option(None, help="Folder with the dataset releases."),
        json_out: bool = typer.Option(False, "--json", help="Print only a JSON summary."),
    ) -> None:
        """Build a detector for IHC in about two minutes, save it, and report its test figures."""
        from hateproto.models import DEFAULT_MODELS, fetch_model

        console = Console(stderr=json_out, soft_wrap=True)
        start = time.perf_counter()
        if model in DEFAULT_MODELS:
            with console.status(f"fetching {model} (first run only)..."):
                fetch_model(model)
        resolved = resolve_data_dir(data_dir)
        summary: dict[str, Any] = {"model": model, "dataset": dataset, "protocol": protocol}
        if resolved is None or not resolved.is_dir():
            summary.update(_sample_run(model, per_class or 50, seed, console))
        else:
            folder = check_output_folder(
                out or home_dir() / "detectors" / "quickstart", DETECTOR_FOLDER
            )
            overrides = {"per_class": per_class, "dtype": dtype, "seed": seed}
            detector, figures = _build(model, dataset, protocol, resolved, overrides, console)
            replace_folder(folder, detector.save_pretrained)
            summary.update(figures, detector=str(folder))
        summary["wall_time_s"] = round(time.perf_counter() - start, 1)
        if json_out:
            typer.echo(json.dumps(summary))
        else:
            _report(summary, console)
