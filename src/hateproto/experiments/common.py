"""Pieces the prototype experiments share: typed base config, model handles (frozen backbone or
fine-tuned checkpoint with its head), data splits with stratified limits, and output paths.

A :class:`ScoredModel` encodes texts once into every layer's vectors (cached on disk by the
backbone) and, for a fine-tuned checkpoint, scores the last layer with the checkpoint's own
classification head, so prototypes and head are compared on the very same forward pass.

A run starts with :func:`open_run` (checked datasets, console, output base path, resumable
store), walks the models with :func:`pending_models` (missing checkpoints and finished models
skipped) and, when it writes its rows in one go, ends with :func:`write_rows`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from hateproto.config import YamlConfig
from hateproto.data import load_benchmark, sample_per_class
from hateproto.data.types import LabeledTexts
from hateproto.errors import ConfigError, ModelError
from hateproto.experiments.results import ResultStore, atomic_write_text, with_provenance
from hateproto.models import Backbone
from hateproto.paths import home_dir
from hateproto.training.checkpoint import CLASSIFIER_FILE

__all__ = [
    "CLASSIFIER_FILE",
    "ExperimentConfig",
    "ModelSpec",
    "ScoredModel",
    "check_datasets",
    "checkpoints_root",
    "encode_layers",
    "eval_split",
    "has_all",
    "load_scored_model",
    "load_split",
    "open_run",
    "output_path",
    "pending_models",
    "prototype_sample",
    "stratified_limit",
    "write_rows",
]
HeadFn = Callable[[torch.Tensor], np.ndarray]


class ExperimentConfig(YamlConfig):
    """Settings every prototype experiment has (subclasses add their own).

    ``checkpoints`` is the folder holding ``{dataset}-seed{seed}`` fine-tuned checkpoints
    (``~`` expanded); ``frozen_models`` are baselines used without fine-tuning.
    """

    datasets: list[str] = ["ihc", "olid", "hatexplain", "sbic"]
    protocol: str = "hateprototypes"
    checkpoints: str | None = None  # default: $HATEPROTO_HOME/checkpoints/hateprototypes-minilm
    seeds: list[int] = [0, 1]
    frozen_models: list[str] = ["minilm"]
    per_class: int = 500
    test_limit: dict[str, int] = {}
    dtype: str = "bfloat16"
    batch_size: int = 64
    max_length: int = 128
    data_dir: str | None = None
    output_dir: str = "benchmarks/results"
    show_progress: bool = True

    def checkpoint(self, dataset: str, seed: int) -> Path:
        """Folder of the checkpoint fine-tuned on ``dataset`` with ``seed``."""
        root = (
            Path(self.checkpoints).expanduser()
            if self.checkpoints
            else checkpoints_root() / "hateprototypes-minilm"
        )
        return root / f"{dataset}-seed{seed}"

    def model_specs(self, datasets: Sequence[str] | None = None) -> list[ModelSpec]:
        """Frozen baselines (seed = each configured seed, for the prototype draw) and every
        fine-tuned checkpoint that exists; missing checkpoints are reported in ``missing``."""
        specs = []
        for seed in self.seeds:  # seed-major: every dataset's first seed comes first
            specs += [
                ModelSpec(f"{Path(ref).name}-frozen", ref, "frozen", seed)
                for ref in self.frozen_models
            ]
            for dataset in datasets or self.datasets:
                folder = self.checkpoint(dataset, seed)
                specs.append(ModelSpec(folder.parent.name, str(folder), dataset, seed))
        return specs


@dataclass(frozen=True)
class ModelSpec:
    """What to load: a display name, a reference, the fine-tuning dataset (or ``frozen``) and
    the seed (of the fine-tuning run and of the prototype draw)."""

    name: str
    reference: str
    finetune_dataset: str
    seed: int

    @property
    def exists(self) -> bool:
        """Frozen references always count as present; checkpoints must be on disk."""
        return self.finetune_dataset == "frozen" or Path(self.reference).is_dir()


@dataclass
class ScoredModel:
    """A backbone plus (for fine-tuned checkpoints) its classification head."""

    spec: ModelSpec
    backbone: Backbone
    pooling: str
    head: HeadFn | None
    batch_size: int = 64
    max_length: int = 128
    show_progress: bool = True

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """Vectors ``[N, L, H]`` of layers 1..L (cached on disk by texts and settings)."""
        return self.backbone.encode(
            texts,
            layers="all",
            pooling=self.pooling,
            batch_size=self.batch_size,
            max_length=self.max_length,
            show_progress=self.show_progress,
            cache=True,
        )

    def head_proba(self, vectors: torch.Tensor) -> np.ndarray | None:
        """Head probabilities ``[N, 2]`` from the last layer's vectors, or ``None``."""
        return None if self.head is None else self.head(vectors[:, -1])


def load_scored_model(spec: ModelSpec, config: ExperimentConfig) -> ScoredModel:
    """Load a frozen backbone, or a fine-tuned checkpoint with its head (needs
    :mod:`hateproto.training`)."""
    if not spec.exists:
        raise ModelError(f"checkpoint not found: {spec.reference}")
    folder = Path(spec.reference)
    common = {
        "batch_size": config.batch_size,
        "max_length": config.max_length,
        "show_progress": config.show_progress,
    }
    if folder.is_dir() and (folder / CLASSIFIER_FILE).is_file():
        from hateproto.training import HateClassifier

        classifier = HateClassifier.from_pretrained(folder, dtype=config.dtype)
        classifier.eval()

        def head(pooled: torch.Tensor) -> np.ndarray:
            return classifier.proba_from_pooled(pooled)

        common["max_length"] = int(getattr(classifier.config, "max_length", config.max_length))
        return ScoredModel(spec, classifier.backbone, classifier.pooling, head, **common)
    backbone = Backbone.load(spec.reference, dtype=config.dtype)
    return ScoredModel(spec, backbone, backbone.info.default_pooling, None, **common)


def stratified_limit(data: LabeledTexts, limit: int | None, seed: int = 0) -> LabeledTexts:
    """At most ``limit`` examples, drawn without replacement keeping the class proportions
    (input order kept); ``notes["subsampled_from"]`` records the original size."""
    if limit is None or len(data) <= limit:
        return data
    rng = np.random.default_rng(seed)
    picked = []
    for label in np.unique(data.labels):
        members = np.flatnonzero(data.labels == label)
        take = int(round(limit * len(members) / len(data)))
        picked.append(rng.choice(members, size=min(take, len(members)), replace=False))
    subset = data.subset(np.sort(np.concatenate(picked)))
    subset.notes.update(subsampled_from=len(data), subsample_seed=seed)
    return subset


def load_split(config: ExperimentConfig, dataset: str, split: str) -> LabeledTexts:
    """One split of a benchmark under the configured protocol and data folder."""
    return load_benchmark(dataset, split, config.protocol, config.data_dir)


def eval_split(config: ExperimentConfig, dataset: str) -> LabeledTexts:
    """The test split, limited to ``config.test_limit[dataset]`` (stratified, seed 0)."""
    return stratified_limit(load_split(config, dataset, "test"), config.test_limit.get(dataset))


def prototype_sample(config: ExperimentConfig, dataset: str, seed: int) -> LabeledTexts:
    """``config.per_class`` random training examples per class (seed = the model's seed)."""
    train = load_split(config, dataset, "train")
    return sample_per_class(train, config.per_class, seed=seed, allow_fewer=True)


def output_path(config: ExperimentConfig, name: str) -> Path:
    """``output_dir/name`` (created on write by the writers)."""
    return Path(config.output_dir) / name


def check_datasets(config: ExperimentConfig) -> None:
    """Raise early on an unknown dataset name."""
    from hateproto.data import BENCHMARKS

    bad = [d for d in config.datasets if d not in BENCHMARKS]
    if bad:
        raise ConfigError(f"unknown dataset(s) {bad}; choose from {', '.join(BENCHMARKS)}")


def checkpoints_root() -> Path:
    """Where the canonical checkpoints live (``$HATEPROTO_HOME/checkpoints``)."""
    return home_dir() / "checkpoints"


def encode_layers(
    backbone: Backbone, texts: Sequence[str], config: ExperimentConfig
) -> torch.Tensor:
    """Vectors ``[N, L, H]`` of every layer with the backbone's default pooling (cached)."""
    return backbone.encode(
        texts,
        layers="all",
        batch_size=config.batch_size,
        cache=True,
        show_progress=config.show_progress,
    )


def open_run(
    config: ExperimentConfig,
    keys: Sequence[str],
    console: Console | None = None,
    settings: Mapping[str, Any] | None = None,
) -> tuple[Console, Path, ResultStore]:
    """Start a resumable run: check the datasets, and return the console, the output base path
    (``output_dir/name``, suffixes added by the writers) and the store of ``base.json``."""
    check_datasets(config)
    base = output_path(config, config.name)  # type: ignore[attr-defined]
    store = ResultStore(base.with_suffix(".json"), keys, settings=settings, dtype=config.dtype)
    return console or Console(stderr=True), base, store


def pending_models(
    specs: Iterable[ModelSpec], console: Console, done: Callable[[ModelSpec], bool]
) -> Iterator[ModelSpec]:
    """The ``specs`` still to compute: missing checkpoints are reported and skipped, and so are
    the specs for which ``done`` is true."""
    for spec in specs:
        if not spec.exists:
            console.print(f"[yellow]skipping {spec.reference}: checkpoint not found[/]")
            continue
        if not done(spec):
            yield spec


def has_all(store: ResultStore, spec: ModelSpec, cells: Iterable[Mapping[str, Any]]) -> bool:
    """Whether ``store`` holds a row of ``spec`` (model, fine-tuning dataset, seed) for every
    one of ``cells`` (the remaining key fields, e.g. ``{"dataset": "ihc", "per_class": 5}``)."""
    return all(
        store.has(model=spec.name, finetune_dataset=spec.finetune_dataset, seed=spec.seed, **cell)
        for cell in cells
    )


def write_rows(
    config: ExperimentConfig,
    rows: list[dict[str, Any]],
    markdown: str,
    plot: Callable[[list[dict[str, Any]], Path], None],
) -> Path:
    """Write ``rows`` (with provenance) to ``base.json``, ``markdown`` to ``base.md`` and, when
    there are rows, ``plot(rows, base.png)``; return the base path (``output_dir/name``)."""
    base = output_path(config, config.name)  # type: ignore[attr-defined]
    atomic_write_text(
        base.with_suffix(".json"), json.dumps(with_provenance(rows, config.dtype), indent=1)
    )
    atomic_write_text(base.with_suffix(".md"), markdown)
    if rows:
        plot(rows, base.with_suffix(".png"))
    return base
