"""In- and cross-dataset evaluation of fine-tuned classifiers (HatePrototypes Table 2, the
embedding paper's cross-dataset table).

For every setup, training dataset and seed: fine-tune (or reload the saved checkpoint), then
test on every dataset of the protocol. Rows go to a resumable JSON list (one per setup, train
dataset, test dataset and seed); a Markdown file holds the mean ± std macro-F1 matrices and,
optionally, a two-sided paired t-test between two setups. Run it from a YAML config with
``run_cross_dataset(CrossDatasetConfig.from_yaml(path))`` or ``hateproto experiment
cross-dataset --config path``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from hateproto.config import YamlConfig
from hateproto.data import PROTOCOLS, LabeledTexts, load_benchmark
from hateproto.errors import ConfigError
from hateproto.evaluation import paired_ttest
from hateproto.experiments.protocols import check_protocol_datasets
from hateproto.experiments.results import ResultStore, atomic_write_text, markdown_matrix
from hateproto.paths import home_dir
from hateproto.training import (
    HateClassifier,
    Trainer,
    TrainingConfig,
    evaluate_classifier,
    read_classifier_meta,
    stratified_subsample,
)
from hateproto.training.checkpoint import CLASSIFIER_FILE

KEY_FIELDS = ("setup", "train_dataset", "test_dataset", "seed")


class SetupConfig(YamlConfig):
    """One trained variant: a name and the :class:`TrainingConfig` fields it changes."""

    name: str
    overrides: dict[str, Any] = Field(default_factory=dict)


class CrossDatasetConfig(YamlConfig):
    """Settings of a cross-dataset experiment.

    ``checkpoint_dir`` may use ``{setup}``, ``{dataset}`` and ``{seed}``; when set, every
    trained model is saved there and reused (not retrained) when the experiment runs again.
    Subsampling is stratified with ``sample_seed``, the same for every training seed, so seeds
    differ only in initialisation and batch order.
    """

    name: str = "cross-dataset"
    protocol: str = "hateprototypes"
    datasets: list[str] | None = Field(None, description="training sets (default: the protocol's)")
    test_datasets: list[str] | None = Field(None, description="default: the training sets")
    in_dataset_only: bool = Field(False, description="test each model on its own dataset only")
    seeds: list[int] = Field(default_factory=lambda: [0, 1], min_length=1)
    data_dir: str | None = None
    max_train_examples: int | None = Field(None, ge=2)
    max_dev_examples: int | None = Field(None, ge=2)
    max_test_examples: int | None = Field(None, ge=2)
    sample_seed: int = 0
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    setups: list[SetupConfig] = Field(default_factory=lambda: [SetupConfig(name="default")])
    compare: list[str] | None = Field(None, description="two setup names for a paired t-test")
    results: str = Field(description="JSON results file (rows)")
    markdown: str | None = Field(None, description="default: the results path with .md")
    checkpoint_dir: str | None = None
    log_dir: str | None = Field(None, description="default: $HATEPROTO_HOME/logs/<name>")

    @model_validator(mode="after")
    def _check(self) -> CrossDatasetConfig:
        check_protocol_datasets(self.protocol, lambda: self.train_names() + self.test_names())
        names = [s.name for s in self.setups]
        if len(set(names)) != len(names):
            raise ValueError(f"setup names must be unique, got {names}")
        if self.compare is not None and (
            len(self.compare) != 2 or not set(self.compare) <= set(names)
        ):
            raise ValueError(f"compare must name two of the setups {names}, got {self.compare}")
        for setup in self.setups:
            self.training_config(setup)
        return self

    def train_names(self) -> list[str]:
        """The training datasets."""
        return list(self.datasets or PROTOCOLS[self.protocol])

    def test_names(self) -> list[str]:
        """The test datasets."""
        return list(self.test_datasets or self.train_names())

    def training_config(self, setup: SetupConfig) -> TrainingConfig:
        """The base ``training`` settings with ``setup``'s overrides applied."""
        values = {**self.training.model_dump(), **setup.overrides}
        return TrainingConfig.from_dict(values, source=f"setup {setup.name!r}")

    def select_setups(self, names: list[str]) -> CrossDatasetConfig:
        """This config restricted to the named setups (no comparison unless both remain)."""
        known = [s.name for s in self.setups]
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise ConfigError(f"unknown setup(s) {unknown}; this config has {known}")
        setups = [s for s in self.setups if s.name in names]
        keep = self.compare if self.compare and set(self.compare) <= set(names) else None
        return self.model_copy(update={"setups": setups, "compare": keep})

    def markdown_path(self) -> Path:
        """Where the Markdown summary goes."""
        return Path(self.markdown or Path(self.results).with_suffix(".md"))

    def checkpoint_path(self, setup: str, dataset: str, seed: int) -> Path | None:
        """The checkpoint folder of one run, if checkpoints are kept."""
        if not self.checkpoint_dir:
            return None
        return Path(
            self.checkpoint_dir.format(setup=setup, dataset=dataset, seed=seed)
        ).expanduser()

    def log_path(self, setup: str, dataset: str, seed: int) -> Path:
        """The log file of one training run."""
        root = Path(self.log_dir).expanduser() if self.log_dir else home_dir() / "logs" / self.name
        return root / f"{setup}-{dataset}-seed{seed}.log"


class _Data:
    """Loads (and subsamples) each split once."""

    def __init__(self, config: CrossDatasetConfig) -> None:
        self.config = config
        self._cache: dict[tuple[str, str], LabeledTexts] = {}

    def get(self, name: str, split: str) -> LabeledTexts:
        key = (name, split)
        if key not in self._cache:
            cfg = self.config
            data = load_benchmark(name, split, cfg.protocol, cfg.data_dir)
            limit = {
                "train": cfg.max_train_examples,
                "dev": cfg.max_dev_examples,
                "test": cfg.max_test_examples,
            }[split]
            self._cache[key] = stratified_subsample(data, limit, cfg.sample_seed)
        return self._cache[key]


def _trained_classifier(
    config: CrossDatasetConfig, setup: SetupConfig, dataset: str, seed: int, data: _Data
) -> tuple[HateClassifier, dict[str, Any]]:
    """Reload the run's checkpoint if it exists, else train (and save) it."""
    folder = config.checkpoint_path(setup.name, dataset, seed)
    tcfg = config.training_config(setup).model_copy(update={"seed": seed})
    train, dev = data.get(dataset, "train"), data.get(dataset, "dev")
    if folder is not None and (folder / CLASSIFIER_FILE).is_file():
        _check_reusable(folder, tcfg, len(train))
        clf = HateClassifier.from_pretrained(folder)
        clf.config = clf.config.model_copy(update={"show_progress": False})
        return clf, {"reused_checkpoint": True, **clf.run_info}
    clf = HateClassifier.from_config(tcfg)
    result = Trainer(tcfg, log_path=config.log_path(setup.name, dataset, seed)).fit(clf, train, dev)
    run = {
        "n_train": len(train),
        "n_dev": len(dev),
        "best_epoch": result.best_epoch,
        "dev_macro_f1": result.dev_metrics.get("macro_f1"),
        "train_seconds": round(result.train_seconds, 1),
        "train_examples_per_second": round(result.examples_per_second, 1),
    }
    if folder is not None:
        clf.run_info = run
        clf.save_pretrained(folder)
    return clf, {"reused_checkpoint": False, **run}


def _check_reusable(folder: Path, expected: TrainingConfig, n_train: int) -> None:
    """Refuse to reuse a checkpoint trained with other settings or another training set size."""
    meta = read_classifier_meta(folder)
    ignore = {"show_progress", "data", "output_dir"}
    saved = {k: v for k, v in meta["training_config"].items() if k not in ignore}
    wanted = {k: v for k, v in expected.model_dump(mode="json").items() if k not in ignore}
    changed = sorted(k for k in wanted if saved.get(k) != wanted[k])
    saved_n = meta.get("run", {}).get("n_train")
    if changed or (saved_n is not None and saved_n != n_train):
        what = f"settings {changed}" if changed else f"{saved_n} training examples, not {n_train}"
        raise ConfigError(
            f"checkpoint {folder} was trained with other {what}; delete it to retrain, or point "
            "checkpoint_dir elsewhere"
        )


def run_cross_dataset(
    config: CrossDatasetConfig, echo: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    """Run every missing (setup, train, test, seed) cell; return all rows and write the
    Markdown summary. Finished cells (already in the results file) are skipped."""
    store = ResultStore(config.results, KEY_FIELDS)
    data = _Data(config)
    for seed in config.seeds:  # seed-major: a first complete set of models comes early
        for setup in config.setups:
            for dataset in config.train_names():
                targets = [dataset] if config.in_dataset_only else config.test_names()
                todo = [
                    t
                    for t in targets
                    if not store.has(
                        setup=setup.name, train_dataset=dataset, test_dataset=t, seed=seed
                    )
                ]
                if not todo:
                    continue
                echo(f"{setup.name}: train on {dataset}, seed {seed}")
                clf, run = _trained_classifier(config, setup, dataset, seed, data)
                for test_name in todo:
                    test = data.get(test_name, "test")
                    metrics = evaluate_classifier(clf, test)
                    store.add(
                        {
                            "setup": setup.name,
                            "train_dataset": dataset,
                            "test_dataset": test_name,
                            "seed": seed,
                            "macro_f1": metrics["macro_f1"],
                            "accuracy": metrics["accuracy"],
                            "binary_f1": metrics["binary_f1"],
                            "pr_auc": metrics["pr_auc"],
                            "n_test": metrics["n"],
                            "protocol": config.protocol,
                            "model": clf.config.backbone,
                            **run,
                            "checkpoint": str(
                                config.checkpoint_path(setup.name, dataset, seed) or ""
                            ),
                        }
                    )
                    echo(f"  test {test_name}: macro-F1 {100 * metrics['macro_f1']:.2f}")
    atomic_write_text(config.markdown_path(), summary_markdown(config, store.rows))
    return store.rows


def _cell_means(rows: list[dict[str, Any]], setup: str, cross: bool) -> dict[int, float]:
    """Per seed: the mean macro-F1 of the off-diagonal (cross) or diagonal (in) cells."""
    per_seed: dict[int, list[float]] = {}
    for row in rows:
        if row["setup"] == setup and (row["train_dataset"] != row["test_dataset"]) == cross:
            per_seed.setdefault(row["seed"], []).append(row["macro_f1"])
    return {seed: float(np.mean(v)) for seed, v in per_seed.items()}


def compare_setups(rows: list[dict[str, Any]], a: str, b: str) -> dict[str, dict[str, float]]:
    """Paired two-sided t-tests of setup ``a`` against ``b``.

    ``in_dataset``/``cross_dataset``: over seeds, pairing each seed's mean in- or
    cross-dataset macro-F1. ``cross_cells``: over every (train, test, seed) cross cell.
    """
    out: dict[str, dict[str, float]] = {}
    for label, cross in (("in_dataset", False), ("cross_dataset", True)):
        ma, mb = _cell_means(rows, a, cross), _cell_means(rows, b, cross)
        seeds = sorted(set(ma) & set(mb))
        out[label] = paired_ttest([ma[s] for s in seeds], [mb[s] for s in seeds])
        out[label].update(mean_a=float(np.mean([ma[s] for s in seeds])) if seeds else np.nan)
        out[label].update(mean_b=float(np.mean([mb[s] for s in seeds])) if seeds else np.nan)
    cells = {
        (r["train_dataset"], r["test_dataset"], r["seed"]): r["macro_f1"]
        for r in rows
        if r["setup"] == a and r["train_dataset"] != r["test_dataset"]
    }
    pairs = [
        (cells[k], r["macro_f1"])
        for r in rows
        if r["setup"] == b and (k := (r["train_dataset"], r["test_dataset"], r["seed"])) in cells
    ]
    out["cross_cells"] = paired_ttest([p[0] for p in pairs], [p[1] for p in pairs])
    out["cross_cells"].update(
        mean_a=float(np.mean([p[0] for p in pairs])) if pairs else np.nan,
        mean_b=float(np.mean([p[1] for p in pairs])) if pairs else np.nan,
    )
    return out


def summary_markdown(config: CrossDatasetConfig, rows: list[dict[str, Any]]) -> str:
    """Markdown: one mean ± std macro-F1 matrix per setup, averages, and the comparison."""
    lines = [
        f"# {config.name}",
        "",
        f"Protocol `{config.protocol}`; seeds {config.seeds}; training examples per dataset: "
        f"{config.max_train_examples or 'all'} (stratified, sample seed {config.sample_seed}); "
        f"dev: {config.max_dev_examples or 'all'}; test: {config.max_test_examples or 'all'}.",
        "Macro-F1 (%) mean ± std over seeds; rows: training set, columns: test set.",
    ]
    for setup in config.setups:
        mine = [r for r in rows if r["setup"] == setup.name]
        if not mine:
            continue
        tcfg = config.training_config(setup)
        in_mean = _mean(_cell_means(rows, setup.name, cross=False))
        cross_mean = _mean(_cell_means(rows, setup.name, cross=True))
        lines += [
            "",
            f"## {setup.name}",
            "",
            f"backbone `{tcfg.backbone}`, head `{tcfg.resolved_head()}`, pooling "
            f"`{tcfg.pooling or tcfg.preset + ' default'}`, mode `{tcfg.mode}`, prefix "
            f"{tcfg.resolved_prefix()!r}, epochs {tcfg.epochs}, lr {tcfg.learning_rate}, "
            f"batch {tcfg.batch_size}, bf16 {tcfg.bf16}.",
            "",
            markdown_matrix(mine, "train_dataset", "test_dataset", "macro_f1"),
            "",
            f"In-dataset mean: {100 * in_mean:.2f}"
            + ("." if np.isnan(cross_mean) else f"; cross-dataset mean: {100 * cross_mean:.2f}."),
        ]
    if config.compare:
        a, b = config.compare
        result = compare_setups(rows, a, b)
        lines += ["", f"## {a} vs {b} (two-sided paired t-test)", ""]
        lines += [
            "| cells | n | mean a | mean b | mean diff (a-b) | t | p |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, r in result.items():
            ma, mb = r.get("mean_a", np.nan), r.get("mean_b", np.nan)
            lines.append(
                f"| {label} | {r['n']} | {100 * ma:.2f} | {100 * mb:.2f} | "
                f"{100 * r['mean_diff']:.2f} | {r['t']:.3f} | {r['p_value']:.4f} |"
            )
        diff = result["cross_dataset"]["mean_diff"]
        winner = a if diff > 0 else b
        p_cells = result["cross_cells"]["p_value"]
        verdict = "significant" if p_cells < 0.05 else "not significant"
        lines += [
            "",
            f"Cross-dataset winner (mean macro-F1): **{winner}** ({100 * abs(diff):.2f} points; "
            f"{verdict} at p < 0.05 over the cross cells, p = {p_cells:.3f}).",
        ]
    return "\n".join(lines) + "\n"


def _mean(values: dict[int, float]) -> float:
    return float(np.mean(list(values.values()))) if values else float("nan")
