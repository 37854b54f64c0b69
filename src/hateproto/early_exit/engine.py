"""The early-exit loop: run layers, ask the policy which rows leave, shrink the batch.

:func:`run_early_exit` drives a live :class:`~hateproto.models.stepping.LayerRunner`: texts
are tokenised, sorted by length and batched exactly as
:meth:`~hateproto.models.Backbone.encode` does; after every layer the policy may let rows
exit, and those rows leave the batch, so later layers compute less.
:func:`simulate_early_exit` runs the same loop on precomputed per-layer vectors (no model):
the same decisions, for sweeping thresholds cheaply. With no early exits both give exactly
the full model's predictions.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from hateproto.early_exit.policies import Decision, ExitPolicy, Memory, PooledView
from hateproto.early_exit.scorers import PoolSpec
from hateproto.errors import HateprotoError
from hateproto.models.backbone import validate_texts
from hateproto.models.stepping import LayerRunner, LayerState
from hateproto.progress import progress_bar


@dataclass
class ExitResult:
    """Per-example predictions and exit layers of one run.

    Attributes:
        labels: ``[N]`` predicted class.
        proba: ``[N, C]`` class probabilities (columns in ``classes`` order).
        exit_layers: ``[N]`` layer (1..L) at which each example left.
        margins: ``[N]`` top-1 minus top-2 score of the scorer that decided.
        classes: the class of each ``proba`` column.
        num_layers: ``L``.
        batch_size: batch size of the run (``None`` for a simulation).
        wall_time_s: wall-clock time of the run (``None`` for a simulation).
        lengths: ``[N]`` tokens per example, when known (for the token-weighted speed-up).
    """

    labels: np.ndarray
    proba: np.ndarray
    exit_layers: np.ndarray
    margins: np.ndarray
    classes: np.ndarray
    num_layers: int
    batch_size: int | None = None
    wall_time_s: float | None = None
    settings: dict[str, object] = field(default_factory=dict)
    lengths: np.ndarray | None = None

    @property
    def mean_exit_layer(self) -> float:
        """Mean exit layer over the examples."""
        return float(self.exit_layers.mean())

    @property
    def layer_saving(self) -> float:
        """Fraction of layer computations saved: ``1 - mean_exit_layer / L``."""
        return 1.0 - self.mean_exit_layer / self.num_layers

    @property
    def counted_speedup(self) -> float:
        """``L / mean_exit_layer``: the speed-up if time were proportional to layers run."""
        return self.num_layers / self.mean_exit_layer

    @property
    def token_weighted_speedup(self) -> float | None:
        """``L * sum(tokens) / sum(tokens * exit layer)``: the counted speed-up when a row's
        cost per layer grows with its length (long posts tend to exit later)."""
        if self.lengths is None:
            return None
        weights = self.lengths.astype(float)
        return float(self.num_layers * weights.sum() / (weights * self.exit_layers).sum())

    @property
    def hate_scores(self) -> np.ndarray:
        """Probability of class 1 (hate)."""
        return self.proba[:, list(self.classes).index(1)]

    def exit_histogram(self) -> list[int]:
        """Number of examples that exited at each layer 1..L."""
        return np.bincount(self.exit_layers, minlength=self.num_layers + 1)[1:].tolist()


class _Recorder:
    """Collects per-example outcomes in input order."""

    def __init__(self, n: int, classes: np.ndarray) -> None:
        self.classes = classes
        self.proba = np.zeros((n, len(classes)), dtype=np.float32)
        self.exit_layers = np.zeros(n, dtype=np.int64)
        self.margins = np.zeros(n, dtype=np.float32)

    def record(self, index: torch.Tensor, layer: int, decision: Decision) -> None:
        """Store the rows of ``decision`` that exit; ``index`` gives their input positions."""
        rows = decision.exit
        where = index[rows].cpu().numpy()
        self.proba[where] = decision.probs[rows].float().cpu().numpy()
        self.margins[where] = decision.margin[rows].float().cpu().numpy()
        self.exit_layers[where] = layer

    def record_batch(self, positions: Sequence[int], exits: _BatchExits) -> None:
        """Store one batch's exits, collected on the model's device, in one host copy."""
        rows, layers, probs, margins = exits.gather()
        where = np.asarray(positions)[rows]
        self.proba[where] = probs
        self.margins[where] = margins
        self.exit_layers[where] = layers

    def result(self, num_layers: int, **extra: object) -> ExitResult:
        labels = self.classes[self.proba.argmax(1)]
        return ExitResult(
            labels, self.proba, self.exit_layers, self.margins, self.classes, num_layers, **extra
        )


class _BatchExits:
    """The exits of one live batch, kept on the model's device until the batch is done."""

    def __init__(self) -> None:
        self.parts: list[tuple[torch.Tensor, int, Decision]] = []

    def add(self, rows: torch.Tensor, layer: int, decision: Decision) -> None:
        """Keep the rows of ``decision`` that exit (``rows``: their positions in the batch)."""
        self.parts.append((rows, layer, decision))

    def gather(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Batch rows, exit layers, probabilities and margins, copied to the host once."""
        rows = torch.cat([r[d.exit] for r, _, d in self.parts])
        layers = torch.cat([torch.full_like(r[d.exit], layer) for r, layer, d in self.parts])
        probs = torch.cat([d.probs[d.exit].float() for _, _, d in self.parts])
        margins = torch.cat([d.margin[d.exit].float() for _, _, d in self.parts])
        packed = torch.cat(
            [rows[:, None].float(), layers[:, None].float(), margins[:, None], probs], 1
        )
        host = packed.cpu().numpy()
        return (
            host[:, 0].astype(np.int64),
            host[:, 1].astype(np.int64),
            host[:, 3:],
            host[:, 2],
        )


def _decide(
    policy: ExitPolicy, layer: int, exit_layers: set[int], view: PooledView, memory: Memory
) -> Decision | None:
    if layer == policy.num_layers:
        return policy.finish(view)
    if layer in exit_layers:
        return policy.decide(layer, view, memory)
    return None


def _policy_classes(policy: ExitPolicy) -> np.ndarray:
    classes = [tuple(np.asarray(s.classes).tolist()) for s in policy.scorers()]
    if len(set(classes)) != 1:
        raise HateprotoError(f"the policy's scorers disagree on the classes: {classes}")
    return np.asarray(classes[0])


def _keep_memory(memory: Memory, keep: torch.Tensor) -> Memory:
    index = keep.nonzero().flatten()
    return {key: value.index_select(0, index) for key, value in memory.items()}


class _RunnerView:
    """Pooled vectors of a live batch, computed once per pooling setting and layer."""

    def __init__(self, runner: LayerRunner, state: LayerState) -> None:
        self.runner, self.state = runner, state
        self.cache: dict[PoolSpec, torch.Tensor] = {}

    def get(self, spec: PoolSpec) -> torch.Tensor:
        if spec not in self.cache:
            self.cache[spec] = self.runner.pooled(self.state, spec.pooling, spec.layer_norm)
        return self.cache[spec]


def _check_policy(policy: ExitPolicy, num_layers: int) -> None:
    if policy.num_layers != num_layers:
        raise HateprotoError(
            f"the policy is for {policy.num_layers} layers, the backbone has {num_layers}"
        )


@torch.inference_mode()
def run_early_exit(
    runner: LayerRunner,
    policy: ExitPolicy,
    texts: Sequence[str],
    batch_size: int = 32,
    max_length: int = 256,
    show_progress: bool = False,
) -> ExitResult:
    """Classify ``texts`` with early exits, dropping exited rows from each batch.

    Example:
        >>> result = run_early_exit(LayerRunner(backbone), policy, texts)  # doctest: +SKIP
        >>> result.labels, result.exit_layers, result.mean_exit_layer      # doctest: +SKIP
    """
    texts = validate_texts(texts)
    _check_policy(policy, runner.num_layers)
    start = time.perf_counter()
    recorder = _Recorder(len(texts), _policy_classes(policy))
    exit_layers = set(policy.exit_layers())
    lengths = np.zeros(len(texts), dtype=np.int64)
    with progress_bar(len(texts), "early exit", enabled=show_progress) as advance:
        for batch in runner.backbone.batches(texts, batch_size, max_length):
            lengths[batch.rows] = batch.lengths
            exits = _run_batch(runner, policy, exit_layers, batch.tensors)
            recorder.record_batch(batch.rows, exits)
            advance(len(batch.rows))
    return recorder.result(
        runner.num_layers,
        batch_size=batch_size,
        wall_time_s=time.perf_counter() - start,
        settings=policy.describe(),
        lengths=lengths,
    )


def _run_batch(
    runner: LayerRunner, policy: ExitPolicy, exit_layers: set[int], tensors: dict[str, torch.Tensor]
) -> _BatchExits:
    """Step one batch through the layers; rows leave as the policy lets them exit."""
    state = runner.start(tensors)
    memory = {k: v.to(state.rows.device) for k, v in policy.init_memory(state.size).items()}
    exits = _BatchExits()
    while state.size:
        state = runner.step(state)
        decision = _decide(policy, state.layer, exit_layers, _RunnerView(runner, state), memory)
        if decision is None:
            continue
        count = int(decision.exit.sum())  # the one host sync of an exit layer
        if count == 0:
            continue
        exits.add(state.rows, state.layer, decision)
        if count == state.size:
            break
        keep = ~decision.exit
        state = runner.keep(state, keep)
        memory = _keep_memory(memory, keep)
    return exits


class _VectorView:
    def __init__(self, vectors: Mapping[PoolSpec, torch.Tensor], rows: torch.Tensor, layer: int):
        self.vectors, self.rows, self.layer = vectors, rows, layer

    def get(self, spec: PoolSpec) -> torch.Tensor:
        if spec not in self.vectors:
            raise HateprotoError(
                f"no precomputed vectors pooled with {spec.pooling}/{spec.layer_norm}; "
                f"have {[(s.pooling, s.layer_norm) for s in self.vectors]}"
            )
        return self.vectors[spec][self.rows, self.layer - 1]


@torch.inference_mode()
def simulate_early_exit(
    policy: ExitPolicy,
    vectors: Mapping[PoolSpec, torch.Tensor],
    lengths: Sequence[int] | np.ndarray | None = None,
) -> ExitResult:
    """Apply ``policy`` to precomputed vectors ``{spec: [N, L, H]}`` (layers 1..L).

    The decisions are those :func:`run_early_exit` makes, up to float rounding from batch
    composition, without running the model. ``lengths`` (tokens per example) are kept for
    :attr:`ExitResult.token_weighted_speedup`.
    """
    sizes = {tuple(v.shape[:2]) for v in vectors.values()}
    if len(sizes) != 1:
        raise HateprotoError(f"precomputed vectors disagree in shape: {sorted(sizes)}")
    n, num_layers = next(iter(sizes))
    _check_policy(policy, num_layers)
    recorder = _Recorder(n, _policy_classes(policy))
    exit_layers = set(policy.exit_layers())
    device = next(iter(vectors.values())).device
    rows = torch.arange(n, device=device)
    memory = {k: v.to(device) for k, v in policy.init_memory(n).items()}
    for layer in range(1, num_layers + 1):
        decision = _decide(policy, layer, exit_layers, _VectorView(vectors, rows, layer), memory)
        if decision is None or not bool(decision.exit.any()):
            continue
        recorder.record(rows, layer, decision)
        keep = ~decision.exit
        rows = rows[keep]
        memory = _keep_memory(memory, keep)
        if not len(rows):
            break
    return recorder.result(
        num_layers,
        settings=policy.describe(),
        lengths=None if lengths is None else np.asarray(lengths),
    )
