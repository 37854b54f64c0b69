"""The training loop: class-weighted cross-entropy, AdamW with linear warmup, gradient
accumulation, bf16 autocast, length-bucketed batches, dev evaluation after every epoch and the
best epoch kept.

It runs through :class:`accelerate.Accelerator`, so the same code trains on one CPU, one GPU,
or several processes started with ``accelerate launch`` (each process then sees its share of
the batches; gradients are averaged across them).
"""

from __future__ import annotations

import json
import math
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from hateproto.data import LabeledTexts
from hateproto.evaluation import classification_metrics
from hateproto.progress import progress_bar
from hateproto.training.batching import feature_loader, token_loader
from hateproto.training.config import TrainingConfig
from hateproto.training.consistency import consistency_penalty, group_swapped_twins
from hateproto.training.data import check_training_data


class TrainableClassifier(Protocol):
    """What the trainer uses of a classifier: a :class:`~hateproto.training.HateClassifier`
    (or subclass) is one; typed structurally so that this module does not import it."""

    backbone: Any
    dev_metrics: dict[str, Any]
    history: list[dict[str, Any]]

    def encode(self, texts: Any, cache: bool = False, show_progress: bool = False) -> Any:
        """Pooled features of ``texts``."""

    def proba_from_pooled(self, pooled: torch.Tensor) -> np.ndarray:
        """Class probabilities of pooled features."""

    def named_parameters(self) -> Any:
        """The module's named parameters."""

    def parameters(self) -> Any:
        """The module's parameters."""

    def eval(self) -> Any:
        """Evaluation mode."""

    def train(self, mode: bool = True) -> Any:
        """Training mode."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Forward pass."""


@dataclass
class TrainResult:
    """What a training run did: per-epoch history, the kept epoch and its dev metrics."""

    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    dev_metrics: dict[str, Any] = field(default_factory=dict)
    train_seconds: float = 0.0
    examples_per_second: float = 0.0


def balanced_class_weights(labels: np.ndarray, num_classes: int = 2) -> torch.Tensor:
    """``n / (C * count_c)`` per class, as scikit-learn's ``class_weight="balanced"``.

    Example:
        >>> [round(w, 4) for w in balanced_class_weights(np.array([0, 0, 0, 1])).tolist()]
        [0.6667, 2.0]
    """
    counts = np.bincount(np.asarray(labels), minlength=num_classes).astype(float)
    return torch.tensor(len(labels) / (num_classes * np.maximum(counts, 1)), dtype=torch.float32)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class RunLog:
    """Append timestamped lines (and JSON records) to a run's log file; no-op without a path."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path).expanduser() if path else None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.start = time.perf_counter()

    def write(self, message: str, **record: Any) -> None:
        """Write ``message`` (and ``record`` as JSON) with the elapsed seconds."""
        if self.path is None:
            return
        line = f"[{time.perf_counter() - self.start:8.1f}s] {message}"
        if record:
            line += " " + json.dumps(record, default=str)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def _param_groups(clf: TrainableClassifier, config: TrainingConfig) -> list[dict[str, Any]]:
    """AdamW groups: no weight decay on biases and norms; the head may have its own rate."""
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, param in clf.named_parameters():
        if not param.requires_grad:
            continue
        no_decay = param.ndim < 2 or "norm" in name.lower()
        groups.setdefault((name.startswith("head."), no_decay), []).append(param)
    head_lr = config.head_learning_rate or config.learning_rate
    return [
        {
            "params": params,
            "lr": head_lr if is_head else config.learning_rate,
            "weight_decay": 0.0 if no_decay else config.weight_decay,
        }
        for (is_head, no_decay), params in groups.items()
    ]


def _adamw(groups: list[dict[str, Any]], lr: float) -> torch.optim.Optimizer:
    """AdamW with the fused kernel where torch has one for these parameters (CPU and CUDA,
    what transformers' Trainer uses by default; ~5% faster steps here), else the default."""
    try:
        return torch.optim.AdamW(groups, lr=lr, fused=True)
    except (RuntimeError, ValueError):
        return torch.optim.AdamW(groups, lr=lr)


def _snapshot(clf: TrainableClassifier) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in clf.named_parameters() if p.requires_grad}


def _restore(clf: TrainableClassifier, snapshot: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, param in clf.named_parameters():
            if name in snapshot:
                param.copy_(snapshot[name])


def _better(metric: str, value: float, best: float | None) -> bool:
    if best is None:
        return True
    return value < best if metric == "loss" else value > best


class Trainer:
    """Fine-tune a :class:`HateClassifier` with a :class:`TrainingConfig`.

    Args:
        config: the settings (normally the classifier's own).
        log_path: a log file for this run (step losses, epoch metrics); none if ``None``.
        accelerator: an ``accelerate.Accelerator`` to use; by default one is made (one CPU
            process, or what ``accelerate launch`` set up).
    """

    def __init__(
        self, config: TrainingConfig, log_path: str | Path | None = None, accelerator: Any = None
    ) -> None:
        self.config = config
        self.log = RunLog(log_path)
        self.accelerator = accelerator

    def _accelerator(self) -> Any:
        if self.accelerator is None:
            self.accelerator = make_accelerator()
        return self.accelerator

    # ------------------------------------------------------------------ data
    def _loader(self, clf: TrainableClassifier, data: LabeledTexts, show: bool) -> Any:
        cfg = self.config
        if callable(getattr(clf, "training_loader", None)):  # e.g. FusionClassifier
            return clf.training_loader(data, cfg, show)
        if cfg.mode == "probe":
            features = clf.encode(data.texts, cache=True, show_progress=show)
            return feature_loader(features, data.labels, cfg.batch_size, cfg.seed)
        ids = clf.backbone.tokenize(data.texts, max_length=cfg.max_length)
        twins = self._twin_ids(clf, data.texts) if cfg.consistency_weight > 0 else None
        return token_loader(
            ids, data.labels, clf.backbone.pad, cfg.batch_size, cfg.bucket_size, cfg.seed, twins
        )

    def _twin_ids(self, clf: TrainableClassifier, texts: list[str]) -> list[list[int] | None]:
        """Token ids of each text's group-swapped twin (``None`` where it names no group)."""
        twins = group_swapped_twins(texts, self.config.seed)
        present = [i for i, t in enumerate(twins) if t is not None]
        tokens = clf.backbone.tokenize([twins[i] for i in present], self.config.max_length)
        twin_ids: list[list[int] | None] = [None] * len(twins)
        for i, row in zip(present, tokens, strict=True):
            twin_ids[i] = row
        self.log.write("group-swapped twins", n=len(present), of=len(twins))
        return twin_ids

    def evaluate(
        self, clf: TrainableClassifier, data: LabeledTexts, weights: torch.Tensor | None = None
    ) -> dict[str, Any]:
        """Metrics (and weighted cross-entropy ``loss``) of ``clf`` on ``data``."""
        cache = self.config.mode == "probe"
        proba = clf.proba_from_pooled(clf.encode(data.texts, cache=cache))
        metrics = classification_metrics(data.labels, proba.argmax(axis=1), proba[:, 1])
        labels = torch.tensor(data.labels, dtype=torch.long)
        picked = torch.from_numpy(proba[np.arange(len(data)), data.labels]).clamp_min(1e-12)
        w = weights[labels] if weights is not None else torch.ones(len(data))
        metrics["loss"] = float((-(picked.log()) * w).sum() / w.sum())
        return metrics

    # ------------------------------------------------------------------ loop
    def fit(
        self, clf: TrainableClassifier, train: LabeledTexts, dev: LabeledTexts | None = None
    ) -> TrainResult:
        """Train ``clf`` in place; returns the history and the kept epoch's dev metrics."""
        cfg = self.config
        check_training_data(train)
        if dev is not None:
            check_training_data(dev, role="dev")
        set_seed(cfg.seed)
        acc = self._accelerator()
        show = cfg.show_progress and acc.is_local_main_process
        weights = (
            balanced_class_weights(train.labels)
            if cfg.class_weights == "balanced"
            else torch.ones(2)
        )
        self.log.write(
            "start",
            train=f"{train.name}/{train.split}",
            n_train=len(train),
            n_dev=len(dev) if dev is not None else 0,
            class_weights=weights.tolist(),
            config=cfg.model_dump(mode="json", exclude={"data"}),
        )
        loader = self._loader(clf, train, show)
        optimizer = _adamw(_param_groups(clf, cfg), cfg.learning_rate)
        model, optimizer, loader = acc.prepare(clf, optimizer, loader)
        steps_per_epoch = math.ceil(len(loader) / cfg.gradient_accumulation_steps)
        total = steps_per_epoch * cfg.epochs
        scheduler = _linear_warmup(optimizer, int(cfg.warmup_ratio * total), total)
        loss_fn = nn.CrossEntropyLoss(weight=weights.to(acc.device))
        result = TrainResult()
        best_value: float | None = None
        best_state: dict[str, torch.Tensor] | None = None
        for epoch in range(1, cfg.epochs + 1):
            record = self._epoch(model, clf, loader, optimizer, scheduler, loss_fn, epoch, show)
            if dev is not None:
                record["dev"] = self.evaluate(clf, dev, weights)
                value = record["dev"][cfg.select_metric]
                if _better(cfg.select_metric, value, best_value):
                    best_value, best_state, result.best_epoch = value, _snapshot(clf), epoch
                    result.dev_metrics = record["dev"]
            else:
                result.best_epoch = epoch
            result.history.append(record)
            result.train_seconds += record["seconds"]
            self.log.write(f"epoch {epoch} done", **record)
        if best_state is not None and result.best_epoch != cfg.epochs:
            _restore(clf, best_state)
        n_seen = sum(r["examples"] for r in result.history)
        result.examples_per_second = n_seen / max(result.train_seconds, 1e-9)
        clf.dev_metrics = {**result.dev_metrics, "epoch": result.best_epoch}
        clf.history = result.history
        clf.eval()
        self.log.write(
            "done",
            best_epoch=result.best_epoch,
            dev=result.dev_metrics,
            examples_per_second=result.examples_per_second,
        )
        return result

    def _epoch(
        self,
        model: nn.Module,
        clf: TrainableClassifier,
        loader: Any,
        optimizer: Any,
        scheduler: Any,
        loss_fn: nn.Module,
        epoch: int,
        show: bool,
    ) -> dict[str, Any]:
        cfg, acc = self.config, self.accelerator
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        model.train()
        accum = cfg.gradient_accumulation_steps
        n_batches = len(loader)
        total_loss, examples, start = 0.0, 0, time.perf_counter()
        n_examples = len(loader.dataset) // acc.num_processes
        with progress_bar(n_examples, f"epoch {epoch}/{cfg.epochs}", show, unit="ex") as advance:
            for step, batch in enumerate(loader, start=1):
                labels = batch.pop("labels")
                twin = batch.pop("twin", None)
                sync = step % accum == 0 or step == n_batches
                with acc.no_sync(model) if not sync else nullcontext():
                    with torch.autocast(acc.device.type, torch.bfloat16, enabled=cfg.bf16):
                        logits = model(**batch)
                        twin_logits = None
                        if twin is not None:
                            rows = twin.pop("rows")
                            twin_logits = model(**twin)
                    loss = loss_fn(logits.float(), labels)
                    if twin_logits is not None:
                        loss = loss + loss_fn(twin_logits.float(), labels[rows])
                        loss = loss + cfg.consistency_weight * consistency_penalty(
                            logits[rows].float(), twin_logits.float()
                        )
                    acc.backward(loss / accum)
                if sync:
                    if cfg.max_grad_norm:
                        acc.clip_grad_norm_(clf.parameters(), cfg.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                total_loss += loss.item() * len(labels)
                examples += len(labels)
                advance(len(labels), info=f"loss {total_loss / examples:.4f}")
                if step % cfg.log_every == 0:
                    self.log.write(
                        f"epoch {epoch} step {step}/{n_batches}",
                        loss=round(loss.item(), 5),
                        lr=scheduler.get_last_lr()[0],
                        examples_per_second=round(examples / (time.perf_counter() - start), 1),
                    )
        seconds = time.perf_counter() - start
        return {
            "epoch": epoch,
            "train_loss": total_loss / max(examples, 1),
            "examples": examples,
            "seconds": seconds,
            "examples_per_second": examples / max(seconds, 1e-9),
        }


def make_accelerator() -> Any:
    """An ``accelerate.Accelerator`` for this process: one GPU per process when there are GPUs,
    else CPU (several CPU processes, gloo, under ``torchrun``/``accelerate launch``).

    Mixed precision and accumulation are handled by the trainer (``torch.autocast``, loss / k),
    since accelerate's process-wide state refuses a second Accelerator with other settings.
    """
    from accelerate import Accelerator

    return Accelerator(cpu=not torch.cuda.is_available())


def _linear_warmup(optimizer: Any, warmup_steps: int, total_steps: int) -> Any:
    from transformers import get_linear_schedule_with_warmup

    return get_linear_schedule_with_warmup(optimizer, warmup_steps, total_steps)
