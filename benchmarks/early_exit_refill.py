"""Refill benchmark: does keeping early-exit batches full pay, side by side with full depth?

MiniLM prototypes (``--per-class`` IHC train posts per class), one margin delta chosen on the
dev posts themselves so that the mean exit layer is about ``--target-layer`` (a speed
benchmark, not an accuracy one), then for each batch size these variants run alternating in
one process (one warm-up round, then A, B, C repeated ``--repeats`` times; best of each):

* ``full``: the layer-by-layer engine without exits (every row runs every layer);
* ``exit``: early exit, exited rows leave their batch (``run_early_exit(refill=False)``);
* ``exit_refill``: early exit, survivors of consecutive batches that reached the same layer
  merged into full batches (``run_early_exit(refill=True)``).

The counted speed-up is ``L / mean exit layer`` (time proportional to rows x layers). The
load average before and after each batch size is recorded: on a machine shared with other
jobs only ratios measured side by side mean anything.

Run from the repository root (``--device cuda`` on a GPU machine):

    PYTHONPATH=src .venv/bin/python benchmarks/early_exit_refill.py \
        --device cpu --out benchmarks/results/early-exit-refill-cpu
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hateproto.data import load_benchmark
from hateproto.early_exit import (
    ExitPolicy,
    ExitResult,
    PrototypeMarginPolicy,
    PrototypeScorer,
    run_early_exit,
    simulate_early_exit,
)
from hateproto.early_exit.timing import interleaved_timings, load_average
from hateproto.experiments.results import markdown_table
from hateproto.models import Backbone
from hateproto.models.stepping import LayerRunner
from hateproto.outputs import atomic_write_text
from hateproto.prototypes import PrototypeClassifier
from hateproto.provenance import provenance


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--examples", type=int, default=1024, help="IHC dev posts")
    parser.add_argument("--per-class", type=int, default=200, help="train posts per class")
    parser.add_argument("--batch-sizes", default="32,256")
    parser.add_argument("--target-layer", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--out", default="benchmarks/results/early-exit-refill-cpu")
    return parser.parse_args(argv)


def _train_subset(per_class: int) -> tuple[list[str], np.ndarray]:
    train = load_benchmark("ihc", "train", "hateprototypes")
    rng = np.random.default_rng(0)
    picks = np.concatenate(
        [rng.permutation(np.flatnonzero(train.labels == c))[:per_class] for c in (0, 1)]
    )
    return [train.texts[i] for i in picks], train.labels[picks]


def _choose_delta(
    scorer: PrototypeScorer, vectors: torch.Tensor, target: float
) -> tuple[float, ExitResult]:
    """The delta (from a grid of margin quantiles) whose simulated mean exit layer is
    closest to ``target``."""
    views = {scorer.spec: vectors}
    layers = vectors.shape[1]
    margins = torch.cat([scorer.assess(k, vectors[:, k - 1])[1] for k in range(1, layers)])
    grid = np.quantile(margins.double().cpu().numpy(), np.linspace(0.0, 1.0, 201))
    best: tuple[float, float, ExitResult] | None = None
    for delta in grid:
        result = simulate_early_exit(PrototypeMarginPolicy(scorer, float(delta)), views)
        gap = abs(result.mean_exit_layer - target)
        if best is None or gap < best[0]:
            best = (gap, float(delta), result)
    assert best is not None
    return best[1], best[2]


def _variants(
    runner: LayerRunner, policy: ExitPolicy, texts: list[str], batch_size: int
) -> dict[str, Any]:
    full = policy.full_depth()
    return {
        "full": lambda: run_early_exit(runner, full, texts, batch_size=batch_size),
        "exit": lambda: run_early_exit(runner, policy, texts, batch_size=batch_size),
        "exit_refill": lambda: run_early_exit(
            runner, policy, texts, batch_size=batch_size, refill=True
        ),
    }


def _counted(runner: LayerRunner, run: Any) -> tuple[Any, dict[str, int]]:
    """``run()`` with forward hooks on every layer: its result, the layer calls, the rows
    they ran and the padded tokens they ran (what a CPU's time grows with)."""
    work = {"layer_calls": 0, "row_layers": 0, "token_layers": 0}

    def count(module: Any, args: Any, out: Any) -> None:
        work["layer_calls"] += 1
        work["row_layers"] += int(args[0].shape[0])
        work["token_layers"] += int(args[0].shape[0] * args[0].shape[1])

    hooks = [layer.register_forward_hook(count) for layer in runner.adapter.layers]
    try:
        return run(), work
    finally:
        for hook in hooks:
            hook.remove()


def _agreement(runner: LayerRunner, policy: ExitPolicy, texts: list[str], batch_size: int):
    variants = _variants(runner, policy, texts, batch_size)
    work = {name: _counted(runner, run) for name, run in variants.items()}
    off, on = work["exit"][0], work["exit_refill"][0]
    counts = {f"{name}_{key}": value for name, (_, c) in work.items() for key, value in c.items()}
    return counts | {
        "labels_equal": bool(np.array_equal(on.labels, off.labels)),
        "exit_layers_equal": bool(np.array_equal(on.exit_layers, off.exit_layers)),
        "max_proba_diff": float(np.abs(on.proba - off.proba).max()),
        "mean_exit_layer": off.mean_exit_layer,
        "exit_histogram": off.exit_histogram(),
        "counted_speedup": off.counted_speedup,
        "token_weighted_speedup": off.token_weighted_speedup,
    }


def _measure(runner: LayerRunner, policy: ExitPolicy, texts: list[str], batch_size: int, args):
    before = load_average()
    timings = interleaved_timings(
        _variants(runner, policy, texts, batch_size), repeats=args.repeats, warmup=1
    )
    best = {name: min(times) for name, times in timings.wall.items()}
    row: dict[str, Any] = {"batch_size": batch_size, "loadavg_before": before}
    row |= {f"{name}_s": round(seconds, 3) for name, seconds in best.items()}
    row |= {f"{name}_all_s": [round(t, 3) for t in ts] for name, ts in timings.wall.items()}
    row["speedup_exit"] = best["full"] / best["exit"]
    row["speedup_exit_refill"] = best["full"] / best["exit_refill"]
    row["refill_vs_exit"] = best["exit"] / best["exit_refill"]
    row |= _agreement(runner, policy, texts, batch_size)
    row["loadavg_after"] = load_average()
    return row


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    backbone = Backbone.load(args.model, dtype=args.dtype, device=args.device)
    train_texts, train_labels = _train_subset(args.per_class)
    dev = load_benchmark("ihc", "dev", "hateprototypes")
    texts = list(dev.texts[: args.examples])
    prototypes = PrototypeClassifier(backbone, batch_size=32).fit(train_texts, train_labels)
    scorer = PrototypeScorer(prototypes)
    vectors = backbone.encode(texts, layers="all", batch_size=32).to(backbone.device)
    delta, simulated = _choose_delta(scorer, vectors, args.target_layer)
    policy = PrototypeMarginPolicy(scorer, delta)
    runner = LayerRunner(backbone)
    rows = []
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        rows.append(_measure(runner, policy, texts, batch_size, args))
        print(json.dumps(rows[-1]), flush=True)
    record = {
        "command": ".venv/bin/python " + shlex.join(sys.argv),
        "model": args.model,
        "device": str(backbone.device),
        "dtype": args.dtype,
        "torch_threads": torch.get_num_threads(),
        "examples": len(texts),
        "train_per_class": args.per_class,
        "delta": delta,
        "simulated_mean_exit_layer": simulated.mean_exit_layer,
        "num_layers": backbone.num_layers,
        "repeats": args.repeats,
        "rows": rows,
        "provenance": provenance(dtype=args.dtype, device=str(backbone.device)),
    }
    out = Path(args.out)
    atomic_write_text(out.with_suffix(".json"), json.dumps(record, indent=2) + "\n")
    atomic_write_text(out.with_suffix(".md"), _markdown(record))


def _markdown(record: dict[str, Any]) -> str:
    columns = [
        "batch_size",
        "full_s",
        "exit_s",
        "exit_refill_s",
        "speedup_exit",
        "speedup_exit_refill",
        "refill_vs_exit",
        "counted_speedup",
        "mean_exit_layer",
        "loadavg_before",
        "loadavg_after",
    ]
    work = ["batch_size"] + [
        f"{name}_{key}"
        for key in ("layer_calls", "token_layers")
        for name in ("full", "exit", "exit_refill")
    ]
    agree = all(r["labels_equal"] and r["exit_layers_equal"] for r in record["rows"])
    worst = max(r["max_proba_diff"] for r in record["rows"])
    return "\n".join(
        [
            f"# Early exit with refill: {record['model']} on {record['device']}",
            "",
            f"{record['examples']} IHC dev posts, prototypes from {record['train_per_class']} "
            f"train posts per class, delta {record['delta']:.4g} (mean exit layer "
            f"{record['simulated_mean_exit_layer']:.2f} of {record['num_layers']}), "
            f"{record['dtype']}, {record['torch_threads']} torch threads. Wall seconds, best of "
            f"{record['repeats']}, variants alternating after one warm-up round. "
            f"Refill gave the same labels and exit layers as no refill: {agree} "
            f"(largest probability difference {worst:.1e}).",
            "",
            markdown_table(record["rows"], columns, digits=3),
            "",
            "Every timed run (seconds, in the order they ran; a wide spread means the other "
            "jobs were in the way):",
            "",
            markdown_table(
                record["rows"], ["batch_size", "full_all_s", "exit_all_s", "exit_refill_all_s"]
            ),
            "",
            "Work done (forward calls of transformer layers, and padded tokens x layers):",
            "",
            markdown_table(record["rows"], work, digits=0),
            "",
            "Reading: on a CPU a layer's time grows with the padded tokens it runs (last "
            "table), and refill pads merged rows to their longest neighbour, so it can cost "
            "more than its fewer, fuller batches save; on a GPU a layer call costs about the "
            "same for any batch up to its capacity, so the fewer layer calls are what should "
            "pay there (run this script with `--device cuda` to see).",
            "",
            "The machine was shared with other jobs (load averages, 1/5/15 min, above; "
            "2 cores): absolute times are noisy, only the ratios measured side by side in one "
            "process mean anything, and small differences between them are within noise.",
            "",
            "Command:",
            "",
            "```bash",
            f"PYTHONPATH=src {record['command']}",
            "```",
            "",
        ]
    )


if __name__ == "__main__":
    main()
