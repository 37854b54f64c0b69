"""Early-exit speed benchmark: measured wall time of prototype early exit against full depth.

For each model (a fine-tuned checkpoint, or the frozen model when it is missing), dtype
(fp32, bf16) and batch size (1, 32), on a stratified subset of one test set, these variants
run interleaved in one process (warm-up, then A, B, C, ... repeated; medians):

* ``full``: the layer-by-layer engine without exits (the fine-tuned head on the last layer);
* ``exit``: prototype-margin early exit with the delta chosen on dev (0.5-point budget);
* ``exit_calibrated``: per-layer deltas chosen on dev (same budget);
* ``hf_forward``: one plain ``model(**batch)`` pass + pooling + head per batch (what
  ``HateClassifier.predict_proba`` does), length-sorted batches;
* ``hf_pipeline``: transformers' ``pipeline("text-classification")`` on an
  ``AutoModelForSequenceClassification`` with the checkpoint's encoder weights (its own
  pooler; our head's weights copied into its classifier where the shapes allow), as a speed
  reference only.

Run from the repository root:

    PYTHONPATH=src .venv/bin/python benchmarks/early_exit_speed.py \
        --models minilm,mpnet --dataset ihc --out benchmarks/results/early-exit-speed

It writes ``<out>.json`` (one object per model, dtype, batch size and variant) and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hateproto.early_exit import (
    EarlyExitClassifier,
    ExitPolicy,
    ExitResult,
    simulate_early_exit,
)
from hateproto.early_exit.timing import interleaved_timings, load_average
from hateproto.evaluation import classification_metrics
from hateproto.experiments.early_exit import (
    EarlyExitConfig,
    ModelSpec,
    Prepared,
    prepare,
    table4_choices,
)
from hateproto.experiments.results import atomic_write_text, markdown_table, with_provenance
from hateproto.models.pooling import pool
from hateproto.training.data import stratified_indices

CHECKPOINTS = "~/.cache/hateproto/checkpoints/hateprototypes-{model}/{{dataset}}-seed0"


def _spec(model: str, dtype: str, args: argparse.Namespace) -> ModelSpec:
    return ModelSpec(
        name=model,
        model=model,
        checkpoint=CHECKPOINTS.format(model=model),
        dtype=dtype,
        train_per_class=args.train_per_class,
        max_dev_examples=args.dev_examples,
        max_test_examples=args.test_examples or None,
        batch_size=32,
    )


def _hf_forward(prepared: Prepared, texts: list[str], batch_size: int) -> np.ndarray:
    """Plain full forward + pooling + head, length-sorted batches (HateClassifier's way)."""
    backbone, head = prepared.backbone, prepared.head
    ids = backbone.tokenize(texts)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros(len(texts), dtype=np.int64)
    extra = {"use_cache": False} if backbone.family == "decoder" else {}
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = backbone.pad([ids[i] for i in rows])
            hidden = backbone.model(**batch, **extra).last_hidden_state
            pooled = pool(hidden, batch["attention_mask"], head.spec.pooling).float()
            probs, _ = head.assess(backbone.num_layers, pooled)
            out[rows] = probs.argmax(-1).numpy()
    return out


def _sequence_classifier(prepared: Prepared, dtype: torch.dtype) -> Any:
    """An HF sequence classifier with the checkpoint's encoder weights, for the pipeline."""
    from transformers import AutoModelForSequenceClassification, pipeline

    backbone = prepared.backbone
    config = copy.deepcopy(backbone.model.config)
    config.num_labels = 2
    model = AutoModelForSequenceClassification.from_config(config)
    base = getattr(model, model.base_model_prefix)
    missing = base.load_state_dict(backbone.model.state_dict(), strict=False)
    classifier = getattr(prepared.head, "source", None)  # the HateClassifier, if fine-tuned
    target = getattr(model, "classifier", None)
    target = getattr(target, "out_proj", target)
    source = getattr(getattr(classifier, "head", None), "classifier", None)
    copied = (
        isinstance(target, torch.nn.Linear)
        and isinstance(source, torch.nn.Linear)
        and target.weight.shape == source.weight.shape
    )
    if copied:
        target.load_state_dict(source.state_dict())
    model = model.to(dtype).eval()
    pipe = pipeline("text-classification", model=model, tokenizer=backbone.tokenizer, device=-1)
    note = {"missing_keys": list(missing.missing_keys), "head_copied": copied}
    return pipe, note


def _texts_subset(prepared: Prepared, n: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    test = prepared.test
    index = stratified_indices(test.labels, n, 0) if n < len(test) else np.arange(len(test))
    return [test.texts[i] for i in index], test.labels[index], index


class _Variants:
    """The timed variants at one batch size; each call stores its predictions."""

    def __init__(
        self, prepared: Prepared, policies: dict[str, ExitPolicy], pipe: Any, batch_size: int
    ) -> None:
        self.prepared, self.pipe, self.batch_size = prepared, pipe, batch_size
        self.clfs = {
            name: EarlyExitClassifier(prepared.backbone, policy, batch_size)
            for name, policy in policies.items()
        }
        self.names = [*self.clfs, "hf_forward", "hf_pipeline"]
        self.outputs: dict[str, np.ndarray] = {}
        self.results: dict[str, ExitResult] = {}

    def call(self, name: str, texts: list[str]) -> Callable[[], None]:
        """A no-argument function that runs ``name`` on ``texts``."""

        def run() -> None:
            if name in self.clfs:
                result = self.clfs[name].run(texts)
                self.outputs[name], self.results[name] = result.labels, result
            elif name == "hf_forward":
                self.outputs[name] = _hf_forward(self.prepared, texts, self.batch_size)
            else:
                answers = self.pipe(texts, batch_size=self.batch_size, truncation=True)
                self.outputs[name] = np.array([int(a["label"].split("_")[-1]) for a in answers])

        return run


def run_model(model: str, dtype: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    config = EarlyExitConfig(
        models=[_spec(model, dtype, args)],
        datasets=[args.dataset],
        budget=args.budget,
        threads=args.threads,
        data_dir=args.data_dir,
        results=str(Path(args.out).with_suffix(".unused.json")),
    )
    torch.set_num_threads(args.threads)
    prepared = prepare(config, config.models[0], args.dataset, print)
    choices = {c.method: c for c in table4_choices(prepared, args.budget)}
    L = prepared.num_layers
    full_policy = ExitPolicy(prepared.head, L)
    policies = {
        "full": full_policy,
        "exit": choices["prototype_exit"].policy,
        "exit_calibrated": choices["prototype_exit_calibrated"].policy,
    }
    test_f1 = {
        name: classification_metrics(
            prepared.test.labels, simulate_early_exit(p, prepared.test_vectors).labels
        )["macro_f1"]
        for name, p in policies.items()
    }
    test_exit = {
        name: simulate_early_exit(p, prepared.test_vectors).mean_exit_layer
        for name, p in policies.items()
    }
    pipe, pipe_note = _sequence_classifier(prepared, prepared.backbone.dtype)
    rows = []
    for batch_size in args.batch_sizes:
        n = args.examples_b1 if batch_size == 1 else args.examples
        texts, labels, _ = _texts_subset(prepared, n)
        variants = _Variants(prepared, policies, pipe, batch_size)
        print(
            f"[{model} {dtype} batch {batch_size}] {len(variants.names)} variants x "
            f"{args.repeats} on {len(texts)} texts"
        )
        for name in variants.names:  # warm-up on a few texts
            variants.call(name, texts[: max(batch_size, 8)])()
        times = interleaved_timings(
            {name: variants.call(name, texts) for name in variants.names},
            repeats=args.repeats,
            warmup=0,
        )
        outputs = variants.outputs
        exits = {name: r.mean_exit_layer for name, r in variants.results.items()}
        for name in variants.names:
            f1 = classification_metrics(labels, outputs[name])["macro_f1"]
            wall = times.median(name)
            rows.append(
                {
                    "model": model,
                    "backbone": prepared.reference,
                    "backbone_kind": prepared.kind,
                    "dataset": args.dataset,
                    "dtype": dtype,
                    "batch_size": batch_size,
                    "variant": name,
                    "setting": choices["prototype_exit"].setting if name == "exit" else "-",
                    "n": len(texts),
                    "num_layers": L,
                    "median_s": wall,
                    "times_s": times.wall[name],
                    "cpu_median_s": times.median(name, "cpu"),
                    "cpu_times_s": times.cpu[name],
                    "texts_per_s": len(texts) / wall,
                    "ms_per_text": 1000 * wall / len(texts),
                    "speedup_vs_full": times.speedup(name, "full"),
                    "cpu_speedup_vs_full": times.speedup(name, "full", "cpu"),
                    "mean_exit_layer": exits.get(name, float(L)),
                    "counted_speedup": L / exits.get(name, float(L)),
                    "token_weighted_speedup": (
                        variants.results[name].token_weighted_speedup
                        if name in variants.results
                        else 1.0
                    ),
                    "subset_macro_f1": f1,
                    "test_macro_f1": test_f1.get(name),
                    "test_full_macro_f1": test_f1["full"],
                    "test_mean_exit_layer": test_exit.get(name),
                    "test_f1_loss_points": (
                        100 * (test_f1["full"] - test_f1[name]) if name in test_f1 else None
                    ),
                    "threads": torch.get_num_threads(),
                    "load_average": load_average(),
                    "pipeline_note": pipe_note if name == "hf_pipeline" else None,
                    "command": " ".join(sys.argv),
                }
            )
            r = rows[-1]
            print(
                f"  {name:16s} {r['ms_per_text']:8.2f} ms/text  x{r['speedup_vs_full']:.2f} "
                f"(cpu x{r['cpu_speedup_vs_full']:.2f}) "
                f"(counted x{r['counted_speedup']:.2f})  F1 {f1:.4f}"
            )
    return rows


def write_markdown(rows: list[dict[str, Any]], path: Path) -> None:
    columns = [
        "model",
        "dataset",
        "dtype",
        "batch_size",
        "variant",
        "setting",
        "ms_per_text",
        "texts_per_s",
        "speedup_vs_full",
        "cpu_speedup_vs_full",
        "mean_exit_layer",
        "counted_speedup",
        "token_weighted_speedup",
        "subset_macro_f1",
        "test_macro_f1",
        "test_f1_loss_points",
        "test_mean_exit_layer",
    ]
    loads = sorted({tuple(r["load_average"]) for r in rows})
    commands = sorted({r.get("command") or "(see benchmarks/early-exit.md)" for r in rows})
    text = (
        "# Early-exit speed benchmark\n\n"
        + "Commands:\n\n"
        + "".join(f"* `{c}`\n" for c in commands)
        + "\n"
        f"Threads: {rows[0]['threads']}; load averages seen: {loads[0]} .. {loads[-1]}.\n\n"
        + markdown_table(rows, columns, digits=3)
        + "\n"
    )
    atomic_write_text(path, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="minilm,mpnet")
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument("--batch-sizes", default="32,1")
    parser.add_argument("--dataset", default="ihc")
    parser.add_argument("--examples", type=int, default=512)
    parser.add_argument("--examples-b1", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=0.005)
    parser.add_argument("--train-per-class", type=int, default=1000)
    parser.add_argument("--dev-examples", type=int, default=2000)
    parser.add_argument("--test-examples", type=int, default=0, help="0: the whole test set")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default=os.environ.get("HATEPROTO_DATA"))
    parser.add_argument("--out", default="benchmarks/results/early-exit-speed")
    args = parser.parse_args()
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    out = Path(args.out)
    json_path = out.with_suffix(".json")
    rows: list[dict[str, Any]] = json.loads(json_path.read_text()) if json_path.is_file() else []
    start = time.perf_counter()
    for model in args.models.split(","):
        for dtype in args.dtypes.split(","):
            done = {(r["model"], r["dtype"], r["dataset"]) for r in rows}
            if (model, dtype, args.dataset) in done:
                continue  # resumable: done already
            rows += with_provenance(run_model(model, dtype, args), dtype)
            atomic_write_text(json_path, json.dumps(rows, indent=1, default=_default))
            write_markdown(rows, out.with_suffix(".md"))
    print(f"done in {time.perf_counter() - start:.0f} s; {json_path}")


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isinf(value):
        return None
    raise TypeError(type(value).__name__)


if __name__ == "__main__":
    main()
