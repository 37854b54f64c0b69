"""Early exit on tiny random models: exactness, real row removal, policies, gates, thresholds."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from hateproto.early_exit import (
    EarlyExitClassifier,
    EntropyPolicy,
    ExitPolicy,
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
    choose_deltas,
    run_early_exit,
    simulate_early_exit,
)
from hateproto.errors import HateprotoError, MismatchError
from hateproto.models import Backbone
from hateproto.models.stepping import LayerRunner
from hateproto.prototypes import PrototypeClassifier

HATE = [
    "they are vermin",
    "those immigrants are dirty criminals",
    "go back home lazy people",
    "muslims are evil",
    "women are lazy and bad",
    "jews deserve hate",
    "they should go back to their country",
    "vermin out of our city",
    "dirty lazy criminals",
    "those people are evil vermin",
]
KIND = [
    "welcome neighbours",
    "we love our community",
    "the weather today is great",
    "good football game",
    "women deserve equal rights",
    "respect all people",
    "kind friends and good neighbours",
    "welcome to our new city",
    "great game today",
    "our friends are kind",
]
TEXTS = HATE + KIND
LABELS = np.array([1] * len(HATE) + [0] * len(KIND))


NEEDS_GPU = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no GPU")
CASES = [
    pytest.param(("encoder", "cpu"), id="encoder-cpu"),
    pytest.param(("decoder", "cpu"), id="decoder-cpu"),
    pytest.param(("encoder", "cuda"), id="encoder-cuda", marks=NEEDS_GPU),
    pytest.param(("decoder", "cuda"), id="decoder-cuda", marks=NEEDS_GPU),
]


@pytest.fixture(scope="module")
def sharp_encoder_dir(tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT's shape and tokenizer with weights drawn 10x wider (std 0.2): the shared
    tiny BERT gives nearly equal vectors for every text (median prototype margin 4e-6, at
    the scale of float32 rounding on a GPU); this one's median margin is 2e-2."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    config = BertConfig.from_pretrained(tiny_encoder_dir)
    config.initializer_range = 0.2
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("sharp-bert")
    BertModel(config).eval().save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_encoder_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="module", params=CASES)
def backbone(request: pytest.FixtureRequest) -> Backbone:
    family, device = request.param
    name = "sharp_encoder_dir" if family == "encoder" else f"tiny_{family}_dir"
    return Backbone.load(str(request.getfixturevalue(name)), device=device)


CUDA_ROUNDING = 1e-5
"""Allowed gap on a GPU, where shrinking batches and one full batch run different kernels.
Measured on an H200 (tiny BERT, float32): probabilities (softmax at temperature 0.05, which
magnifies margin differences) differed by up to 4.8e-7."""


def _rounding(prototypes: PrototypeClassifier) -> float:
    """0 on the CPU, where the engine equals the full model bit for bit; else
    :data:`CUDA_ROUNDING`."""
    return 0.0 if prototypes.backbone.device.type == "cpu" else CUDA_ROUNDING


def _assert_close(actual: np.ndarray, expected: np.ndarray, rounding: float, atol: float = 0.0):
    """Equal within ``atol`` on the CPU; within ``rounding`` on a GPU."""
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    gap = float(np.abs(actual - expected).max())
    assert gap <= max(atol, rounding), f"largest difference {gap:.3g} (rounding {rounding:.3g})"


def _assert_same_decisions(labels, expected, margins, rounding: float) -> None:
    """Equal labels, except (on a GPU) where the margin is within rounding of a tie."""
    labels, expected = np.asarray(labels), np.asarray(expected)
    clear = np.abs(np.asarray(margins)) > rounding
    assert clear.sum() >= len(labels) // 2, f"too many near-ties (rounding {rounding:.3g})"
    assert np.array_equal(labels[clear], expected[clear])


def _delta_between(margins: torch.Tensor) -> float:
    """A threshold about half the rows fall below, midway in the widest gap between two
    middle margins (so rounding cannot move a row across it)."""
    values = np.sort(margins.numpy())
    middle = values[len(values) // 4 : 3 * len(values) // 4 + 1]
    gap = int(np.diff(middle).argmax())
    return float((middle[gap] + middle[gap + 1]) / 2)


@pytest.fixture(scope="module")
def prototypes(backbone: Backbone) -> PrototypeClassifier:
    return PrototypeClassifier(backbone, batch_size=4).fit(TEXTS, LABELS)


def test_infinite_delta_equals_full_model(prototypes: PrototypeClassifier) -> None:
    clf = EarlyExitClassifier.from_prototypes(prototypes, delta=math.inf, batch_size=4)
    result = clf.run(TEXTS)
    rounding = _rounding(prototypes)
    margins = prototypes.margin(TEXTS)
    _assert_same_decisions(result.labels, prototypes.predict(TEXTS), margins, rounding)
    _assert_close(result.proba, prototypes.predict_proba(TEXTS).astype(np.float32), rounding)
    _assert_close(result.margins, margins, rounding, atol=1e-6)
    assert (result.exit_layers == prototypes.backbone.num_layers).all()
    assert result.mean_exit_layer == prototypes.backbone.num_layers


def test_head_fallback_equals_head(prototypes: PrototypeClassifier) -> None:
    backbone = prototypes.backbone
    torch.manual_seed(0)
    head = torch.nn.Linear(backbone.hidden_size, 2).to(backbone.device)
    final = HeadScorer(
        lambda x: head(x),
        backbone.num_layers,
        backbone.info.default_pooling,
        backbone.info.default_layer_norm,
    )
    clf = EarlyExitClassifier.from_prototypes(prototypes, head=final, batch_size=4)
    with torch.no_grad():
        vectors = backbone.encode(TEXTS, layers="last", batch_size=4)[:, 0]
        expected = head(vectors.to(backbone.device)).argmax(-1).cpu()
    assert np.array_equal(clf.predict(TEXTS), expected.numpy())


def _vectors(prototypes: PrototypeClassifier) -> dict[PoolSpec, torch.Tensor]:
    spec = PoolSpec(prototypes.pooling, prototypes.layer_norm)
    return {spec: prototypes.backbone.encode(TEXTS, layers="all", batch_size=4)}


def test_engine_matches_simulation(prototypes: PrototypeClassifier) -> None:
    scorer = PrototypeScorer(prototypes)
    vectors = _vectors(prototypes)
    margins = scorer.assess(1, vectors[scorer.spec][:, 0])[1]
    delta = _delta_between(margins.cpu())  # about half the rows exit at layer 1
    policy = PrototypeMarginPolicy(scorer, delta)
    live = run_early_exit(LayerRunner(prototypes.backbone), policy, TEXTS, batch_size=4)
    simulated = simulate_early_exit(policy, vectors)
    rounding = _rounding(prototypes)
    moved = int((live.exit_layers != simulated.exit_layers).sum())
    assert moved <= (1 if rounding else 0), f"{moved} rows exit at another layer"
    _assert_same_decisions(live.labels, simulated.labels, simulated.margins, rounding)
    _assert_close(live.margins, simulated.margins, rounding, atol=1e-5)
    assert 1 <= live.mean_exit_layer < prototypes.backbone.num_layers
    assert sum(live.exit_histogram()) == len(TEXTS)


def test_exited_rows_leave_the_batch(prototypes: PrototypeClassifier) -> None:
    backbone = prototypes.backbone
    runner = LayerRunner(backbone)
    scorer = PrototypeScorer(prototypes)
    delta = float(scorer.assess(1, _vectors(prototypes)[scorer.spec][:, 0])[1].median())
    rows_seen = [0] * backbone.num_layers
    hooks = [
        layer.register_forward_hook(
            lambda module, args, out, i=i: rows_seen.__setitem__(i, rows_seen[i] + args[0].shape[0])
        )
        for i, layer in enumerate(runner.adapter.layers)
    ]
    try:
        result = run_early_exit(runner, PrototypeMarginPolicy(scorer, delta), TEXTS, batch_size=8)
    finally:
        for hook in hooks:
            hook.remove()
    for layer in range(1, backbone.num_layers + 1):
        assert rows_seen[layer - 1] == int((result.exit_layers >= layer).sum())


def test_fixed_layer_policy(prototypes: PrototypeClassifier) -> None:
    backbone = prototypes.backbone
    policy = FixedLayerPolicy(PrototypeScorer(prototypes), 1, backbone.num_layers)
    result = EarlyExitClassifier(backbone, policy, batch_size=4).run(TEXTS)
    assert (result.exit_layers == 1).all()
    assert np.array_equal(result.labels, prototypes.predict(TEXTS, layer=1))
    assert math.isclose(result.counted_speedup, backbone.num_layers)


def test_gates_train_save_load(backbone: Backbone, tmp_path: Path) -> None:
    vectors = backbone.encode(TEXTS, layers="all", batch_size=4)
    gates = LayerGates.for_backbone(backbone).fit(vectors, LABELS, GateTrainingConfig(steps=100))
    logits = gates.logits_all(vectors)
    assert logits.shape == (len(TEXTS), backbone.num_layers, 2)
    accuracy = (logits.argmax(-1).numpy() == LABELS[:, None]).mean()
    assert accuracy > 0.9  # 20 points in 32 dimensions are separable
    gates.save_pretrained(tmp_path)
    loaded = LayerGates.from_pretrained(tmp_path, backbone=backbone)
    assert torch.equal(loaded.logits_all(vectors), logits)
    assert torch.equal(loaded.logits(2, vectors[:, 1]), logits[:, 1])
    other = LayerGates.for_backbone(backbone)
    other.backbone_fingerprint = "0" * 16
    other.save_pretrained(tmp_path / "other")
    with pytest.raises(MismatchError, match="fingerprint"):
        LayerGates.from_pretrained(tmp_path / "other", backbone=backbone)
    (tmp_path / "gates.safetensors").write_bytes(b"garbage")
    with pytest.raises(HateprotoError, match="damaged"):
        LayerGates.from_pretrained(tmp_path)


def test_gate_policies(backbone: Backbone) -> None:
    vectors = backbone.encode(TEXTS, layers="all", batch_size=4)
    gates = GateScorer(
        LayerGates.for_backbone(backbone).fit(vectors, LABELS, GateTrainingConfig(steps=50))
    )
    views = {gates.spec: vectors}
    L = backbone.num_layers
    never = simulate_early_exit(EntropyPolicy(gates, threshold=0.0), views)
    assert (never.exit_layers == L).all()
    always = simulate_early_exit(EntropyPolicy(gates, threshold=1.0), views)  # > ln 2
    assert (always.exit_layers == 1).all()
    patience = simulate_early_exit(PatiencePolicy(gates, patience=1), views)
    preds = gates.gates.logits_all(vectors).argmax(-1).numpy()
    expected = np.where(preds[:, 0] == preds[:, 1], 2, 3 if L == 3 else None)
    assert np.array_equal(patience.exit_layers, expected)
    live = run_early_exit(LayerRunner(backbone), PatiencePolicy(gates, 1), TEXTS, batch_size=4)
    assert np.array_equal(live.exit_layers, patience.exit_layers)
    with pytest.raises(HateprotoError, match="patience"):
        PatiencePolicy(gates, 0)


def test_calibrated_thresholds(prototypes: PrototypeClassifier, tmp_path: Path) -> None:
    backbone = prototypes.backbone
    scorer = PrototypeScorer(prototypes)
    vecs = _vectors(prototypes)[scorer.spec]
    L = backbone.num_layers
    layers = list(range(1, L))
    assessed = [scorer.assess(layer, vecs[:, layer - 1]) for layer in range(1, L + 1)]
    margins = torch.stack([m for _, m in assessed[:-1]], 1).numpy()
    preds = torch.stack([p.argmax(-1) for p, _ in assessed[:-1]], 1).numpy()
    final = assessed[-1][0].argmax(-1).numpy()
    strict = choose_deltas(margins, preds, final, LABELS, layers, L, budget=0.0)
    assert strict.full_macro_f1 - strict.macro_f1 <= 0.0
    loose = choose_deltas(margins, preds, final, LABELS, layers, L, budget=1.0)
    assert loose.mean_exit_layer == 1.0
    policy = PrototypeMarginPolicy(scorer, strict.deltas)
    simulated = simulate_early_exit(policy, {scorer.spec: vecs})
    assert math.isclose(simulated.mean_exit_layer, strict.mean_exit_layer)
    thresholds = ExitThresholds.from_choice(strict, backbone.fingerprint, dataset="toy")
    thresholds.save(tmp_path)
    loaded = ExitThresholds.load(tmp_path, fingerprint=backbone.fingerprint)
    assert loaded.deltas == strict.deltas and loaded.metadata["dataset"] == "toy"
    with pytest.raises(MismatchError):
        ExitThresholds.load(tmp_path, fingerprint="f" * 16)
    clf = EarlyExitClassifier.from_prototypes(prototypes, loaded, batch_size=4)
    assert np.array_equal(clf.exit_layers(TEXTS), simulated.exit_layers)


def test_evaluate_reports_speed(prototypes: PrototypeClassifier) -> None:
    from hateproto.data.types import LabeledTexts

    clf = EarlyExitClassifier.from_prototypes(prototypes, delta=-1.0, batch_size=4)
    row = clf.evaluate(LabeledTexts(TEXTS, LABELS, name="toy"))
    L = prototypes.backbone.num_layers
    assert row["mean_exit_layer"] == 1.0 and row["num_layers"] == L
    # counted: L / mean exit layer; measured: full-depth time / early-exit time (medians)
    assert row["counted_speedup"] == pytest.approx(L / row["mean_exit_layer"])
    assert row["layer_saving"] == pytest.approx(1 - row["mean_exit_layer"] / L)
    assert row["measured_speedup"] == pytest.approx(row["full_wall_time_s"] / row["wall_time_s"])
    assert row["measured_cpu_speedup"] == pytest.approx(row["full_cpu_time_s"] / row["cpu_time_s"])
    full_depth = clf.full_depth().run(TEXTS).labels  # the same engine without exits
    assert row["full_macro_f1"] == pytest.approx(
        __import__("hateproto").classification_metrics(LABELS, full_depth)["macro_f1"]
    )
    if not _rounding(prototypes):  # ... which on the CPU decides as the prototypes do
        assert np.array_equal(full_depth, prototypes.predict(TEXTS))


def test_policy_errors(prototypes: PrototypeClassifier) -> None:
    scorer = PrototypeScorer(prototypes)
    L = prototypes.backbone.num_layers
    with pytest.raises(HateprotoError, match="without prototypes"):
        PrototypeMarginPolicy(scorer, {L + 1: 0.1})
    assert PrototypeMarginPolicy(scorer, {L: 0.1, 1: 0.2}).exit_layers() == [1]
    with pytest.raises(HateprotoError, match="last layer"):
        ExitPolicy(HeadScorer(lambda x: x, 1, "mean"), L)
    with pytest.raises(HateprotoError, match="not fitted"):
        PrototypeScorer(PrototypeClassifier(prototypes.backbone))


def test_prototypes_for_some_layers_stop_at_the_deepest(backbone: Backbone) -> None:
    protos = PrototypeClassifier(backbone, layers=[1, 2], batch_size=4).fit(TEXTS, LABELS)
    clf = EarlyExitClassifier.from_prototypes(protos, delta={1: math.inf}, batch_size=4)
    result = clf.run(TEXTS)
    assert (result.exit_layers == 2).all()
    assert np.array_equal(result.labels, protos.predict(TEXTS, layer=2))
    early = EarlyExitClassifier.from_prototypes(protos, delta=-1.0, min_layer=2, batch_size=4)
    assert (early.exit_layers(TEXTS) == 2).all()
    assert (clf.full_depth().exit_layers(TEXTS) == 2).all()


def _table4_row(dataset: str, method: str, wall: float, full_wall: float) -> dict:
    return {
        "model": "toy",
        "dataset": dataset,
        "method": method,
        "setting": "-",
        "backbone_kind": "frozen",
        "num_layers": 6,
        "dtype": "float32",
        "batch_size": 32,
        "macro_f1": 0.5,
        "mean_exit_layer": 3.0,
        "wall_time_s": wall,
        "full_wall_time_s": full_wall,
        "measured_speedup": full_wall / wall,
        "cpu_time_s": 2 * wall,
        "full_cpu_time_s": 2 * full_wall,
        "measured_cpu_speedup": full_wall / wall,
        "counted_speedup": 2.0,
        "timing_mean_exit_layer": 3.0,
        "f1_loss_points": 0.0,
        "timing_n": 8,
        "timing_agreement": 1.0,
    }


def test_table4_speedup_is_total_time_not_mean_of_ratios(tmp_path, monkeypatch) -> None:
    import json

    from hateproto.experiments import early_exit_report as report

    # a: x10 (1 s instead of 10 s); b: x1 (10 s). Mean of ratios 5.5; total 20 / 11 = 1.82
    rows = [
        _table4_row("a", "full_model", 10.0, 10.0),
        _table4_row("b", "full_model", 10.0, 10.0),
        _table4_row("a", "prototype_exit", 1.0, 10.0),
        _table4_row("b", "prototype_exit", 10.0, 10.0),
    ]
    table = report.table4_markdown(rows, ["a", "b"])
    line = next(x for x in table.splitlines() if x.startswith("| Prototype exit (one delta)"))
    assert line.endswith("| x1.82 / x1.82 |") and "x5.50" not in table
    assert "total full-depth time ÷ total time" in table and "total time (wall / CPU)" in table
    # regenerating the report from a results file loads no model
    results = tmp_path / "early-exit.json"
    results.write_text(json.dumps(rows))
    monkeypatch.setattr(Backbone, "load", lambda *a, **k: pytest.fail("loaded a model"))
    assert report.main(["--results", str(results), "--datasets", "a,b"]) == 0
    text = (tmp_path / "early-exit.md").read_text()
    assert text == report.report_markdown(rows, "early-exit.json", ["a", "b"])
    assert "| x1.82 / x1.82 |" in text and not list(tmp_path.glob("*.png"))


def test_sharp_encoder_margins_stand_clear_of_gpu_rounding(
    tiny_encoder_dir: Path, sharp_encoder_dir: Path
) -> None:
    """Why the encoder cases use ``sharp_encoder_dir``: the shared tiny BERT's margins are
    of the order of float32 rounding on a GPU, the sharp one's are far above it."""

    def margins(folder: Path) -> np.ndarray:
        backbone = Backbone.load(str(folder), device="cpu")
        clf = PrototypeClassifier(backbone, batch_size=4).fit(TEXTS, LABELS)
        return np.abs(clf.margin(TEXTS))

    assert np.median(margins(tiny_encoder_dir)) < 1e-4
    sharp = margins(sharp_encoder_dir)
    assert np.median(sharp) > 1e-2 and sharp.min() > 50 * CUDA_ROUNDING
