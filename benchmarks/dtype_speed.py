"""fp32 against bf16 on the machine at hand, for training and for inference, side by side.

Training: hateproto's Trainer, one epoch over N stratified IHC training posts (MiniLM, linear
head), with ``bf16`` autocast on and off. Inference: ``Backbone.encode`` of M posts with the
model loaded in float32 and in bfloat16, and the agreement of their predictions (cosine of the
pooled vectors). Variants are interleaved (fp32, bf16, fp32, bf16...) and medians reported,
with ``os.getloadavg()`` before and after, since other jobs may share the machine.

    python benchmarks/dtype_speed.py --train-examples 512 --infer-examples 2000 --repeats 2 \
        --out benchmarks/results/dtype-speed-cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from hateproto.data import load_benchmark
from hateproto.experiments.results import atomic_write_text
from hateproto.models import Backbone
from hateproto.provenance import provenance
from hateproto.training import HateClassifier, Trainer, TrainingConfig, stratified_subsample


def train_rate(model: str, train, bf16: bool) -> float:  # noqa: ANN001
    cfg = TrainingConfig(backbone=model, epochs=1, bf16=bf16, show_progress=False)
    clf = HateClassifier.from_config(cfg)
    return Trainer(cfg).fit(clf, train).examples_per_second


def infer(model: str, texts: list[str], dtype: str) -> tuple[float, torch.Tensor]:
    backbone = Backbone.load(model, dtype=dtype)
    backbone.encode(texts[:64], layers=[-1])  # warm-up
    start = time.perf_counter()
    vectors = backbone.encode(texts, layers=[-1], batch_size=64)
    return len(texts) / (time.perf_counter() - start), torch.as_tensor(vectors).float()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--train-examples", type=int, default=512)
    parser.add_argument("--infer-examples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    data = load_benchmark("ihc", "train")
    train = stratified_subsample(data, args.train_examples, seed=0)
    texts = stratified_subsample(data, args.infer_examples, seed=1).texts
    load_before = os.getloadavg()
    runs: dict[str, list[float]] = {
        "train_fp32": [],
        "train_bf16": [],
        "infer_fp32": [],
        "infer_bf16": [],
    }
    cosines: list[float] = []
    for _ in range(args.repeats):
        runs["train_fp32"].append(train_rate(args.model, train, bf16=False))
        runs["train_bf16"].append(train_rate(args.model, train, bf16=True))
        rate32, v32 = infer(args.model, texts, "float32")
        rate16, v16 = infer(args.model, texts, "bfloat16")
        runs["infer_fp32"].append(rate32)
        runs["infer_bf16"].append(rate16)
        cosines.append(
            float(
                torch.nn.functional.cosine_similarity(
                    v32.reshape(len(texts), -1), v16.reshape(len(texts), -1)
                ).min()
            )
        )
    medians = {k: statistics.median(v) for k, v in runs.items()}
    result = {
        "model": args.model,
        "train_examples": args.train_examples,
        "infer_examples": args.infer_examples,
        "repeats": args.repeats,
        "runs": runs,
        "median_per_second": medians,
        "bf16_over_fp32_train": medians["train_bf16"] / medians["train_fp32"],
        "bf16_over_fp32_infer": medians["infer_bf16"] / medians["infer_fp32"],
        "min_cosine_bf16_vs_fp32": min(cosines),
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
        "provenance": provenance(),
    }
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    print(
        json.dumps(
            {
                k: result[k]
                for k in (
                    "median_per_second",
                    "bf16_over_fp32_train",
                    "bf16_over_fp32_infer",
                    "loadavg_after",
                )
            }
        )
    )


if __name__ == "__main__":
    main()
