"""Benchmark: time to build prototypes (``per_class`` per class, all layers) against one plain
encode pass (last layer only) over the same texts.

The two are interleaved in one process (plain, build, plain, build, ...) after a warm-up, and
the ratio of the medians is reported with ``os.getloadavg()`` before and after, since other
jobs on the machine disturb absolute timings. Writes ``prototype-build-time.json`` and ``.md``.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

from rich.console import Console

from hateproto.experiments.common import ExperimentConfig, output_path, prototype_sample
from hateproto.experiments.results import atomic_write_text, markdown_table
from hateproto.models import Backbone
from hateproto.prototypes import PrototypeClassifier
from hateproto.provenance import provenance

Row = dict[str, Any]


class BuildTimeConfig(ExperimentConfig):
    """Build-time benchmark settings (``model`` may be an alias or a checkpoint folder)."""

    name: str = "prototype-build-time"
    model: str = "minilm"
    dataset: str = "ihc"
    repeats: int = 3
    datasets: list[str] = ["ihc"]
    show_progress: bool = False


def _plain(backbone: Backbone, texts: list[str], config: BuildTimeConfig) -> float:
    start = time.perf_counter()
    backbone.encode(
        texts, layers="last", batch_size=config.batch_size, max_length=config.max_length
    )  # noqa: E128
    return time.perf_counter() - start


def _build(backbone: Backbone, texts: list[str], labels: Any, config: BuildTimeConfig) -> float:
    start = time.perf_counter()
    clf = PrototypeClassifier(
        backbone, layers="all", batch_size=config.batch_size, max_length=config.max_length
    )  # noqa: E128
    clf.fit(texts, labels)
    return time.perf_counter() - start


def run_build_time(config: BuildTimeConfig, console: Console | None = None) -> Row:
    """Interleave plain encoding and prototype building; write and return the summary."""
    console = console or Console(stderr=True)
    sample = prototype_sample(config, config.dataset, config.seeds[0])
    backbone = Backbone.load(config.model, dtype=config.dtype)
    load_before = os.getloadavg()
    _plain(backbone, sample.texts[:64], config)  # warm-up
    plain, build = [], []
    for i in range(config.repeats):
        plain.append(_plain(backbone, sample.texts, config))
        build.append(_build(backbone, sample.texts, sample.labels, config))
        console.print(f"repeat {i + 1}: plain {plain[-1]:.2f} s, build {build[-1]:.2f} s")
    summary = {
        "model": config.model,
        "dataset": config.dataset,
        "texts": len(sample),
        "per_class": config.per_class,
        "layers": backbone.num_layers,
        "dtype": config.dtype,
        "batch_size": config.batch_size,
        "repeats": config.repeats,
        "plain_encode_s": plain,
        "build_s": build,
        "plain_median_s": statistics.median(plain),
        "build_median_s": statistics.median(build),
        "ratio": statistics.median(build) / statistics.median(plain),
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
        "cpu_count": os.cpu_count(),
        "provenance": provenance(dtype=config.dtype),
    }
    base = output_path(config, config.name)
    atomic_write_text(base.with_suffix(".json"), json.dumps(summary, indent=1))
    atomic_write_text(
        base.with_suffix(".md"),
        "# Prototype build time vs one plain encode pass\n\n"
        + markdown_table(
            [summary],
            [
                "model",
                "dataset",
                "texts",
                "layers",
                "dtype",
                "plain_median_s",
                "build_median_s",
                "ratio",
            ],
        )
        + f"\n\nInterleaved, {config.repeats} repeats, medians; load average before "
        f"{load_before[0]:.2f}, after {summary['loadavg_after'][0]:.2f}.\n",
    )
    return summary
