"""Prototype experiments on tiny models and a synthetic benchmark (no dataset files needed)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from hateproto.cli.main import main
from hateproto.data.types import LabeledTexts
from hateproto.experiments import common
from hateproto.experiments.guard import best_threshold, choose_layer
from hateproto.experiments.prototype_size import draw_scores

HATE = [
    "they are vermin",
    "go back home you lazy criminals",
    "immigrants are dirty evil",
    "those people deserve hate",
    "muslims are criminals",
    "women are lazy",
]
NEUTRAL = [
    "welcome neighbours",
    "the weather is great today",
    "people should be kind",
    "we love our new friends",
    "the football game is today",
    "our city is great",
]
CATEGORIES = ["incitement", "stereotypical", "irony"]
GROUPS = ["immigrants", "muslims", "women"]


def fake_benchmark(name: str, split: str, protocol: str = "x", data_dir=None) -> LabeledTexts:
    """A small deterministic dataset per (name, split) with category/target metadata."""
    rng = np.random.default_rng(abs(hash((name, split))) % 2**32)
    n = 40 if split == "train" else 24
    labels = np.array([i % 2 for i in range(n)])
    texts = [
        f"{rng.choice(HATE if y else NEUTRAL)} {rng.choice(['today', 'friends', 'people'])} {i}"
        for i, y in enumerate(labels)
    ]
    meta = pd.DataFrame(
        {
            "category": [CATEGORIES[i % 3] if y else "not_hate" for i, y in enumerate(labels)],
            "target": [GROUPS[(i // 2) % 3] for i in range(n)],
        }
    )
    return LabeledTexts(texts, labels, name=name, protocol=protocol, split=split, metadata=meta)


@pytest.fixture()
def setup(tmp_path, monkeypatch, tiny_encoder_dir):
    monkeypatch.setattr(common, "load_benchmark", fake_benchmark)
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path / "home"))
    return {
        "datasets": ["ihc", "olid"],
        "frozen_models": [str(tiny_encoder_dir)],
        "checkpoints": str(tmp_path / "no-checkpoints"),
        "seeds": [0, 1],
        "per_class": 5,
        "output_dir": str(tmp_path / "results"),
        "show_progress": False,
        "dtype": "float32",
    }


def _with_fake_head(monkeypatch, tiny_encoder_dir):
    """Pretend the ihc checkpoints exist, with a fixed random linear head."""
    real = common.load_scored_model

    def load(spec, config):
        if spec.finetune_dataset == "frozen":
            return real(spec, config)
        frozen = common.ModelSpec(spec.name, str(tiny_encoder_dir), "frozen", spec.seed)
        model = real(frozen, config)
        torch.manual_seed(spec.seed)
        weight = torch.randn(32, 2)
        model.head = lambda pooled: torch.softmax(pooled @ weight, -1).numpy()
        model.spec = spec
        return model

    monkeypatch.setattr(common.ModelSpec, "exists", property(lambda self: True))
    for module in ("transfer", "fine_grained", "bias", "prototype_size"):
        monkeypatch.setattr(f"hateproto.experiments.{module}.load_scored_model", load)


def test_cross_domain_and_transfer_commands(setup, monkeypatch, tiny_encoder_dir, capsys):
    _with_fake_head(monkeypatch, tiny_encoder_dir)
    cfg = Path(setup["output_dir"]).parent / "cfg.yaml"
    cfg.write_text(json.dumps({k: v for k, v in setup.items() if k != "datasets"}))
    out = Path(setup["output_dir"])
    assert main(["experiment", "cross-domain", "--config", str(cfg), "--datasets", "ihc,olid"]) == 0
    rows = json.loads((out / "prototype-cross-domain.json").read_text())
    keys = {"finetune_dataset", "eval_dataset", "seed", "head_macro_f1", "prototype_macro_f1"}
    assert all(keys <= set(r) for r in rows)
    # 2 frozen + 2 fine-tuned (ihc, olid) x 2 seeds, each on 2 eval sets
    assert len(rows) == 3 * 2 * 2
    frozen = [r for r in rows if r["finetune_dataset"] == "frozen"]
    assert all(r["head_macro_f1"] is None for r in frozen)
    tuned = [r for r in rows if r["finetune_dataset"] != "frozen"]
    assert all(
        abs(r["delta_macro_f1"] - (r["prototype_macro_f1"] - r["head_macro_f1"])) < 1e-12
        for r in tuned
    )
    text = (out / "prototype-cross-domain.md").read_text()
    assert "Paired t-test" in text and "| frozen |" in text
    assert (out / "prototype-cross-domain.png").stat().st_size > 0

    matrix_file = out / "prototype-transfer-matrix.json"
    stamp = matrix_file.stat().st_mtime_ns
    assert (
        main(["experiment", "prototype-transfer", "--config", str(cfg), "--datasets", "ihc,olid"])
        == 0
    )
    assert matrix_file.stat().st_mtime_ns == stamp  # resumed: nothing recomputed
    fig2 = json.loads((out / "prototype-transfer.json").read_text())
    tuned = [r for r in fig2 if r["finetune_dataset"] != "frozen"]
    assert {r["eval_dataset"] for r in tuned if r["finetune_dataset"] == "ihc"} == {"ihc"}
    for r in tuned:
        assert r["relative_macro_f1"] == pytest.approx(r["prototype_macro_f1"] / r["head_macro_f1"])


def test_prototype_size(setup, monkeypatch, tiny_encoder_dir):
    from hateproto.experiments.prototype_size import PrototypeSizeConfig, run_prototype_size

    config = PrototypeSizeConfig(
        **{**setup, "seeds": [0]}, sizes=[2, 5, 20], draws=7, pool_per_class=20
    )
    rows = run_prototype_size(config)
    assert len(rows) == 2 * 3  # frozen model on 2 datasets x 3 sizes
    for r in rows:
        assert r["draws"] == 7
        assert r["macro_f1_p2_5"] - 1e-9 <= r["macro_f1_mean"] <= r["macro_f1_p97_5"] + 1e-9
    assert Path(setup["output_dir"], "prototype-size.png").is_file()


def test_draw_scores_by_hand():
    pool = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    test = torch.tensor([[1.0, 0.2], [0.2, 1.0]])
    scores = draw_scores(pool, np.array([0, 0, 1, 1]), test, np.array([0, 1]), 1, 5, seed=0)
    np.testing.assert_allclose(scores, 1.0)
    # more examples than the pool holds: every draw uses the whole pool
    scores = draw_scores(pool, np.array([0, 0, 1, 1]), test, np.array([1, 0]), 10, 3, seed=0)
    np.testing.assert_allclose(scores, 0.0)


def test_fine_grained_and_group_bias(setup, monkeypatch, tiny_encoder_dir):
    from hateproto.experiments.bias import GroupBiasConfig, run_group_bias
    from hateproto.experiments.fine_grained import FineGrainedConfig, run_fine_grained

    _with_fake_head(monkeypatch, tiny_encoder_dir)
    base = {**setup, "seeds": [0]}
    rows = run_fine_grained(FineGrainedConfig(**base, finetune_datasets=["ihc"], min_group=3))
    categories = {r["group"] for r in rows if r["group_type"] == "category"}
    assert set(CATEGORIES) <= categories
    assert {r["method"] for r in rows} == {"head", "prototypes"}
    assert Path(setup["output_dir"], "fine-grained-ihc-category.png").is_file()

    rows = run_group_bias(
        GroupBiasConfig(
            **{**base, "datasets": ["ihc"]},
            group_per_class=4,
            min_train_per_class=3,
            min_test_neutral=2,
        )
    )
    assert {r["group"] for r in rows} == set(GROUPS)
    assert {r["method"] for r in rows} == {"head", "general_prototypes", "group_prototypes"}
    for r in rows:  # rates are counts over the group's neutral / hateful test posts
        for rate, n in (("false_positive_rate", "n_neutral"), ("hate_recall", "n_hate")):
            count = r[rate] * r[n]
            assert r[n] > 0 and 0 <= round(count) <= r[n]
            assert count == pytest.approx(round(count), abs=1e-9)
    assert "spread" in Path(setup["output_dir"], "group-bias.md").read_text()


def test_choose_layer_and_threshold():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    noise = torch.randn(8, 1, 4, generator=torch.Generator().manual_seed(0))
    signal = torch.tensor([[1.0, 0, 0, 0] if y == 0 else [0, 1.0, 0, 0] for y in labels])
    vectors = torch.cat([noise, signal[:, None] + 0.01 * noise], dim=1)
    assert choose_layer(vectors, labels) == 1
    scores = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    threshold = best_threshold(scores, labels)
    assert 0.35 < threshold < 0.4


def test_build_time_command(setup, tiny_encoder_dir, capsys):
    args = [
        "experiment",
        "prototype-build-time",
        "--output-dir",
        setup["output_dir"],
        "--per-class",
        "5",
        "--dtype",
        "float32",
    ]
    cfg = Path(setup["output_dir"]).parent / "bt.yaml"
    cfg.write_text(f"model: {tiny_encoder_dir}\nrepeats: 2\n")
    assert main([*args, "--config", str(cfg)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["texts"] == 10 and len(summary["build_s"]) == len(summary["plain_encode_s"]) == 2
    # the reported numbers are the medians of the recorded times, and ratio = build / plain
    assert summary["build_median_s"] == statistics.median(summary["build_s"])
    assert summary["plain_median_s"] == statistics.median(summary["plain_encode_s"])
    assert summary["ratio"] == pytest.approx(summary["build_median_s"] / summary["plain_median_s"])
    assert main([*args, "--test-limit", "ihc"]) == 2  # not DATASET=N
