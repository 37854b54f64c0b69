"""``hateproto train``: fine-tune a classifier from a YAML config and/or options.

Options given on the command line override the config file's values.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from hateproto.cli.common import check_data_source
from hateproto.cli.options import (
    BatchSizeOption,
    ConfigOption,
    DataDirOption,
    DataOption,
    DevDataOption,
    JsonOption,
    LabelColumnOption,
    ModelOption,
    OutOption,
    OverwriteOption,
    ProtocolOption,
    SeedOption,
    TextColumnOption,
)
from hateproto.data.mixture import parse_sources
from hateproto.errors import ConfigError
from hateproto.outputs import CHECKPOINT_FOLDER, check_output_folder, recover_folder
from hateproto.paths import home_dir
from hateproto.training import (
    DataConfig,
    HateClassifier,
    Trainer,
    TrainingConfig,
    evaluate_classifier,
    load_training_data,
)
from hateproto.training.data import is_mixture, load_mixture_for


def _apply(config: TrainingConfig, values: dict[str, Any]):
    """Return ``config`` with the non-``None`` option values applied (``values["data"]``: the
    data section's)."""
    data_values = values.pop("data")
    merged = {**config.model_dump(), **{k: v for k, v in values.items() if v is not None}}
    data = {**(config.data.model_dump() if config.data else {})}
    data.update({k: v for k, v in data_values.items() if v is not None})
    if data:
        if "dataset" not in data:
            raise ConfigError("no training data: pass --data NAME_OR_FILE or set data.dataset")
        merged["data"] = data
    return TrainingConfig.from_dict(merged, source="command line")


def _check_paths(cfg: TrainingConfig, overwrite: bool) -> None:
    """Before any work: the data exists (or is a known benchmark) and the output folder can be
    replaced without losing anything the user keeps there."""
    from hateproto.data import BENCHMARKS

    data = cfg.data
    if is_mixture(data.dataset):
        for source in parse_sources(data.dataset):
            check_data_source(source.name, BENCHMARKS, "--data")
    else:
        check_data_source(data.dataset, BENCHMARKS, "--data")
    if data.dev is not None:
        check_data_source(data.dev, (), "--dev-data")
    inputs = [p for p in (data.dataset, data.dev) if p is not None and Path(p).is_file()]
    output = check_output_folder(
        cfg.output_dir, CHECKPOINT_FOLDER, overwrite, inputs=inputs, option="--output"
    )
    if int(os.environ.get("RANK", "0")) == 0:  # one process of a multi-process launch
        recover_folder(output)


def _test_set(cfg: TrainingConfig) -> Any:
    """The benchmark's test split, when the training data is a benchmark."""
    from hateproto.data import BENCHMARKS, load_benchmark

    data = cfg.data
    if data is not None and is_mixture(data.dataset):
        return load_mixture_for(DataConfig.model_validate(data)).tests
    if data is None or data.dataset not in BENCHMARKS or Path(data.dataset).exists():
        return None
    return load_benchmark(data.dataset, "test", data.protocol, data.data_dir)


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""

    @app.command("train")
    def train(
        config_file: ConfigOption = None,
        model: ModelOption = None,
        data: DataOption[str | None] = None,
        protocol: ProtocolOption = None,
        data_dir: DataDirOption = None,
        max_train: int | None = typer.Option(None, "--max-train", help="Stratified subsample."),
        max_dev: int | None = typer.Option(None, "--max-dev"),
        output: OutOption = None,
        overwrite: OverwriteOption = False,
        text_column: TextColumnOption = None,
        label_column: LabelColumnOption = None,
        dev_data: DevDataOption = None,
        preset: str | None = typer.Option(None, help="classifier or embedding."),
        head: str | None = typer.Option(None, help="linear or mlp."),
        pooling: str | None = typer.Option(None, help="cls, mean, last, normalized_sum, max."),
        train_mode: str | None = typer.Option(
            None, "--train-mode", help="full (all weights), lora or probe (the head only)."
        ),
        epochs: int | None = typer.Option(None),
        lr: float | None = typer.Option(None, "--lr"),
        batch_size: BatchSizeOption = None,
        max_length: int | None = typer.Option(None),
        seed: SeedOption = None,
        bf16: bool | None = typer.Option(None, "--bf16/--no-bf16"),
        test: bool = typer.Option(True, "--test/--no-test", help="Score the test split after."),
        json_out: JsonOption = False,
    ) -> None:
        """Fine-tune a hate classifier and save it as a checkpoint folder.

        Options given override the --config file's values; --out is the checkpoint folder,
        --dev-data a dev file (default: a stratified part of --data)."""
        base = TrainingConfig.from_yaml(config_file) if config_file else TrainingConfig()
        options = {
            "backbone": model,
            "preset": preset,
            "head": head,
            "pooling": pooling,
            "mode": train_mode,
            "epochs": epochs,
            "learning_rate": lr,
            "batch_size": batch_size,
            "max_length": max_length,
            "seed": seed,
            "bf16": bf16,
            "output_dir": str(output) if output else None,
            "data": {
                "dataset": data,
                "protocol": protocol,
                "data_dir": data_dir,
                "max_train_examples": max_train,
                "max_dev_examples": max_dev,
                "text_column": text_column,
                "label_column": label_column,
                "dev": str(dev_data) if dev_data is not None else None,
            },
        }
        cfg = _apply(base, options)
        if cfg.data is None:
            raise ConfigError("no training data: pass --data NAME_OR_FILE or set data.dataset")
        if cfg.output_dir is None:
            raise ConfigError("no output folder: pass --output DIR or set output_dir")
        _check_paths(cfg, overwrite)
        if json_out:
            cfg = cfg.model_copy(update={"show_progress": False})
        summary = run_training(cfg, DataConfig.model_validate(cfg.data), test)
        if not summary["main_process"]:
            return  # under accelerate launch / torchrun only the main process reports
        if json_out:
            typer.echo(json.dumps(summary))
            return
        console = Console(soft_wrap=True)
        console.print(
            f"trained on {summary['n_train']:,} examples in {summary['train_seconds']:.1f} s "
            f"({summary['examples_per_second']:.1f} examples/s); best epoch "
            f"{summary['best_epoch']}, dev macro-F1 {summary['dev_macro_f1']:.4f}"
        )
        if "test_macro_f1" in summary:
            console.print(
                f"[bold]test macro-F1 {summary['test_macro_f1']:.4f}[/] (accuracy "
                f"{summary['test_accuracy']:.4f}) on {summary['n_test']:,} test posts"
            )
        for name, row in summary.get("tests", {}).items():
            console.print(
                f"test {name} (general protocol): macro-F1 {row['macro_f1']:.4f}, accuracy "
                f"{row['accuracy']:.4f} on {row['n']:,} posts"
            )
        console.print(f"saved to {summary['output_dir']} (log: {summary['log']})")


def run_training(cfg: TrainingConfig, data: DataConfig, test: bool = True) -> dict[str, Any]:
    """Load the data, train, save the checkpoint (with its log) and score the test split."""
    from hateproto.training.trainer import make_accelerator

    state = make_accelerator()
    train, dev = load_training_data(data)
    output = Path(cfg.output_dir).expanduser()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log = home_dir() / "logs" / "train" / f"{output.name}-{stamp}.log"
    clf = HateClassifier.from_config(cfg)
    log_path = log if state.is_main_process else None
    result = Trainer(cfg, log_path=log_path, accelerator=state).fit(clf, train, dev)
    summary: dict[str, Any] = {
        "main_process": state.is_main_process,
        "num_processes": state.num_processes,
        "output_dir": str(output),
        "log": str(output / "train.log"),
        "n_train": len(train),
        "n_dev": len(dev),
        "best_epoch": result.best_epoch,
        "dev_macro_f1": result.dev_metrics.get("macro_f1", float("nan")),
        "train_seconds": result.train_seconds,
        "examples_per_second": result.examples_per_second,
    }
    clf.run_info = {
        k: v for k, v in summary.items() if k not in ("output_dir", "log", "main_process")
    }
    if state.is_main_process:
        clf.save_pretrained(output)
        if log.is_file():
            shutil.copyfile(log, output / "train.log")
    test_set = _test_set(cfg) if test and state.is_main_process else None
    if isinstance(test_set, dict):  # a mixture: every source's test split
        summary["tests"] = {
            name: _metrics_row(evaluate_classifier(clf, data)) for name, data in test_set.items()
        }
    elif test_set is not None:
        metrics = evaluate_classifier(clf, test_set)
        summary.update(
            test_macro_f1=metrics["macro_f1"],
            test_accuracy=metrics["accuracy"],
            test_binary_f1=metrics["binary_f1"],
            test_pr_auc=metrics["pr_auc"],
            n_test=metrics["n"],
        )
    return summary


def _metrics_row(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("macro_f1", "accuracy", "binary_f1", "pr_auc", "n")
    return {key: metrics[key] for key in keys if key in metrics}
