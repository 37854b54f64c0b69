"""Training throughput: hateproto's Trainer against a plain transformers ``Trainer`` loop.

Same model (a HateClassifier: all-MiniLM-L6-v2, mean pooling, linear head), same data
(stratified IHC training examples), same batch size, one epoch, fp32 and bf16. The variants are
interleaved in one process (ours, HF, ours, HF...) and the medians reported, since other jobs
share this machine; ``os.getloadavg()`` is recorded with every run.

    OMP_NUM_THREADS=1 python benchmarks/training_throughput.py --examples 512 --repeats 2 \
        --out benchmarks/results/training-throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile

import torch
from torch import nn

from hateproto.data import load_benchmark
from hateproto.provenance import provenance
from hateproto.training import (
    HateClassifier,
    Trainer,
    TrainingConfig,
    balanced_class_weights,
    stratified_subsample,
)


class _WithLoss(nn.Module):
    """Our classifier with the loss inside forward, as transformers' Trainer expects."""

    def __init__(self, clf: HateClassifier, weights: torch.Tensor) -> None:
        super().__init__()
        self.clf = clf
        self.loss = nn.CrossEntropyLoss(weight=weights)

    def forward(self, input_ids, attention_mask, labels=None):  # noqa: ANN001
        logits = self.clf(input_ids=input_ids, attention_mask=attention_mask)
        return {"loss": self.loss(logits.float(), labels), "logits": logits}


def run_ours(cfg: TrainingConfig, train) -> float:  # noqa: ANN001
    clf = HateClassifier.from_config(cfg)
    return Trainer(cfg).fit(clf, train).examples_per_second


def run_hf(cfg: TrainingConfig, train, group_by_length: bool) -> float:  # noqa: ANN001
    from transformers import DataCollatorWithPadding, TrainingArguments
    from transformers import Trainer as HFTrainer

    clf = HateClassifier.from_config(cfg)
    tok = clf.backbone.tokenizer
    ids = clf.backbone.tokenize(train.texts, max_length=cfg.max_length)
    data = [
        {"input_ids": x, "attention_mask": [1] * len(x), "labels": int(y)}
        for x, y in zip(ids, train.labels, strict=True)
    ]
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=cfg.batch_size,
            num_train_epochs=1,
            learning_rate=cfg.learning_rate,
            warmup_steps=int(cfg.warmup_ratio * -(-len(train) // cfg.batch_size)),
            weight_decay=cfg.weight_decay,
            bf16=cfg.bf16,
            use_cpu=True,
            report_to=[],
            save_strategy="no",
            logging_strategy="no",
            disable_tqdm=True,
            train_sampling_strategy="group_by_length" if group_by_length else "random",
            dataloader_num_workers=0,
            seed=cfg.seed,
        )
        trainer = HFTrainer(
            model=_WithLoss(clf, balanced_class_weights(train.labels)),
            args=args,
            train_dataset=data,
            data_collator=DataCollatorWithPadding(tok),
        )
        output = trainer.train()  # its own timing of the training loop, as ours excludes setup
        return len(train) / output.metrics["train_runtime"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--examples", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    train = stratified_subsample(load_benchmark("ihc", "train"), args.examples, seed=0)
    runs = []
    for bf16 in (False, True):
        cfg = TrainingConfig(
            backbone=args.model,
            pooling="mean",
            epochs=1,
            batch_size=args.batch_size,
            bf16=bf16,
            show_progress=False,
        )
        for repeat in range(args.repeats):
            for variant in ("hateproto", "hf_trainer", "hf_trainer_group_by_length"):
                if variant == "hateproto":
                    speed = run_ours(cfg, train)
                else:
                    speed = run_hf(cfg, train, variant.endswith("by_length"))
                row = {
                    "variant": variant,
                    "bf16": bf16,
                    "repeat": repeat,
                    "examples_per_second": round(speed, 2),
                    "loadavg": [round(x, 2) for x in os.getloadavg()],
                }
                print(json.dumps(row), flush=True)
                runs.append(row)
    summary = []
    for bf16 in (False, True):
        med = {
            v: statistics.median(
                r["examples_per_second"] for r in runs if r["variant"] == v and r["bf16"] == bf16
            )
            for v in ("hateproto", "hf_trainer", "hf_trainer_group_by_length")
        }
        summary.append(
            {
                "bf16": bf16,
                **{f"median_{k}": v for k, v in med.items()},
                "speedup_vs_hf_trainer": round(med["hateproto"] / med["hf_trainer"], 2),
                "speedup_vs_hf_group_by_length": round(
                    med["hateproto"] / med["hf_trainer_group_by_length"], 2
                ),
            }
        )
        print(json.dumps(summary[-1]), flush=True)
    if args.out:
        meta = {
            "model": args.model,
            "examples": args.examples,
            "batch_size": args.batch_size,
            "threads": torch.get_num_threads(),
            "provenance": provenance(),
        }
        with open(args.out, "w") as handle:
            json.dump({"settings": meta, "runs": runs, "summary": summary}, handle, indent=1)


if __name__ == "__main__":
    main()
