"""``hateproto quickstart``: the main job on a built-in default.

Build a detector a newcomer would keep, in about five minutes on 2 CPU cores from a fresh
install (issue 30): the packaged ``quickstart`` recipe (``hateproto/configs/quickstart.yaml``),
which is the general recipe (six benchmarks, CONAN counter-speech, Davidson, generated
contrast pairs; a two-layer head on six frozen MiniLM layers with the group directions
projected out; spelling normalisation; calibration and a target-recall threshold) on a
stratified subsample of its training posts. It saves the detector, then prints a demo table of
sentences written for it (each marked right or wrong against its expected label), the
detector's summary on the functional audit's test half, and what to try next.

``--recipe ihc-paper`` builds the HatePrototypes paper's IHC probe instead (the main job before
issue 30) and also prints its IHC test figures, which compare with the paper and TF-IDF.

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

from hateproto.cli import options as opt
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


def _single_benchmark(recipe: Any) -> str | None:
    """The benchmark a recipe trains on when it trains on one alone (its test split is then
    the figure to report), else ``None``."""
    from hateproto.data.benchmarks import BENCHMARKS
    from hateproto.data.mixture import parse_sources

    sources = parse_sources(recipe.data)
    if len(sources) == 1 and sources[0].name in BENCHMARKS:
        return sources[0].name
    return None


def _build(
    name: str,
    data_dir: Path,
    overrides: dict[str, Any],
    console: Console,
) -> tuple[Any, dict[str, Any]]:
    """Build the packaged recipe ``name``; return the detector and its figures (the test split
    of a single-benchmark recipe: its statistics, macro-F1, ECE and group FPR)."""
    from hateproto.detector.recipe import GeneralRecipe, build_general_detector

    recipe = GeneralRecipe.default(
        name,
        data_dir=str(data_dir),
        **{k: v for k, v in overrides.items() if v is not None},
    )
    figures: dict[str, Any] = {"recipe": name, "data": recipe.data, "protocol": recipe.protocol}
    benchmark = _single_benchmark(recipe)
    splits = {}
    if benchmark is not None:
        from hateproto.data import load_benchmark

        splits = {
            s: load_benchmark(benchmark, s, recipe.protocol, data_dir)
            for s in ("train", "dev", "test")
        }
        _print_statistics(splits, console)
    from hateproto.audit import audit_dev_texts

    detector = build_general_detector(
        recipe, echo=lambda m: console.print(m, highlight=False), audit_dev=audit_dev_texts
    )
    training = detector.metadata.get("training", {})
    figures.update(
        n_train=training.get("n_train"),
        n_train_posts=training.get("n_train_posts"),
        n_train_posts_available=training.get("n_train_posts_available"),
        threshold=detector.calibration.threshold if detector.calibration else None,
    )
    if benchmark is not None:
        figures.update(dataset=benchmark, **_evaluate(detector, splits["test"]))
    return detector, figures


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

    if summary.get("n_train_posts") is not None:
        console.print(
            f"Trained on {summary['n_train_posts']:,} of the "
            f"{summary['n_train_posts_available']:,} training posts of {summary['data']} "
            f"({summary['n_train']:,} with group-swapped and spelling copies); threshold "
            f"{summary['threshold']:.3f}.",
            highlight=False,
        )
    if "test_macro_f1" in summary:
        line = (
            f"[bold]Test macro-F1: {summary['test_macro_f1']:.4f}[/] (accuracy "
            f"{summary['test_accuracy']:.4f}) on {summary['n_test']:,} {summary['dataset']} "
            "test posts"
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
    if summary.get("demo"):
        from hateproto.cli.quickstart_demo import print_audit, print_demo, print_next_steps

        print_demo(summary["demo"], console)
        print_audit(summary["audit"], console)
        console.print(f"Detector saved to [bold]{summary['detector']}[/].")
        print_next_steps(summary["detector"], console)
    console.print(f"[bold]Wall time: {summary['wall_time_s']:.1f} s[/]")


def register(app: typer.Typer) -> None:
    """Add the ``quickstart`` command to ``app``."""

    @app.command("quickstart")
    def quickstart(
        recipe: opt.RecipeOption = "quickstart",
        model: opt.ModelOption = None,
        out: opt.OutOption = None,
        per_class: opt.PerClassOption = None,
        dtype: opt.DtypeOption = "auto",
        seed: opt.SeedOption = 0,
        data_dir: opt.DataDirOption = None,
        json_out: opt.JsonOption = False,
    ) -> None:
        """Build a detector in about five minutes, save it, and show it at work: a demo
        table, its functional audit (test half) and what to try next."""
        from hateproto.cli.quickstart_demo import audit_summary, demo_rows
        from hateproto.detector.recipe import RECIPES
        from hateproto.errors import ConfigError
        from hateproto.models import DEFAULT_MODELS, fetch_model

        if recipe not in RECIPES:
            raise ConfigError(f"--recipe {recipe}: unknown recipe; known: {', '.join(RECIPES)}")
        console = Console(stderr=json_out, soft_wrap=True)
        start = time.perf_counter()
        model_name = model or "minilm"
        if model_name in DEFAULT_MODELS:
            with console.status(f"fetching {model_name} (first run only)..."):
                fetch_model(model_name)
        resolved = resolve_data_dir(data_dir)
        summary: dict[str, Any] = {"model": model_name}
        if resolved is None or not resolved.is_dir():
            summary.update(_sample_run(model_name, per_class or 50, seed, console))
        else:
            folder = check_output_folder(out or home_dir() / "detectors" / recipe, DETECTOR_FOLDER)
            recipe_dtype = None if dtype == "auto" else dtype  # auto: the recipe's dtype
            overrides = {
                "model": model,
                "per_class": per_class,
                "dtype": recipe_dtype,
                "seed": seed,
            }
            detector, figures = _build(recipe, resolved, overrides, console)
            replace_folder(folder, detector.save_pretrained)
            summary.update(figures, detector=str(folder))
            summary["demo"] = demo_rows(detector)
            summary["audit"] = audit_summary(detector, "test")
        summary["wall_time_s"] = round(time.perf_counter() - start, 1)
        if json_out:
            typer.echo(json.dumps(summary))
        else:
            _report(summary, console)
