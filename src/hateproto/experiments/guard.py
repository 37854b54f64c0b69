"""Table 3: guard models.

A causal LM used as a guard (:class:`~hateproto.models.guard.GuardModel`, Llama-Guard-style
prompt; SmolLM2-135M-Instruct here, Llama-Guard-3-1B unchanged where available). Per dataset:

* ``guard_verdict``: its own verdict, P(unsafe) > 0.5 against P(safe);
* ``guard_verdict_tuned``: the same score with the threshold that maximises macro-F1 on the
  labelled examples the prototypes are built from (the same labelled budget as prototypes);
* ``guard_prototypes``: prototypes from its hidden state at the last prompt token;
* ``lm_prototypes_no_prompt``: prototypes from the same LM on the bare post (no guard prompt);
* ``frozen_prototypes``: prototypes from each frozen encoder baseline.

Prototype rows are given at the last layer and at the layer chosen without test data (split
halves of the prototype sample: prototypes from one half scored on the other). Prototypes come
from ``per_class`` training examples per class of every dataset P (the matrix P x E is kept;
the table shows P = E). Writes ``guard.json``, ``guard.md`` and ``guard.png``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from rich.console import Console

from hateproto.evaluation import classification_metrics
from hateproto.experiments import common
from hateproto.experiments.common import ExperimentConfig
from hateproto.experiments.plots import grouped_bars
from hateproto.experiments.results import ResultStore, atomic_write_text, matrix_section
from hateproto.experiments.transfer import prototype_scores
from hateproto.models import Backbone
from hateproto.models.guard import GuardModel
from hateproto.prototypes.selection import best_position, per_layer_macro_f1

Row = dict[str, Any]
KEYS = ("model", "method", "prototype_dataset", "eval_dataset", "seed")


class GuardConfig(ExperimentConfig):
    """Table 3 settings."""

    name: str = "guard"
    guard_model: str = "smollm2"
    template: str = "auto"
    per_class: int = 200
    seeds: list[int] = [0]
    test_limit: dict[str, int] = {"ihc": 500, "olid": 500, "hatexplain": 500, "sbic": 500}
    guard_batch_size: int = 16
    guard_max_length: int = 1024


def choose_layer(vectors: torch.Tensor, labels: np.ndarray, seed: int = 0) -> int:
    """Index of the layer with the best mean macro-F1 when prototypes from one random half of
    the labelled sample classify the other half (both ways).

    There is no dev split here, so the split halves stand in for one; the per-layer scores and
    the choice follow the shared rule of :mod:`hateproto.prototypes.selection`
    (:func:`~hateproto.prototypes.selection.per_layer_macro_f1`, then
    :func:`~hateproto.prototypes.selection.best_position`: the shallowest layer on ties).
    """
    rng = np.random.default_rng(seed)
    half = np.zeros(len(labels), dtype=bool)
    for c in (0, 1):
        members = np.flatnonzero(labels == c)
        half[rng.choice(members, size=len(members) // 2, replace=False)] = True
    scores = np.zeros(vectors.shape[1])
    for a, b in ((half, ~half), (~half, half)):
        sims = prototype_scores(vectors[a], labels[a], vectors[b])
        scores += per_layer_macro_f1(sims.argmax(-1).numpy(), labels[b])
    return best_position(scores.tolist())


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """Threshold on ``scores`` maximising macro-F1 on ``labels`` (midpoints of sorted scores)."""
    values = np.unique(scores)
    candidates = np.concatenate([[values[0] - 1e-9], (values[:-1] + values[1:]) / 2])
    f1 = [classification_metrics(labels, (scores > t).astype(int))["macro_f1"] for t in candidates]
    return float(candidates[int(np.argmax(f1))])


def metric_row(base: Row, labels: np.ndarray, preds: np.ndarray, scores: np.ndarray) -> Row:
    """``base`` plus accuracy, macro-F1 and PR-AUC."""
    metrics = classification_metrics(labels, preds, scores)
    return {**base, **{k: metrics[k] for k in ("n", "accuracy", "macro_f1", "pr_auc")}}


def prototype_rows(
    base: Row,
    proto: tuple[torch.Tensor, np.ndarray],
    test: tuple[torch.Tensor, np.ndarray],
    seed: int,
) -> list[Row]:
    """Rows at the last layer and at the split-half-chosen layer."""
    vectors, labels = test
    sims = prototype_scores(proto[0], proto[1], vectors)
    chosen = choose_layer(proto[0], proto[1], seed)
    rows = []
    for which, index in (("last", sims.shape[1] - 1), ("chosen", chosen)):
        layer_sims = sims[:, index]
        scores = torch.softmax(layer_sims / 0.05, dim=-1)[:, 1].numpy()
        row = metric_row(
            {**base, "method": f"{base['method']}_{which}", "layer": index + 1},
            labels,
            layer_sims.argmax(-1).numpy(),
            scores,
        )
        rows.append(row)
    return rows


def _guard_rows(config: GuardConfig, store: ResultStore, console: Console) -> None:
    guard = GuardModel.load(config.guard_model, dtype=config.dtype, template=config.template)  # type: ignore[arg-type]
    console.print(f"guard {config.guard_model}: template {guard.template}")
    raw = guard.backbone

    def run(texts: list[str]) -> tuple[np.ndarray, torch.Tensor]:
        out = guard.score(
            texts,
            layers="all",
            batch_size=config.guard_batch_size,
            max_length=config.guard_max_length,
            show_progress=config.show_progress,
        )
        return out.p_unsafe, out.vectors

    def plain(texts: list[str]) -> torch.Tensor:
        return common.encode_layers(raw, texts, config)

    for seed in config.seeds:
        protos, plain_protos, tests = {}, {}, {}
        for dataset in config.datasets:
            sample = common.prototype_sample(config, dataset, seed)
            p_unsafe, vectors = run(sample.texts)
            protos[dataset] = (vectors, sample.labels, p_unsafe)
            plain_protos[dataset] = (plain(sample.texts), sample.labels)
            test = common.eval_split(config, dataset)
            p_test, v_test = run(test.texts)
            tests[dataset] = (v_test, test.labels, p_test, plain(test.texts))
        name = config.guard_model
        for e, (v_test, labels, p_test, plain_test) in tests.items():
            base = {"model": name, "eval_dataset": e, "seed": seed, "template": guard.template}
            store.add(
                metric_row(
                    {**base, "method": "guard_verdict", "prototype_dataset": "-", "threshold": 0.5},
                    labels,
                    (p_test > 0.5).astype(int),
                    p_test,
                )
            )
            threshold = best_threshold(protos[e][2], protos[e][1])
            store.add(
                metric_row(
                    {
                        **base,
                        "method": "guard_verdict_tuned",
                        "prototype_dataset": e,
                        "threshold": threshold,
                    },
                    labels,
                    (p_test > threshold).astype(int),
                    p_test,
                )
            )
            for p in config.datasets:
                for row in prototype_rows(
                    {**base, "method": "guard_prototypes", "prototype_dataset": p},
                    protos[p][:2],
                    (v_test, labels),
                    seed,
                ):
                    store.add(row)
                for row in prototype_rows(
                    {**base, "method": "lm_prototypes_no_prompt", "prototype_dataset": p},
                    plain_protos[p],
                    (plain_test, labels),
                    seed,
                ):
                    store.add(row)


def _frozen_rows(config: GuardConfig, store: ResultStore) -> None:
    for ref in config.frozen_models:
        backbone = Backbone.load(ref, dtype=config.dtype)

        def encode(texts: list[str], backbone: Backbone = backbone) -> torch.Tensor:
            return common.encode_layers(backbone, texts, config)

        for seed in config.seeds:
            protos = {}
            tests = {}
            for dataset in config.datasets:
                sample = common.prototype_sample(config, dataset, seed)
                protos[dataset] = (encode(sample.texts), sample.labels)
                test = common.eval_split(config, dataset)
                tests[dataset] = (encode(test.texts), test.labels)
            for e, test in tests.items():
                for p, proto in protos.items():
                    base = {
                        "model": f"{ref}-frozen",
                        "method": "frozen_prototypes",
                        "prototype_dataset": p,
                        "eval_dataset": e,
                        "seed": seed,
                    }
                    for row in prototype_rows(base, proto, test, seed):
                        store.add(row)


def plot(rows: list[Row], path: Any) -> None:
    """Grouped bars: macro-F1 per evaluation dataset and method (in-domain prototypes)."""
    grouped_bars(
        [r for r in rows if r["prototype_dataset"] in ("-", r["eval_dataset"])],
        lambda r: r["eval_dataset"],
        lambda r: f"{r['model']}: {r['method']}",
        "macro_f1",
        path,
        "Guard verdict vs prototypes (prototypes from the eval dataset)",
        "macro-F1 (%)",
    )


def report(rows: list[Row], config: GuardConfig) -> str:
    """The Markdown report of Table 3."""
    in_domain = [r for r in rows if r["prototype_dataset"] in ("-", r["eval_dataset"])]
    for r in in_domain:
        r["setting"] = f"{r['model']}: {r['method']}"
    guard_protos = [r for r in rows if r["method"] == "guard_prototypes_chosen"]
    limits = ", ".join(f"{k} {v:,}" for k, v in config.test_limit.items()) or "none"
    return "\n".join(
        [
            "# Table 3: guard models",
            "",
            f"Guard: `{config.guard_model}` (Llama-Guard-style prompt). Prototypes: "
            f"{config.per_class} training examples per class; `_last` = last layer, `_chosen` "
            "= layer chosen on split halves of the prototype sample (no test data). Test sets "
            f"subsampled (stratified): {limits}. Values: macro-F1 (%).",
            "",
            *matrix_section(
                "Macro-F1, prototypes from the evaluation dataset",
                in_domain,
                "setting",
                "eval_dataset",
                "macro_f1",
            ),
            *matrix_section("Accuracy", in_domain, "setting", "eval_dataset", "accuracy"),
            *matrix_section("PR-AUC (hate class)", in_domain, "setting", "eval_dataset", "pr_auc"),
            *matrix_section(
                "Guard prototypes across datasets (rows: prototypes from, columns: evaluated on)",
                guard_protos,
                "prototype_dataset",
                "eval_dataset",
                "macro_f1",
            ),
        ]
    )


def run_settings(config: GuardConfig) -> dict[str, Any]:
    """The settings every row records; a results file from other settings is not resumed."""
    limits = ",".join(f"{d}={n}" for d, n in sorted(config.test_limit.items()))
    return {"per_class": config.per_class, "test_limit": limits or "none"}


def run_guard(config: GuardConfig, console: Console | None = None) -> list[Row]:
    """Score every dataset with the guard and the baselines; write JSON, Markdown and PNG."""
    console, base, store = common.open_run(config, KEYS, console, settings=run_settings(config))
    done = {(r["model"], r["eval_dataset"], r["seed"]) for r in store.rows}
    if not all((config.guard_model, d, s) in done for d in config.datasets for s in config.seeds):
        _guard_rows(config, store, console)
    frozen = [f"{m}-frozen" for m in config.frozen_models]
    if not all((m, d, s) in done for m in frozen for d in config.datasets for s in config.seeds):
        _frozen_rows(config, store)
    rows = store.rows
    atomic_write_text(base.with_suffix(".md"), report([dict(r) for r in rows], config))
    if rows:
        plot(rows, base.with_suffix(".png"))
    return rows
