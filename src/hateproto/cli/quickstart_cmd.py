"""``hateproto quickstart``: the main job on a built-in default.

Fetch the default model, load IHC, print its statistics, build frozen-model prototypes from a
few training examples per class, pick the layer on the dev split, and report test macro-F1 and
the wall time. Without a data directory it runs on the built-in sample and says so.
"""

from __future__ import annotations

import json
import time

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from hateproto.data import dataset_statistics, load_benchmark, load_sample, sample_per_class
from hateproto.data.types import LabeledTexts
from hateproto.evaluation import classification_metrics
from hateproto.models import DEFAULT_MODELS, Backbone, fetch_model
from hateproto.paths import resolve_data_dir
from hateproto.prototypes import PrototypeClassifier


def _load_splits(
    dataset: str, protocol: str, data_dir: str | None, console: Console
) -> dict[str, LabeledTexts]:
    resolved = resolve_data_dir(data_dir)
    if resolved is None or not resolved.is_dir():
        console.print(
            "[yellow]No data directory found (--data-dir, $HATEPROTO_DATA or "
            "../shared/datasets): using the built-in sample of ~60 posts.[/]"
        )
        train = load_sample("train")
        return {"train": train, "dev": train, "test": load_sample("test")}
    return {
        split: load_benchmark(dataset, split, protocol, resolved)
        for split in ("train", "dev", "test")
    }


def _print_statistics(splits: dict[str, LabeledTexts], console: Console) -> None:
    table = Table(
        "dataset", "protocol", "split", "n", "hate %", "mean tokens", title="Dataset statistics"
    )
    for split, data in splits.items():
        if split == "dev" and data is splits["train"]:
            continue
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


def register(app: typer.Typer) -> None:
    """Add the ``quickstart`` command to ``app``."""

    @app.command("quickstart")
    def quickstart(
        model: str = typer.Option("minilm", help="Alias, folder, GGUF file or hub id."),
        dataset: str = typer.Option("ihc", help="Benchmark to run on."),
        protocol: str = typer.Option("hateprototypes", help="Label and split protocol."),
        per_class: int = typer.Option(50, help="Training examples per class for prototypes."),
        seed: int = typer.Option(0, help="Seed of the example draw."),
        data_dir: str | None = typer.Option(None, help="Folder with the dataset releases."),
        dtype: str = typer.Option("float32", help="float32 or bfloat16."),
        batch_size: int = typer.Option(32),
        json_out: bool = typer.Option(False, "--json", help="Print only a JSON summary."),
    ) -> None:
        """Fetch the default model, load IHC, and classify its test set with prototypes."""
        console = Console(stderr=json_out, soft_wrap=True)
        start = time.perf_counter()
        if model in DEFAULT_MODELS:
            with console.status(f"fetching {model} (first run only)..."):
                fetch_model(model)
        splits = _load_splits(dataset, protocol, data_dir, console)
        _print_statistics(splits, console)
        backbone = Backbone.load(model, dtype=dtype)
        clf = PrototypeClassifier(backbone, layers="all", batch_size=batch_size)
        fit_set = sample_per_class(splits["train"], per_class, seed=seed, allow_fewer=True)
        progress = not json_out
        clf.fit_vectors(clf.encode(fit_set.texts, progress, "encoding prototypes"), fit_set.labels)
        dev_f1 = _per_layer_f1(clf, splits["dev"], progress)
        best_position = int(np.argmax(dev_f1))
        test_sims = clf.similarities_from_vectors(
            clf.encode(splits["test"].texts, progress, "encoding test")
        )
        test_pred = clf.classes_[test_sims[:, best_position].argmax(-1).numpy()]
        last_pred = clf.classes_[test_sims[:, -1].argmax(-1).numpy()]
        metrics = classification_metrics(splits["test"].labels, test_pred)
        summary = {
            "model": model,
            "dataset": splits["test"].name,
            "protocol": splits["test"].protocol,
            "per_class": per_class,
            "seed": seed,
            "layer": clf.layers[best_position],
            "num_layers": backbone.num_layers,
            "dev_macro_f1": dev_f1[best_position],
            "test_macro_f1": metrics["macro_f1"],
            "test_accuracy": metrics["accuracy"],
            "test_macro_f1_last_layer": classification_metrics(splits["test"].labels, last_pred)[
                "macro_f1"
            ],
            "n_test": len(splits["test"]),
            "wall_time_s": round(time.perf_counter() - start, 1),
        }
        if json_out:
            typer.echo(json.dumps(summary))
            return
        console.print(
            f"Prototypes from {per_class} examples per class, frozen {model}; layer "
            f"{summary['layer']}/{backbone.num_layers} chosen on dev (macro-F1 "
            f"{summary['dev_macro_f1']:.4f}).\n"
            f"[bold]Test macro-F1: {summary['test_macro_f1']:.4f}[/] (accuracy "
            f"{summary['test_accuracy']:.4f}; last layer {summary['test_macro_f1_last_layer']:.4f})"
            f" on {summary['n_test']:,} {summary['dataset']} test posts.\n"
            f"[bold]Wall time: {summary['wall_time_s']:.1f} s[/]"
        )


def _per_layer_f1(clf: PrototypeClassifier, data: LabeledTexts, progress: bool) -> list[float]:
    """Dev macro-F1 of the prototypes at every fitted layer (to choose the layer)."""
    sims = clf.similarities_from_vectors(clf.encode(data.texts, progress, "encoding dev"))
    preds = clf.classes_[sims.argmax(-1).numpy()]
    return [
        classification_metrics(data.labels, preds[:, i])["macro_f1"] for i in range(len(clf.layers))
    ]
