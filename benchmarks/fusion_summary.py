"""Summarise the fusion benchmark: per-setup in/cross-dataset macro-F1, seed-paired tests of
each fusion head (and the embedding setup) against the plain classifier and the
specialised-embedding setup, and the mean weight the adaptive/attention heads give each
source on the test sets.

    python benchmarks/fusion_summary.py [--config benchmarks/configs/fusion.yaml]
    python benchmarks/fusion_summary.py --stats-only   # no checkpoints needed

Writes benchmarks/results/fusion-stats.json (the statistics, from fusion.json alone) and,
unless --stats-only, benchmarks/results/fusion-comparison.md (and prints it); the source
weights need the fusion checkpoints.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from comparison_stats import METHOD, RESULTS, cross_dataset_stats, fusion_pairs, setup_comparisons

from hateproto.data import load_benchmark
from hateproto.experiments import atomic_write_text, markdown_table
from hateproto.experiments.cross_dataset import CrossDatasetConfig
from hateproto.training import HateClassifier, stratified_subsample

SOURCES = {"adaptive": ["text", "context", "emotion"], "attention": ["context", "emotion"]}


def seed_means(rows: list[dict], setup: str, cross: bool) -> list[float]:
    """Per seed, the mean macro-F1 of the setup's cross (or in-dataset) cells."""
    cells: dict[int, list[float]] = {}
    for row in rows:
        if row["setup"] == setup and (row["train_dataset"] != row["test_dataset"]) == cross:
            cells.setdefault(row["seed"], []).append(row["macro_f1"])
    return [float(np.mean(v)) for v in cells.values()]


def setup_rows(config: CrossDatasetConfig, rows: list[dict]) -> list[dict]:
    """Mean ± std over seeds of the per-seed mean in- and cross-dataset macro-F1."""
    out = []
    for setup in config.setups:
        row: dict = {"setup": setup.name}
        for label, cross in (("in-dataset", False), ("cross-dataset", True)):
            values = seed_means(rows, setup.name, cross)
            if values:
                row[label] = f"{100 * np.mean(values):.2f} ± {100 * np.std(values, ddof=1):.2f}"
        out.append(row)
    return out


def comparison_rows(rows: list[dict], setups: list[str], references: list[str]) -> list[dict]:
    """Every fusion setup (and the embedding setup) against each reference, paired by seed
    (``comparison_stats.setup_comparisons``: no two pairs share a model)."""
    pairs = [(a, b) for a, b in fusion_pairs(rows) if a in setups + ["embedding"]]
    pairs = [(a, b) for a, b in pairs if b in references]
    return [
        {
            "setup": c["a"],
            "vs": c["b"],
            "cells": c["cells"],
            "seeds": c["n"],
            "diff (points)": f"{c['mean_diff_points']:+.2f}",
            "t-test p": f"{c['p_value']:.3f}",
            "exact p (min)": f"{c['p_exact']:.2f} ({c['p_min']:.2f})",
        }
        for c in setup_comparisons(rows, pairs)
    ]


@torch.inference_mode()
def source_weights(config: CrossDatasetConfig) -> list[dict]:
    """Mean gate / attention weight per source of the saved fusion checkpoints on the test
    sets (seed-averaged)."""
    out = []
    for setup in config.setups:
        fusion = config.training_config(setup).fusion
        if fusion is None or fusion.method not in SOURCES:
            continue
        for train in config.train_names():
            for test in config.test_names():
                data = stratified_subsample(
                    load_benchmark(test, "test", config.protocol, config.data_dir),
                    config.max_test_examples,
                    config.sample_seed,
                )
                weights = []
                for seed in config.seeds:
                    folder = config.checkpoint_path(setup.name, train, seed)
                    if folder is None or not (folder / "hateproto_classifier.json").is_file():
                        continue
                    clf = HateClassifier.from_pretrained(folder).eval()
                    clf.logits_from_pooled(clf.encode(data.texts, cache=True))
                    weights.append(clf.head.last_weights.mean(0).numpy())
                if weights:
                    mean = np.mean(weights, axis=0)
                    row = {"setup": setup.name, "train": train, "test": test}
                    names = SOURCES[fusion.method]
                    row.update({s: float(w) for s, w in zip(names, mean, strict=True)})
                    out.append(row)
    return out


def main() -> None:
    """Build the comparison Markdown from the results file and the checkpoints."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="benchmarks/configs/fusion.yaml")
    parser.add_argument("--output", default="benchmarks/results/fusion-comparison.md")
    parser.add_argument("--stats-only", action="store_true", help="only fusion-stats.json")
    args = parser.parse_args()
    config = CrossDatasetConfig.from_yaml(args.config)
    rows = json.loads(Path(config.results).read_text())
    stats = cross_dataset_stats("fusion", fusion_pairs(rows))
    (RESULTS / "fusion-stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    if args.stats_only:
        return
    fusion = [s.name for s in config.setups if config.training_config(s).fusion is not None]
    references = [s.name for s in config.setups if s.name not in fusion]
    weights = source_weights(config)
    text = "\n\n".join(
        [
            "# Fusion benchmark: summary",
            "Macro-F1 (%), mean ± std over seeds of each seed's mean over the in-dataset "
            "(diagonal) or cross-dataset (off-diagonal) cells.",
            markdown_table(setup_rows(config, rows), ["setup", "in-dataset", "cross-dataset"]),
            "## Paired by seed (setup minus reference; `fusion-stats.json`)",
            METHOD,
            markdown_table(
                comparison_rows(rows, fusion, references),
                ["setup", "vs", "cells", "seeds", "diff (points)", "t-test p", "exact p (min)"],
            ),
            "## Mean source weights on the test sets (seed-averaged)",
            "Adaptive: softmax gates over text / context / emotion; attention: the text query's "
            "attention over context / emotion (averaged over heads).",
            markdown_table(
                weights,
                ["setup", "train", "test", "text", "context", "emotion"],
                digits=3,
            )
            if weights
            else "(no fusion checkpoints found)",
        ]
    )
    atomic_write_text(args.output, text + "\n")
    print(text)


if __name__ == "__main__":
    main()
