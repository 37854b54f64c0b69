"""The early-exit loop: run layers, ask the policy which rows leave, shrink the batch.

:func:`run_early_exit` drives a live :class:`~hateproto.models.stepping.LayerRunner`: texts
are tokenised, sorted by length and batched exactly as
:meth:`~hateproto.models.Backbone.encode` does; after every layer the policy may let rows
exit, and those rows leave the batch, so later layers compute less. With ``refill=True``
the survivors of consecutive batches that reached the same layer wait in a pool and continue
as one batch once there are ``batch_size`` of them (a GPU's cost per layer hardly depends on
the batch size, so full batches are what make exits pay there).
:func:`simulate_early_exit` runs the same loop on precomputed per-layer vectors (no model):
the same decisions, for sweeping thresholds cheaply. With no early exits both give exactly
the full model's predictions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from hateproto.early_exit.policies import Decision, ExitPolicy, Memory, PooledView
from hateproto.early_exit.scorers import PoolSpec
from hateproto.errors import HateprotoError
from hateproto.models.stepping import LayerRunner, LayerState
from hateproto.models.texts import validate_texts
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

    def record_batch(self, positions: Sequence[int] | None, exits: _BatchExits) -> int:
        """Store one batch's exits, collected on the model's device, in one host copy
        (``positions``: the input position of each batch row; ``None``: rows are positions).
        Returns the number of rows stored."""
        rows, layers, probs, margins = exits.gather()
        where = rows if positions is None else np.asarray(positions)[rows]
        self.proba[where] = probs
        self.margins[where] = margins
        self.exit_layers[where] = layers
        return len(rows)

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
        # float32 values travel as their bits, so that rows (input positions with refill)
        # stay exact beyond 2**24
        floats = torch.cat([margins[:, None], probs], 1).view(torch.int32).long()
        host = torch.cat([rows[:, None], layers[:, None], floats], 1).cpu().numpy()
        values = host[:, 2:].astype(np.int32).view(np.float32)
        return host[:, 0], host[:, 1], values[:, 1:], values[:, 0]


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


def _merge_memory(memories: Sequence[Memory]) -> Memory:
    """The per-row memories of merged batches, concatenated in the same order as the rows."""
    return {key: torch.cat([memory[key] for memory in memories]) for key in memories[0]}


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
    refill: bool = False,
) -> ExitResult:
    """Classify ``texts`` with early exits, dropping exited rows from each batch.

    ``refill=True`` keeps batches full: survivors of consecutive batches that reached the
    same layer are merged (:meth:`~hateproto.models.stepping.LayerRunner.merge`) and continue
    as one batch of ``batch_size`` rows. Labels and exit layers are those of ``refill=False``;
    probabilities differ by float rounding only (padding to a longer sequence).

    Example:
        >>> result = run_early_exit(LayerRunner(backbone), policy, texts)  # doctest: +SKIP
        >>> result.labels, result.exit_layers, result.mean_exit_layer      # doctest: +SKIP
    """
    texts = validate_texts(texts)
    _check_policy(policy, runner.num_layers)
    start = time.perf_counter()
    recorder = _Recorder(len(texts), _policy_classes(policy))
    settings = policy.describe() | ({"refill": True} if refill else {})
    lengths = np.zeros(len(texts), dtype=np.int64)
    with progress_bar(len(texts), "early exit", enabled=show_progress) as advance:
        loop = _Loop(runner, policy, batch_size if refill else 0, recorder, advance)
        for batch in runner.backbone.batches(texts, batch_size, max_length):
            lengths[batch.rows] = batch.lengths
            loop.add(batch.rows, batch.tensors)
        loop.finish()
    return recorder.result(
        runner.num_layers,
        batch_size=batch_size,
        wall_time_s=time.perf_counter() - start,
        settings=settings,
        lengths=lengths,
    )


@dataclass
class _Part:
    """Rows part-way through the backbone and the policy's memory of them."""

    state: LayerState
    memory: Memory


class _Loop:
    """Step batches through the layers; rows leave as the policy lets them exit.

    With ``refill`` (the batch size; 0 = off) a batch whose survivors drop below that size
    waits in the pool of the layer it reached; a pool holding ``refill`` rows is merged and
    continues as one batch, and :meth:`finish` runs what is left, shallowest pool first.
    Without it each batch runs to the end on its own (rows: positions in that batch).
    """

    def __init__(
        self,
        runner: LayerRunner,
        policy: ExitPolicy,
        refill: int,
        recorder: _Recorder,
        advance: Callable[[int], None],
    ) -> None:
        self.runner, self.policy, self.refill = runner, policy, refill
        self.recorder, self.advance = recorder, advance
        self.exit_layers = set(policy.exit_layers())
        self.pools: dict[int, list[_Part]] = {}

    def add(self, positions: Sequence[int], tensors: dict[str, torch.Tensor]) -> None:
        """Start one batch (``positions``: the input position of each of its rows)."""
        state = self.runner.start(tensors)
        memory = {
            k: v.to(state.rows.device) for k, v in self.policy.init_memory(state.size).items()
        }
        if not self.refill:
            self._run(_Part(state, memory), positions)
            return
        state.rows = torch.as_tensor(positions, device=state.rows.device)
        self._run(_Part(state, memory), None)

    def finish(self) -> None:
        """Run every row still waiting in a pool to its exit."""
        while self.pools:
            self._drain(min(self.pools), full_only=False)

    def _run(self, part: _Part, positions: Sequence[int] | None) -> None:
        exits = _BatchExits()
        rest = self._step(part, exits)
        if exits.parts:
            self.advance(self.recorder.record_batch(positions, exits))
        if rest is not None:
            layer = rest.state.layer
            self.pools.setdefault(layer, []).append(rest)
            if sum(p.state.size for p in self.pools[layer]) >= self.refill:
                self._drain(layer, full_only=True)

    def _step(self, part: _Part, exits: _BatchExits) -> _Part | None:
        """Step ``part`` until every row has exited (``None``) or, with refill, until fewer
        than ``refill`` rows are left (returns them)."""
        state, memory = part.state, part.memory
        while state.size:
            state = self.runner.step(state)
            view = _RunnerView(self.runner, state)
            decision = _decide(self.policy, state.layer, self.exit_layers, view, memory)
            if decision is None:
                continue
            count = int(decision.exit.sum())  # the one host sync of an exit layer
            if count == 0:
                continue
            exits.add(state.rows, state.layer, decision)
            if count == state.size:
                break
            keep = ~decision.exit
            state = self.runner.keep(state, keep)
            memory = _keep_memory(memory, keep)
            if state.size < self.refill:
                return _Part(state, memory)
        return None

    def _drain(self, layer: int, full_only: bool) -> None:
        """Merge the pool of ``layer`` and run it in batches of ``refill`` rows (a smaller
        rest waits unless ``full_only`` is false)."""
        parts = self.pools.pop(layer)
        merged: _Part | None = _Part(
            self.runner.merge([p.state for p in parts]), _merge_memory([p.memory for p in parts])
        )
        while merged is not None and (merged.state.size >= self.refill or not full_only):
            head, merged = self._split(merged)
            self._run(head, None)
        if merged is not None:
            self.pools[layer] = [merged]

    def _split(self, part: _Part) -> tuple[_Part, _Part | None]:
        """The first ``refill`` rows of ``part`` and the others (``None`` if none), each
        without the padding its rows do not need (pools hold rows in about length order)."""
        if part.state.size <= self.refill:
            return part, None
        first = torch.arange(part.state.size, device=part.state.rows.device) < self.refill
        return self._take(part, first), self._take(part, ~first)

    def _take(self, part: _Part, rows: torch.Tensor) -> _Part:
        state = self.runner.merge([self.runner.keep(replace(part.state), rows)])
        return _Part(state, _keep_memory(part.memory, rows))


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
