"""HatePrototypes Section 6: early exit (Table 4, Figs 4-6), with measured wall time.

For every model and dataset: load the fine-tuned checkpoint of that dataset if it exists
(else the frozen model), encode a training sample, the dev set and the test set at every layer
once (cached), fit per-layer prototypes and per-layer gates on the training vectors, choose
each method's knob on dev (the lowest mean exit layer whose dev macro-F1 loss against that
method's full-depth prediction stays within ``budget``), then report test macro-F1 and mean
exit layer once. The test decisions come from the engine's loop run on the precomputed test
vectors (:func:`~hateproto.early_exit.simulate_early_exit`); the wall time comes from live
layer-by-layer runs (rows really leave the batch) on a stratified subset of the test set,
interleaved with the full-depth run, and the live predictions are checked against the
simulated ones (``timing_agreement``).

Methods (Table 4): ``full_model`` (the fine-tuned head on the last layer; for a frozen model,
a linear probe: the last layer's gate), ``prototype_last``, ``prototype_layer1``, ``entropy``
(DeeBERT), ``patience`` (PABEE), ``prototype_exit`` (one delta) and
``prototype_exit_calibrated`` (one delta per layer). ``prototype_exit_sweep`` rows hold the
delta sweep of Figs 5 and 6.

Example:
    >>> cfg = EarlyExitConfig.from_yaml("benchmarks/configs/early-exit.yaml")  # doctest: +SKIP
    >>> rows = run_table4(cfg)                                                 # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field, model_validator

from hateproto.config import YamlConfig
from hateproto.data import PROTOCOLS, LabeledTexts, load_benchmark, sample_per_class
from hateproto.early_exit import (
    EarlyExitClassifier,
    EntropyPolicy,
    ExitPolicy,
    ExitResult,
    ExitThresholds,
    FixedLayerPolicy,
    GateScorer,
    GateTrainingConfig,
    HeadScorer,
    LayerGates,
    PatiencePolicy,
    PoolSpec,
    PrototypeMarginPolicy,
    PrototypeScorer,
    calibrate_deltas,
    simulate_early_exit,
)
from hateproto.early_exit.calibration import candidate_deltas, layer_margins
from hateproto.early_exit.scorers import LayerScorer, encode_per_spec
from hateproto.early_exit.timing import interleaved_timings, load_average
from hateproto.errors import ConfigError
from hateproto.evaluation import classification_metrics
from hateproto.experiments.results import ResultStore
from hateproto.models import Backbone
from hateproto.paths import home_dir
from hateproto.prototypes import PrototypeClassifier

KEY_FIELDS = ("model", "dataset", "method", "setting")
TABLE4_METHODS = (
    "full_model",
    "prototype_last",
    "prototype_layer1",
    "entropy",
    "patience",
    "prototype_exit",
    "prototype_exit_calibrated",
)
SWEEP_METHOD = "prototype_exit_sweep"
Echo = Callable[[str], None]


class ModelSpec(YamlConfig):
    """One model of the experiment.

    ``checkpoint`` (may use ``{dataset}``) is a fine-tuned classifier folder; when it exists
    it is used for that dataset, else the frozen ``model`` (unless ``require_checkpoint``).
    """

    name: str
    model: str
    checkpoint: str | None = None
    require_checkpoint: bool = False
    dtype: str = "float32"
    train_per_class: int = Field(1000, ge=2)
    max_dev_examples: int | None = Field(2000, ge=10)
    max_test_examples: int | None = Field(None, ge=10)
    timing_examples: int = Field(512, ge=1)
    timed_sweep_points: int | None = Field(None, ge=0, description="overrides the config's")
    batch_size: int = Field(32, ge=1)
    repeats: int = Field(3, ge=1)

    def checkpoint_path(self, dataset: str) -> Path | None:
        """The fine-tuned checkpoint for ``dataset`` if configured and present."""
        if not self.checkpoint:
            return None
        path = Path(self.checkpoint.format(dataset=dataset)).expanduser()
        return path if (path / "hateproto_classifier.json").is_file() else None


class EarlyExitConfig(YamlConfig):
    """Settings of the early-exit experiments (Table 4, Figs 4-6)."""

    name: str = "early-exit"
    protocol: str = "hateprototypes"
    datasets: list[str] | None = None
    data_dir: str | None = None
    sample_seed: int = 0
    models: list[ModelSpec] = Field(min_length=1)
    budget: float = Field(0.005, ge=0, description="dev macro-F1 loss allowed (0.005 = 0.5 pt)")
    sweep_points: int = Field(16, ge=2)
    timed_sweep_points: int = Field(5, ge=0)
    threads: int | None = Field(1, ge=1, description="torch threads (None: torch's default)")
    gate_training: GateTrainingConfig = Field(default_factory=GateTrainingConfig)
    results: str = "benchmarks/results/early-exit.json"
    artefacts_dir: str | None = Field(None, description="default: $HATEPROTO_HOME/early-exit")

    @model_validator(mode="after")
    def _check(self) -> EarlyExitConfig:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol {self.protocol!r} is not one of {', '.join(PROTOCOLS)}")
        for name in self.dataset_names():
            if name not in PROTOCOLS[self.protocol]:
                raise ValueError(f"dataset {name!r} is not in protocol {self.protocol!r}")
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique, got {names}")
        return self

    def dataset_names(self) -> list[str]:
        """The datasets to run (default: the protocol's)."""
        return list(self.datasets or PROTOCOLS[self.protocol])

    def artefacts_path(self, model: str, dataset: str) -> Path:
        """Where gates and calibrated thresholds of one (model, dataset) are saved."""
        root = Path(self.artefacts_dir).expanduser() if self.artefacts_dir else None
        return (root or home_dir() / "early-exit") / model / dataset


# ---------------------------------------------------------------------- preparation
@dataclass
class Prepared:
    """Everything one (model, dataset) cell needs, computed once."""

    spec: ModelSpec
    dataset: str
    backbone: Backbone
    kind: Literal["fine-tuned", "frozen"]
    reference: str
    prototypes: PrototypeScorer
    gates: GateScorer
    head: LayerScorer
    proto_final: LayerScorer
    dev: LabeledTexts
    test: LabeledTexts
    dev_vectors: dict[PoolSpec, torch.Tensor]
    test_vectors: dict[PoolSpec, torch.Tensor]
    artefacts: Path
    test_lengths: np.ndarray | None = None

    def simulate_test(self, policy: ExitPolicy) -> ExitResult:
        """The policy's decisions on the test set (from the precomputed vectors)."""
        return simulate_early_exit(policy, self.test_vectors, self.test_lengths)

    @property
    def num_layers(self) -> int:
        """``L``."""
        return self.backbone.num_layers


def _load_backbone(spec: ModelSpec, dataset: str) -> tuple[Backbone, LayerScorer | None, str]:
    folder = spec.checkpoint_path(dataset)
    if folder is None:
        if spec.require_checkpoint:
            raise ConfigError(
                f"no fine-tuned checkpoint for {spec.name} on {dataset}: {spec.checkpoint}"
            )
        return Backbone.load(spec.model, dtype=spec.dtype), None, spec.model
    from hateproto.training import HateClassifier

    classifier = HateClassifier.from_pretrained(folder, dtype=spec.dtype)
    return classifier.backbone, HeadScorer.from_classifier(classifier), str(folder)


def prepare(config: EarlyExitConfig, spec: ModelSpec, dataset: str, echo: Echo) -> Prepared:
    """Load the model, encode the splits, fit prototypes and gates for one cell."""
    from hateproto.training.data import stratified_subsample

    backbone, head, reference = _load_backbone(spec, dataset)
    kind: Literal["fine-tuned", "frozen"] = "fine-tuned" if head is not None else "frozen"
    echo(f"[{spec.name}/{dataset}] {kind} {reference} ({backbone.num_layers} layers)")
    load = lambda split: load_benchmark(dataset, split, config.protocol, config.data_dir)  # noqa: E731
    train = sample_per_class(load("train"), spec.train_per_class, config.sample_seed, True)
    dev = stratified_subsample(load("dev"), spec.max_dev_examples, config.sample_seed)
    test = stratified_subsample(load("test"), spec.max_test_examples, config.sample_seed)
    default = PoolSpec(backbone.info.default_pooling, backbone.info.default_layer_norm)
    specs = {default} | ({head.spec} if head is not None else set())
    vectors = {
        name: encode_per_spec(
            backbone, data.texts, specs, batch_size=spec.batch_size, cache=True, show_progress=True
        )
        for name, data in (("train", train), ("dev", dev), ("test", test))
    }
    protos = PrototypeClassifier(backbone, layers="all", batch_size=spec.batch_size)
    protos.fit_vectors(vectors["train"][default], train.labels)
    gates = LayerGates.for_backbone(backbone).fit(
        vectors["train"][default], train.labels, config.gate_training
    )
    artefacts = config.artefacts_path(spec.name, dataset)
    gates.save_pretrained(artefacts / "gates")
    gate_scorer, proto_scorer = GateScorer(gates), PrototypeScorer(protos)
    return Prepared(
        spec=spec,
        dataset=dataset,
        backbone=backbone,
        kind=kind,
        reference=reference,
        prototypes=proto_scorer,
        gates=gate_scorer,
        head=head or gate_scorer,
        proto_final=head or proto_scorer,
        dev=dev,
        test=test,
        dev_vectors=vectors["dev"],
        test_vectors=vectors["test"],
        artefacts=artefacts,
        test_lengths=np.array([len(ids) for ids in backbone.tokenize(test.texts)]),
    )


# ---------------------------------------------------------------------- dev selection
@dataclass
class Choice:
    """A method's policy with the knob chosen on dev, and the dev outcome."""

    method: str
    setting: str
    policy: ExitPolicy
    dev_macro_f1: float
    dev_full_macro_f1: float
    dev_mean_exit_layer: float


def _f1(labels: np.ndarray, result: ExitResult) -> float:
    return classification_metrics(labels, result.labels)["macro_f1"]


def choose_on_dev(
    method: str,
    make: Callable[[Any], ExitPolicy],
    candidates: list[Any],
    prepared: Prepared,
    budget: float,
    describe: Callable[[Any], str],
) -> Choice:
    """The candidate with the lowest dev mean exit layer whose dev macro-F1 loss against the
    policy's full-depth prediction is at most ``budget`` (ties: higher F1)."""
    labels = prepared.dev.labels
    reference = _f1(
        labels, simulate_early_exit(make(candidates[0]).full_depth(), prepared.dev_vectors)
    )
    best: tuple[float, float, Any] | None = None
    for value in candidates:
        result = simulate_early_exit(make(value), prepared.dev_vectors)
        f1 = _f1(labels, result)
        if reference - f1 <= budget + 1e-12:
            key = (result.mean_exit_layer, -f1, value)
            if best is None or key[:2] < best[:2]:
                best = key
    if best is None:
        raise ConfigError(f"{method}: no candidate keeps the dev loss within {budget}")
    cost, neg_f1, value = best
    return Choice(method, describe(value), make(value), -neg_f1, reference, cost)


def _fixed(method: str, policy: ExitPolicy, prepared: Prepared) -> Choice:
    result = simulate_early_exit(policy, prepared.dev_vectors)
    f1 = _f1(prepared.dev.labels, result)
    return Choice(method, "-", policy, f1, f1, result.mean_exit_layer)


def _calibrated(prepared: Prepared, budget: float) -> Choice:
    L, scorer = prepared.num_layers, prepared.prototypes
    layers = list(range(1, L))
    margins, preds = layer_margins(scorer, prepared.dev_vectors[scorer.spec], layers)
    final = simulate_early_exit(ExitPolicy(prepared.proto_final, L), prepared.dev_vectors).labels
    result = calibrate_deltas(margins, preds, final, prepared.dev.labels, layers, L, budget)
    thresholds = ExitThresholds.from_calibration(
        result,
        prepared.backbone.fingerprint,
        dataset=prepared.dataset,
        model=prepared.reference,
        n_dev=len(prepared.dev),
        fallback="head" if prepared.kind == "fine-tuned" else "prototypes",
    )
    thresholds.save(prepared.artefacts)
    policy = PrototypeMarginPolicy(scorer, result.deltas, final=prepared.proto_final)
    return Choice(
        "prototype_exit_calibrated",
        f"budget={budget:g}",
        policy,
        result.macro_f1,
        result.full_macro_f1,
        result.mean_exit_layer,
    )


def table4_choices(prepared: Prepared, budget: float) -> list[Choice]:
    """Every Table 4 method, with its knob chosen on dev."""
    L, protos, gates, head = (
        prepared.num_layers,
        prepared.prototypes,
        prepared.gates,
        prepared.head,
    )
    dev_margins = torch.stack(
        [
            protos.assess(layer, prepared.dev_vectors[protos.spec][:, layer - 1])[1]
            for layer in range(1, L)
        ]
    ).double()
    deltas = [math.inf, *candidate_deltas(dev_margins.numpy().ravel(), 60).tolist()]
    return [
        _fixed("full_model", ExitPolicy(head, L), prepared),
        _fixed("prototype_last", FixedLayerPolicy(protos, L, L), prepared),
        _fixed("prototype_layer1", FixedLayerPolicy(protos, 1, L), prepared),
        choose_on_dev(
            "entropy",
            lambda t: EntropyPolicy(gates, t, final=head, num_layers=L),
            [0.0, *np.linspace(0.01, math.log(2), 40).tolist()],
            prepared,
            budget,
            lambda t: f"threshold={t:.4g}",
        ),
        choose_on_dev(
            "patience",
            lambda p: PatiencePolicy(gates, p, final=head, num_layers=L),
            list(range(L - 1, 0, -1)),
            prepared,
            budget,
            lambda p: f"patience={p}",
        ),
        choose_on_dev(
            "prototype_exit",
            lambda d: PrototypeMarginPolicy(protos, d, final=prepared.proto_final, num_layers=L),
            deltas,
            prepared,
            budget,
            lambda d: f"delta={d:.6g}",
        ),
        _calibrated(prepared, budget),
    ]


# ---------------------------------------------------------------------- timing
def time_policies(
    prepared: Prepared, policies: dict[str, ExitPolicy], reference: ExitPolicy, echo: Echo
) -> tuple[dict[str, dict[str, Any]], LabeledTexts, np.ndarray]:
    """Live runs on a stratified test subset, interleaved with the full-depth reference.

    Returns, per policy name: median seconds, measured speed-up, live result; plus the subset
    and its indices into the test set.
    """
    from hateproto.training.data import stratified_indices

    spec, test = prepared.spec, prepared.test
    n = min(spec.timing_examples, len(test))
    index = stratified_indices(test.labels, n, 0) if n < len(test) else np.arange(len(test))
    subset = test.subset(index)
    results: dict[str, ExitResult] = {}
    # Full-depth policies (no early exits) do the reference's work: they share its timing.
    same = {name for name, p in policies.items() if p is reference or not p.exit_layers()}
    variants = {"__full__": reference}
    variants.update({name: p for name, p in policies.items() if name not in same})
    alias = {name: "__full__" if name in same else name for name in policies}

    def runner(name: str, policy: ExitPolicy) -> Callable[[], None]:
        clf = EarlyExitClassifier(prepared.backbone, policy, spec.batch_size)
        return lambda: results.__setitem__(name, clf.run(subset.texts))

    echo(
        f"[{spec.name}/{prepared.dataset}] timing {len(variants)} variants x {spec.repeats} "
        f"on {n} texts, batch {spec.batch_size}"
    )
    warm = subset.texts[: 2 * spec.batch_size]
    for policy in variants.values():  # warm-up on two batches
        EarlyExitClassifier(prepared.backbone, policy, spec.batch_size).run(warm)
    times = interleaved_timings(
        {name: runner(name, policy) for name, policy in variants.items()},
        repeats=spec.repeats,
        warmup=0,
    )
    out = {
        name: {
            "wall_time_s": times.median(alias[name]),
            "full_wall_time_s": times.median("__full__"),
            "measured_speedup": times.speedup(alias[name], "__full__"),
            "cpu_time_s": times.median(alias[name], "cpu"),
            "full_cpu_time_s": times.median("__full__", "cpu"),
            "measured_cpu_speedup": times.speedup(alias[name], "__full__", "cpu"),
            "times_s": times.wall[alias[name]],
            "full_times_s": times.wall["__full__"],
            "live": results[alias[name]]
            if policies[name] is reference or name not in same
            else None,
            "timing_shared_with_full": name in same and policies[name] is not reference,
        }
        for name in policies
    }
    return out, subset, index


def _agreement(live: ExitResult, simulated: ExitResult, index: np.ndarray) -> float:
    return float((live.labels == simulated.labels[index]).mean())


# ---------------------------------------------------------------------- rows
def _row(
    prepared: Prepared, method: str, setting: str, result: ExitResult, full_f1: float
) -> dict[str, Any]:
    metrics = classification_metrics(prepared.test.labels, result.labels, result.hate_scores)
    return {
        "model": prepared.spec.name,
        "dataset": prepared.dataset,
        "method": method,
        "setting": setting,
        "backbone": prepared.reference,
        "backbone_kind": prepared.kind,
        "dtype": prepared.spec.dtype,
        "num_layers": prepared.num_layers,
        "n_test": len(prepared.test),
        "mean_exit_layer": result.mean_exit_layer,
        "layer_saving": result.layer_saving,
        "counted_speedup": result.counted_speedup,
        "token_weighted_speedup": result.token_weighted_speedup,
        "macro_f1": metrics["macro_f1"],
        "accuracy": metrics["accuracy"],
        "full_macro_f1": full_f1,
        "f1_loss_points": 100 * (full_f1 - metrics["macro_f1"]),
        "exit_histogram": result.exit_histogram(),
        "batch_size": prepared.spec.batch_size,
        "measured_speedup": None,
    }


def _timing_fields(
    timing: dict[str, Any], simulated: ExitResult, index: np.ndarray, threads: int
) -> dict[str, Any]:
    return {
        **{key: value for key, value in timing.items() if key != "live"},
        "timing_n": len(index),
        "timing_mean_exit_layer": (
            timing["live"].mean_exit_layer if timing["live"] else simulated.num_layers
        ),
        "timing_agreement": _agreement(timing["live"], simulated, index)
        if timing["live"]
        else None,
        "threads": threads,
        "load_average": load_average(),
    }


@contextmanager
def _locked(results: str) -> Iterator[None]:
    """An exclusive lock per results file, so that several runs (e.g. one per model) can add
    rows to the same file without losing each other's."""
    import fcntl
    import hashlib

    digest = hashlib.sha256(str(Path(results).resolve()).encode()).hexdigest()[:16]
    path = home_dir() / "locks" / f"{digest}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _rows(config: EarlyExitConfig) -> list[dict[str, Any]]:
    with _locked(config.results):
        return ResultStore(config.results, KEY_FIELDS).rows


def _add(config: EarlyExitConfig, row: dict[str, Any]) -> None:
    with _locked(config.results):
        ResultStore(config.results, KEY_FIELDS, dtype=row.get("dtype")).add(row)


def _skip_missing_checkpoint(spec: ModelSpec, dataset: str, echo: Echo) -> bool:
    if spec.require_checkpoint and spec.checkpoint_path(dataset) is None:
        echo(f"[{spec.name}/{dataset}] no fine-tuned checkpoint yet ({spec.checkpoint}); skipped")
        return True
    return False


def _set_threads(config: EarlyExitConfig) -> int:
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    return torch.get_num_threads()


def _cells(config: EarlyExitConfig, models: list[str] | None) -> list[tuple[ModelSpec, str]]:
    specs = [m for m in config.models if models is None or m.name in models]
    if models is not None and len(specs) != len(set(models)):
        raise ConfigError(
            f"unknown model(s) in {models}; configured: {[m.name for m in config.models]}"
        )
    return [(spec, dataset) for spec in specs for dataset in config.dataset_names()]


def run_table4(
    config: EarlyExitConfig, echo: Echo = print, models: list[str] | None = None
) -> list[dict[str, Any]]:
    """Compute the missing Table 4 rows (every method, model and dataset); return all rows."""
    threads = _set_threads(config)
    for spec, dataset in _cells(config, models):
        rows = _rows(config)
        done = [r for r in rows if r["model"] == spec.name and r["dataset"] == dataset]
        if set(TABLE4_METHODS) <= {r["method"] for r in done}:
            continue
        if _skip_missing_checkpoint(spec, dataset, echo):
            continue
        prepared = prepare(config, spec, dataset, echo)
        choices = table4_choices(prepared, config.budget)
        reference = choices[0].policy
        simulated = {c.method: prepared.simulate_test(c.policy) for c in choices}
        full_f1 = {
            c.method: _f1(
                prepared.test.labels,
                simulate_early_exit(c.policy.full_depth(), prepared.test_vectors),
            )
            if c.policy.final is not None
            else float("nan")
            for c in choices
        }
        timings, _, index = time_policies(
            prepared, {c.method: c.policy for c in choices}, reference, echo
        )
        for choice in choices:
            result = simulated[choice.method]
            own_full = full_f1[choice.method]
            row = _row(
                prepared,
                choice.method,
                choice.setting,
                result,
                own_full if not math.isnan(own_full) else full_f1["full_model"],
            )
            row.update(
                full_model_macro_f1=full_f1["full_model"],
                dev_macro_f1=choice.dev_macro_f1,
                dev_full_macro_f1=choice.dev_full_macro_f1,
                dev_mean_exit_layer=choice.dev_mean_exit_layer,
                budget=config.budget,
                policy=_jsonable(choice.policy.describe()),
                **_timing_fields(timings[choice.method], result, index, threads),
            )
            _add(config, row)
            echo(
                f"  {choice.method:26s} {choice.setting:22s} F1 {row['macro_f1']:.4f} "
                f"(full {row['full_macro_f1']:.4f}) exit {row['mean_exit_layer']:.2f}/"
                f"{row['num_layers']} measured x{row['measured_speedup']:.2f} "
                f"(CPU x{row['measured_cpu_speedup']:.2f})"
            )
    return _rows(config)


def run_sweep(
    config: EarlyExitConfig, echo: Echo = print, models: list[str] | None = None
) -> list[dict[str, Any]]:
    """The delta sweep (Figs 5 and 6): test macro-F1 and mean exit layer for a grid of deltas
    (quantiles of the dev margins), with live timings for ``timed_sweep_points`` of them."""
    threads = _set_threads(config)
    for spec, dataset in _cells(config, models):
        if any(
            r["model"] == spec.name and r["dataset"] == dataset and r["method"] == SWEEP_METHOD
            for r in _rows(config)
        ):
            continue
        if _skip_missing_checkpoint(spec, dataset, echo):
            continue
        prepared = prepare(config, spec, dataset, echo)
        L, protos = prepared.num_layers, prepared.prototypes
        dev_margins = (
            torch.stack(
                [
                    protos.assess(layer, prepared.dev_vectors[protos.spec][:, layer - 1])[1]
                    for layer in range(1, L)
                ]
            )
            .double()
            .numpy()
            .ravel()
        )
        grid = np.unique(np.quantile(dev_margins, np.linspace(0, 1, config.sweep_points)))
        deltas = [*grid.tolist(), math.inf]
        policies = {
            f"delta={d:.6g}": PrototypeMarginPolicy(
                protos, d, final=prepared.proto_final, num_layers=L
            )
            for d in deltas
        }
        reference = ExitPolicy(prepared.proto_final, L)
        full_f1 = _f1(prepared.test.labels, simulate_early_exit(reference, prepared.test_vectors))
        names = list(policies)
        points = (
            spec.timed_sweep_points
            if spec.timed_sweep_points is not None
            else config.timed_sweep_points
        )
        timed = (
            [
                names[i]
                for i in np.unique(np.linspace(0, len(names) - 2, points).round().astype(int))
            ]
            if points
            else []
        )
        timings, _, index = (
            time_policies(prepared, {n: policies[n] for n in timed}, reference, echo)
            if timed
            else ({}, None, np.array([]))
        )
        for name, delta in zip(names, deltas, strict=True):
            result = prepared.simulate_test(policies[name])
            row = _row(prepared, SWEEP_METHOD, name, result, full_f1)
            row["delta"] = None if math.isinf(delta) else delta
            if name in timings:
                row.update(_timing_fields(timings[name], result, index, threads))
            _add(config, row)
        echo(f"  sweep: {len(names)} deltas, {len(timed)} timed")
    return _rows(config)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and math.isinf(value):
        return None
    return value
