"""Full fine-tuning, LoRA and probe (frozen backbone, cached features) on one dataset:
test macro-F1, training time per epoch and peak memory.

Each mode runs in its own process, so that its peak resident memory (``ru_maxrss``, read when
training ends, before the test set is scored) is its own; the resident memory just before
training is recorded too, and the difference is what training added (probe: feature
extraction included). tracemalloc's peak (Python-level allocations only; torch tensors are
not traced) is reported alongside.

    OMP_NUM_THREADS=1 python benchmarks/training_modes.py --dataset ihc --examples 1500 \
        --dev-examples 300 --test-examples 1000 --out benchmarks/results/training-modes-minilm.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

MODES = {
    "full": {"mode": "full", "learning_rate": 1e-4, "epochs": 2},
    "lora": {"mode": "lora", "learning_rate": 5e-4, "epochs": 2, "lora_r": 16, "lora_alpha": 32},
    "probe": {"mode": "probe", "learning_rate": 1e-3, "epochs": 20},
}


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(args: argparse.Namespace) -> dict:
    from hateproto.data import load_benchmark
    from hateproto.training import (
        HateClassifier,
        Trainer,
        TrainingConfig,
        evaluate_classifier,
        stratified_subsample,
    )

    protocol = args.protocol
    train = stratified_subsample(load_benchmark(args.dataset, "train", protocol), args.examples)
    dev = stratified_subsample(load_benchmark(args.dataset, "dev", protocol), args.dev_examples)
    test = stratified_subsample(load_benchmark(args.dataset, "test", protocol), args.test_examples)
    cfg = TrainingConfig(
        backbone=args.model,
        pooling="mean",
        bf16=True,
        show_progress=False,
        **MODES[args.worker],
    )
    clf = HateClassifier.from_config(cfg)
    trainable = sum(p.numel() for p in clf.parameters() if p.requires_grad)
    rss_before = _rss_mb()
    tracemalloc.start()
    start = time.perf_counter()
    result = Trainer(cfg).fit(clf, train, dev)
    fit_seconds = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before testing
    metrics = evaluate_classifier(clf, test)
    return {
        "mode": args.worker,
        "dataset": args.dataset,
        "model": args.model,
        "n_train": len(train),
        "n_dev": len(dev),
        "n_test": metrics["n"],
        "epochs": cfg.epochs,
        "learning_rate": cfg.learning_rate,
        "trainable_parameters": trainable,
        "test_macro_f1": metrics["macro_f1"],
        "test_accuracy": metrics["accuracy"],
        "dev_macro_f1": result.dev_metrics.get("macro_f1"),
        "best_epoch": result.best_epoch,
        "seconds_per_epoch": result.train_seconds / cfg.epochs,
        "fit_seconds_total": fit_seconds,
        "setup_seconds": fit_seconds - sum(r["seconds"] for r in result.history),
        "train_examples_per_second": result.examples_per_second,
        "rss_before_training_mb": rss_before,
        "peak_rss_mb": peak_rss,
        "tracemalloc_peak_mb": traced_peak,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--dataset", default="ihc")
    parser.add_argument("--protocol", default="hateprototypes")
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--dev-examples", type=int, default=1000)
    parser.add_argument("--test-examples", type=int, default=None)
    parser.add_argument("--modes", default="full,lora,probe")
    parser.add_argument("--out", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args)), flush=True)
        return
    rows = []
    for mode in args.modes.split(","):
        cmd = [sys.executable, __file__, "--worker", mode] + [
            f"--{k.replace('_', '-')}={v}"
            for k, v in vars(args).items()
            if k in ("model", "dataset", "protocol", "examples", "dev_examples", "test_examples")
            and v is not None
        ]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    if args.out:
        from hateproto.experiments.results import with_provenance

        with open(args.out, "w") as handle:
            json.dump(with_provenance(rows), handle, indent=1)  # the parent's provenance


if __name__ == "__main__":
    main()
