"""Refill (full early-exit batches) on tiny random models: the same outcomes as without it.

``run_early_exit(..., refill=True)`` merges the survivors of consecutive batches that reached
the same layer (:meth:`LayerRunner.merge`); labels and exit layers must equal
``refill=False``, probabilities up to the float rounding that longer padding brings.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_early_exit import HATE as BASE_HATE
from test_early_exit import KIND as BASE_KIND
from test_stepping import tiny_gemma3_dir, tiny_mpnet_dir  # noqa: F401  (fixtures)

from hateproto.early_exit import (
    PrototypeMarginPolicy,
    PrototypeScorer,
    run_early_exit,
)
from hateproto.early_exit.policies import Decision, Memory, PooledView
from hateproto.errors import ModelError
from hateproto.models import Backbone
from hateproto.models.stepping import LayerRunner
from hateproto.prototypes import PrototypeClassifier

# The posts of test_early_exit.py, plus long ones, so that batches differ a lot in length.
HATE = [
    *BASE_HATE,
    "those immigrants are dirty criminals and they should go back to their country "
    "because all of them are lazy and evil and we hate them in our city",
    "women are lazy and bad and those people should not be in our community "
    "they are dirty criminals who deserve hate",
    "those people are evil vermin and all of them should go back home to their country "
    "we do not want them here in our new city they are terrible lazy and bad people "
    "dirty criminals who deserve hate not respect",
]
KIND = [
    *BASE_KIND,
    "we love our community and the weather today is great and the football game was good "
    "and our friends are kind",
    "respect all people and welcome all neighbours to our new city we love our community "
    "and our kind friends and the great football game today",
]
TEXTS = HATE + KIND
LABELS = np.array([1] * len(HATE) + [0] * len(KIND))
FAMILIES = {
    "encoder": "tiny_encoder_dir",
    "mpnet": "tiny_mpnet_dir",
    "decoder": "tiny_decoder_dir",
    "gemma3": "tiny_gemma3_dir",
}


@pytest.fixture(scope="module", params=list(FAMILIES))
def prototypes(request: pytest.FixtureRequest) -> PrototypeClassifier:
    backbone = Backbone.load(str(request.getfixturevalue(FAMILIES[request.param])))
    return PrototypeClassifier(backbone, batch_size=4).fit(TEXTS, LABELS)


def _deltas(prototypes: PrototypeClassifier, scorer: PrototypeScorer) -> dict[int, float]:
    """A delta per early layer halfway between two neighbouring margins, so that about a
    third of the rows exit at each early layer and no margin sits on a threshold."""
    vectors = prototypes.backbone.encode(TEXTS, layers="all", batch_size=4)
    deltas = {}
    for layer in range(1, prototypes.backbone.num_layers):
        margins = np.sort(scorer.assess(layer, vectors[:, layer - 1])[1].double().numpy())
        at = len(margins) - len(margins) // (4 - layer)
        deltas[layer] = float(margins[at - 1] + margins[at]) / 2
    return deltas


class _AgreeingPolicy(PrototypeMarginPolicy):
    """Margin exits, but after layer 1 only for rows that still predict their layer-1 class
    (kept in per-row memory, so a misaligned merge of memories changes exit layers)."""

    def init_memory(self, size: int) -> Memory:
        return {"first": torch.full((size,), -1, dtype=torch.long)}

    def decide(self, layer: int, view: PooledView, memory: Memory) -> Decision:
        decision = super().decide(layer, view, memory)
        pred = decision.probs.argmax(-1)
        if layer == 1:
            memory["first"] = pred
        agree = pred == memory["first"]
        return Decision(decision.exit & agree, decision.probs, decision.margin)


@pytest.mark.parametrize("batch_size", [2, 3, 8])
@pytest.mark.parametrize("agreeing", [False, True])
def test_refill_equals_no_refill(
    prototypes: PrototypeClassifier, batch_size: int, agreeing: bool
) -> None:
    scorer = PrototypeScorer(prototypes)
    policy = (_AgreeingPolicy if agreeing else PrototypeMarginPolicy)(
        scorer, _deltas(prototypes, scorer)
    )
    runner = LayerRunner(prototypes.backbone)
    off = run_early_exit(runner, policy, TEXTS, batch_size=batch_size)
    on = run_early_exit(runner, policy, TEXTS, batch_size=batch_size, refill=True)
    assert len(set(off.exit_layers.tolist())) >= 2  # rows exit at several layers
    assert np.array_equal(on.exit_layers, off.exit_layers)
    assert np.array_equal(on.labels, off.labels)
    assert np.allclose(on.proba, off.proba, atol=1e-4)
    assert np.allclose(on.margins, off.margins, atol=1e-4)
    assert np.array_equal(on.lengths, off.lengths)
    assert on.settings == {**off.settings, "refill": True}


def _layer_calls(runner: LayerRunner, refill: bool, policy: PrototypeMarginPolicy):
    """Run with forward hooks: (calls, rows) per layer, and the result."""
    calls, rows = [0] * runner.num_layers, [0] * runner.num_layers

    def hook(i: int):
        def count(module, args, out) -> None:
            calls[i] += 1
            rows[i] += args[0].shape[0]

        return count

    hooks = [layer.register_forward_hook(hook(i)) for i, layer in enumerate(runner.adapter.layers)]
    try:
        result = run_early_exit(runner, policy, TEXTS, batch_size=4, refill=refill)
    finally:
        for handle in hooks:
            handle.remove()
    return calls, rows, result


def test_refill_fills_batches(prototypes: PrototypeClassifier) -> None:
    scorer = PrototypeScorer(prototypes)
    policy = PrototypeMarginPolicy(scorer, _deltas(prototypes, scorer))
    runner = LayerRunner(prototypes.backbone)
    calls_off, rows_off, result = _layer_calls(runner, False, policy)
    calls_on, rows_on, _ = _layer_calls(runner, True, policy)
    expected = [int((result.exit_layers >= layer).sum()) for layer in range(1, 4)]
    assert rows_on == rows_off == expected  # every row runs exactly the layers it needs
    assert calls_on[0] == calls_off[0]
    assert calls_on[1:] <= calls_off[1:] and sum(calls_on) < sum(calls_off)


def test_no_exit_equals_full_model(prototypes: PrototypeClassifier) -> None:
    policy = PrototypeMarginPolicy(PrototypeScorer(prototypes), math.inf)
    result = run_early_exit(
        LayerRunner(prototypes.backbone), policy, TEXTS, batch_size=3, refill=True
    )
    assert np.array_equal(result.labels, prototypes.predict(TEXTS))
    assert np.allclose(result.proba, prototypes.predict_proba(TEXTS), atol=1e-5)
    assert (result.exit_layers == prototypes.backbone.num_layers).all()


@torch.inference_mode()
def test_merge_equals_one_batch(prototypes: PrototypeClassifier) -> None:
    backbone = prototypes.backbone
    runner = LayerRunner(backbone)
    ids = sorted(backbone.tokenize(TEXTS), key=len)
    short, long = ids[:4], ids[-3:]  # two batches of very different lengths
    whole = runner.step(runner.step(runner.start(backbone.pad(short + long))))
    parts = [runner.step(runner.start(backbone.pad(part))) for part in (short, long)]
    parts[1].rows = parts[1].rows + len(short)
    merged = runner.step(runner.merge(parts))
    assert merged.layer == whole.layer == 2
    assert merged.rows.tolist() == list(range(len(short) + len(long)))
    assert torch.equal(merged.attention_mask, whole.attention_mask)
    real = whole.attention_mask.bool()
    got, want = runner.token_states(merged), runner.token_states(whole)
    assert torch.allclose(got[real], want[real], atol=1e-5)
    assert torch.allclose(runner.pooled(merged), runner.pooled(whole), atol=1e-5)
    # once the longest rows have left, a merge drops the padding nobody needs any more
    shorter = runner.keep(merged, merged.attention_mask.sum(1) < merged.attention_mask.sum(1).max())
    again = runner.merge([shorter, runner.step(runner.step(runner.start(backbone.pad(short))))])
    assert again.hidden.shape[1] == int(shorter.attention_mask.sum(1).max())


def test_merge_needs_one_layer(prototypes: PrototypeClassifier) -> None:
    backbone = prototypes.backbone
    runner = LayerRunner(backbone)
    batch = backbone.pad(backbone.tokenize(TEXTS[:2]))
    first, second = runner.start(batch), runner.step(runner.start(batch))
    with pytest.raises(ModelError, match="same layer"):
        runner.merge([first, second])
    with pytest.raises(ModelError, match="nothing"):
        runner.merge([])
    assert runner.merge([first]) is first


def test_classifier_refill_option_gives_the_same_decisions(tiny_encoder_dir) -> None:
    from hateproto.early_exit import EarlyExitClassifier

    words = ["they", "all", "should", "go", "home", "nice", "game", "today", "we", "love"]
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, size=int(rng.integers(2, 12)))) for _ in range(24)]
    labels = [i % 2 for i in range(24)]
    plain = EarlyExitClassifier(str(tiny_encoder_dir), delta=0.01, batch_size=4).fit(texts, labels)
    filled = EarlyExitClassifier(str(tiny_encoder_dir), delta=0.01, batch_size=4, refill=True)
    filled.fit(texts, labels)
    a, b = plain.run(texts), filled.run(texts)
    assert filled.get_params()["refill"] is True and b.settings.get("refill") is True
    assert a.labels.tolist() == b.labels.tolist()
    assert a.exit_layers.tolist() == b.exit_layers.tolist()
