"""Score with Ray Data, for archives larger than one machine.

Two entry points:

* :func:`score_dataset`: a Ray ``Dataset`` with a text column → the same rows plus
  ``label``, ``hate_probability``, ``margin``, ``exit_layer`` and ``error``. Each Ray actor
  loads the detector once. Compose it with Ray's own readers and writers on a cluster::

      ds = ray.data.read_parquet("s3://bucket/posts/")
      score_dataset(ds, DetectorSpec(folder="/shared/detectors/ihc")).write_parquet("s3://...")

* :func:`classify_with_ray`: what ``hateproto classify --engine ray`` runs: one input file
  in, one output file out, with the same atomic write and bad-row handling as the local
  engine (results stream back to the driver in input order).

``ray.init(address=...)`` picks the cluster: ``None`` starts a local Ray instance,
``"auto"`` joins the cluster this machine belongs to, ``"ray://HEAD:10001"`` a remote one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hateproto.detector.results import BASE_COLUMNS
from hateproto.detector.spec import DetectorSpec
from hateproto.errors import DataError, HateprotoError
from hateproto.optional import require
from hateproto.progress import progress_bar
from hateproto.scoring.classify import (
    MAX_CHARS,
    ClassifyJob,
    ClassifySummary,
    OnError,
    output_columns,
    record_bad_rows,
    row_problems,
)
from hateproto.scoring.readers import TableReader
from hateproto.scoring.writers import open_writer

ERROR_COLUMN = "error"


class _DetectorActor:
    """A Ray actor holding one loaded detector; scores pandas batches."""

    def __init__(self, spec: DetectorSpec, text_column: str, prefix: str, threads: int) -> None:
        import torch

        torch.set_num_threads(max(1, threads))
        self.detector = spec.load()
        self.text_column = text_column
        self.prefix = prefix

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        n = len(batch)
        texts = batch[self.text_column].tolist() if self.text_column in batch else [None] * n
        problems = row_problems(texts, max_chars=MAX_CHARS)
        good = [i for i in range(n) if i not in problems]
        values: dict[str, list[Any]] = {name: [None] * n for name in BASE_COLUMNS}
        if good:
            scores = self.detector.score_arrays([texts[i] for i in good])
            for name, column in scores.columns().items():
                values.setdefault(name, [None] * n)
                for row, value in zip(good, list(column), strict=True):
                    values[name][row] = value
        out = batch.copy()
        for name, column in values.items():
            out[self.prefix + name] = column
        out[self.prefix + ERROR_COLUMN] = [problems.get(i) for i in range(n)]
        return out


def score_dataset(
    dataset: Any,
    spec: DetectorSpec,
    text_column: str = "text",
    prefix: str = "",
    batch_size: int = 256,
    workers: int = 1,
    cpus_per_worker: float = 1.0,
) -> Any:
    """Add predictions to a Ray ``Dataset`` (lazy; runs when consumed or written).

    Rows whose text cannot be scored keep empty predictions and a reason in ``error``.

    Args:
        dataset: a ``ray.data.Dataset`` with ``text_column``.
        spec: how each worker loads the detector (its paths must exist on every node).
        batch_size: rows per call of a worker.
        workers: number of Ray actors, each holding one detector.
        cpus_per_worker: CPUs Ray reserves per actor (also its torch threads).
    """
    return dataset.map_batches(
        _DetectorActor,
        fn_constructor_kwargs={
            "spec": spec,
            "text_column": text_column,
            "prefix": prefix,
            "threads": int(cpus_per_worker),
        },
        batch_size=batch_size,
        batch_format="pandas",
        concurrency=workers,
        num_cpus=cpus_per_worker,
    )


def read_dataset(path: Path, fmt: str, columns: Sequence[str]) -> Any:
    """A Ray ``Dataset`` over one table file (CSV/TSV cells read as strings)."""
    import pyarrow as pa
    import ray.data
    from pyarrow import csv as pacsv

    if fmt == "parquet":
        return ray.data.read_parquet(str(path))
    if fmt == "jsonl":
        return ray.data.read_json(str(path), lines=True)
    return ray.data.read_csv(
        str(path),
        parse_options=pacsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ","),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in columns}, strings_can_be_null=True
        ),
    )


def _check_room(workers: int, cpus_per_worker: float) -> None:
    """Refuse a worker count that leaves Ray no CPU to read the input (it would hang)."""
    import ray

    total = float(ray.cluster_resources().get("CPU", 0))
    if workers * cpus_per_worker > total - 1:
        raise DataError(
            f"Ray has {total:g} CPUs; {workers} worker(s) x {cpus_per_worker:g} CPU would leave "
            "none for reading the input; use fewer --ray-workers (or a bigger cluster)"
        )


def classify_with_ray(
    spec: DetectorSpec,
    input_path: str | Path,
    output_path: str | Path,
    text_column: str = "text",
    chunk_size: int = 1000,
    on_error: OnError = "fail",
    keep_columns: Sequence[str] | None = None,
    prefix: str = "",
    address: str | None = None,
    workers: int = 1,
    cpus_per_worker: float = 1.0,
    show_progress: bool = True,
) -> ClassifySummary:
    """``hateproto classify --engine ray``: score one file with Ray workers into one file."""
    ray = require("ray", extra="ray", purpose="classify --engine ray")

    job = ClassifyJob(
        Path(input_path), Path(output_path), text_column, chunk_size, on_error, keep_columns, prefix
    )
    reader = TableReader(job.input, text_column, chunk_size)
    columns = output_columns(reader.columns, job)
    writer = open_writer(job.output)
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    _check_room(workers, cpus_per_worker)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    ray.data.DataContext.get_current().enable_progress_bars = False
    dataset = read_dataset(job.input, reader.format, reader.columns)
    scored = score_dataset(dataset, spec, text_column, prefix, chunk_size, workers, cpus_per_worker)
    summary = ClassifySummary(str(job.output))
    started = time.perf_counter()
    writer.open(None)
    try:
        total = reader.count_rows() if show_progress else None
        with progress_bar(
            total, "classifying (ray)", enabled=show_progress, unit="rows"
        ) as advance:
            for batch in scored.iter_batches(batch_size=chunk_size, batch_format="pandas"):
                errors = batch[prefix + ERROR_COLUMN]
                bad = {i: str(e) for i, e in enumerate(errors.tolist()) if isinstance(e, str)}
                if bad:
                    record_bad_rows(bad, summary.rows_read, job, summary)
                good = batch.loc[errors.isna()].reset_index(drop=True)
                scored_columns = [
                    c
                    for c in good.columns
                    if c not in reader.columns and c != prefix + ERROR_COLUMN
                ]
                out = good[[*columns, *scored_columns]]
                writer.write(out.astype({prefix + "exit_layer": "int64"}))
                summary.rows_read += len(batch)
                summary.rows_scored += len(out)
                advance(len(batch))
    except BaseException as exc:
        writer.discard()
        if isinstance(exc, HateprotoError):
            raise
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise DataError(f"the Ray run failed: {type(exc).__name__}: {exc}") from exc
    writer.finish()
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary
