"""Score a large table with a detector: streamed in chunks, resumable, never half-written.

:func:`classify_file` reads the input chunk by chunk (:class:`~.readers.TableReader`), scores
the texts, and appends the input columns plus ``label``, ``hate_probability``, ``margin`` and
``exit_layer`` to a temporary output (:mod:`.writers`). After every chunk it records its
progress in a sidecar file ``OUTPUT.progress.json``; ``resume=True`` continues from there.
The output appears, complete, with one rename at the end.

Bad rows (missing, empty or non-string text; unreadable JSON lines) fail the run with a
message naming the row (``on_error="fail"``) or are left out and counted (``"skip"``).

Example:
    >>> summary = classify_file(detector, "posts.csv", "scored.parquet")  # doctest: +SKIP
    >>> summary.rows_scored, summary.bad_rows                              # doctest: +SKIP
    (120000, 3)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from hateproto.data.tables import table_format
from hateproto.detector.results import BASE_COLUMNS, Scores
from hateproto.errors import DataError
from hateproto.outputs import atomic_write_text, check_output_file, remove_stale_temporaries
from hateproto.progress import progress_bar
from hateproto.scoring.readers import Chunk, TableReader
from hateproto.scoring.texts import text_problem
from hateproto.scoring.writers import ChunkWriter, open_writer

OnError = Literal["skip", "fail"]
SIDECAR_VERSION = 1
MAX_CHARS = 100_000
"""Default longest text ``classify`` scores (about 25 pages; the model reads only its
first ``max_length`` tokens anyway)."""
_EXAMPLES_KEPT = 5


@dataclass
class ClassifySummary:
    """What a classify run did.

    Attributes:
        output: the output file.
        rows_read: input rows read in this run and any run it resumed.
        rows_scored: rows written with a prediction.
        bad_rows: rows left out (``on_error="skip"``).
        bad_examples: up to five ``"row N: reason"`` strings.
        resumed_from: input rows already done by an interrupted run (0 for a fresh run).
        seconds: wall time of this run.
    """

    output: str
    rows_read: int = 0
    rows_scored: int = 0
    bad_rows: int = 0
    bad_examples: list[str] = field(default_factory=list)
    resumed_from: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


@dataclass
class ClassifyJob:
    """The settings of one classify run (what must match for ``--resume``)."""

    input: Path
    output: Path
    text_column: str = "text"
    chunk_size: int = 1000
    on_error: OnError = "fail"
    keep_columns: Sequence[str] | None = None
    prefix: str = ""
    scorer_key: str = ""
    max_chars: int | None = None

    def sidecar(self) -> Path:
        """``OUTPUT.progress.json``: the progress of an unfinished run."""
        return self.output.with_name(self.output.name + ".progress.json")

    def identity(self) -> dict[str, Any]:
        """Facts an interrupted run must share with the run that resumes it."""
        stat = self.input.stat()
        return {
            "input": str(self.input.resolve()),
            "input_size": stat.st_size,
            "input_mtime_ns": stat.st_mtime_ns,
            "text_column": self.text_column,
            "keep_columns": list(self.keep_columns) if self.keep_columns is not None else None,
            "prefix": self.prefix,
            "on_error": self.on_error,
            "scorer": self.scorer_key,
        }


Scorer = Callable[[list[str]], Any]
"""Texts → an object with ``labels``, ``proba`` ``[N, 2]``, ``margins`` and ``exit_layers``
(what :meth:`hateproto.detector.Detector.score_arrays` returns)."""


def scorer_key(info: dict[str, Any]) -> str:
    """A short hash of a detector's :meth:`~hateproto.detector.Detector.info`."""
    return hashlib.sha256(json.dumps(info, sort_keys=True, default=str).encode()).hexdigest()[:16]


def classify_file(
    scorer: Scorer | Any,
    input_path: str | Path,
    output_path: str | Path,
    text_column: str = "text",
    chunk_size: int = 1000,
    on_error: OnError = "fail",
    resume: bool = False,
    keep_columns: Sequence[str] | None = None,
    prefix: str = "",
    show_progress: bool = True,
    log: Callable[[str], None] = lambda message: None,
    max_chars: int | None = MAX_CHARS,
) -> ClassifySummary:
    """Score every row of ``input_path`` and write ``output_path`` (formats from suffixes).

    Args:
        scorer: a :class:`~hateproto.detector.Detector` or a function like its
            ``score_arrays``.
        text_column: input column with the texts.
        chunk_size: rows read, scored and written at a time (memory stays constant).
        on_error: ``fail`` (stop at the first bad row, exit status 2 in the CLI) or ``skip``.
        resume: continue an interrupted run with the same input and settings.
        keep_columns: input columns to copy to the output (default: all).
        prefix: prefix of the prediction columns (``pred_`` → ``pred_label``...).
        log: receives one-line notes (resuming, starting over).
        max_chars: a longer text is a bad row (never tokenized: one huge cell would take
            minutes and gigabytes); ``None``: no limit.
    """
    score = getattr(scorer, "score_arrays", scorer)
    key = scorer_key(scorer.info()) if hasattr(scorer, "info") else ""
    job = ClassifyJob(
        Path(input_path),
        Path(output_path),
        text_column,
        chunk_size,
        on_error,
        keep_columns,
        prefix,
        key,
        max_chars,
    )
    if on_error not in ("skip", "fail"):
        raise DataError(f"on_error must be 'skip' or 'fail', not {on_error!r}")
    reader = TableReader(job.input, text_column, chunk_size)
    columns = output_columns(reader.columns, job)
    table_format(job.output)  # fail on an unknown output type before any work
    check_output_file(job.output, inputs=[job.input], option="output")
    writer = open_writer(job.output)
    summary, writer_state = _start(job, resume, writer, log)
    if summary is None:
        return ClassifySummary(str(job.output))
    writer.open(writer_state)
    try:
        _run(job, reader, writer, score, columns, summary, show_progress)
        if summary.rows_read == 0:  # a header-only input: the output still gets its columns
            writer.write(add_predictions(pd.DataFrame(columns=columns), None, job.prefix))
            log(f"{job.input} has no data rows: {job.output} is written without rows")
    except OSError as exc:  # disk full, read-only...: keep what is done for --resume
        if not job.sidecar().is_file():
            writer.discard()
            raise
        writer.close()
        raise DataError(
            f"{job.output}: cannot write ({exc.strerror or exc}); the {summary.rows_read:,} rows "
            "done so far are kept: fix the problem and run again with --resume"
        ) from None
    except BaseException as exc:
        if not isinstance(exc, KeyboardInterrupt):
            writer.discard()
            job.sidecar().unlink(missing_ok=True)
        raise
    writer.finish()
    job.sidecar().unlink(missing_ok=True)
    return summary


def output_columns(input_columns: list[str], job: ClassifyJob) -> list[str]:
    """Input columns to copy; fail on an unknown one or a clash with a prediction column."""
    keep = list(input_columns if job.keep_columns is None else job.keep_columns)
    missing = [c for c in keep if c not in input_columns]
    if missing:
        raise DataError(
            f"{job.input}: no column {missing[0]!r} to keep; the file has columns: "
            f"{', '.join(input_columns)}"
        )
    clashes = [job.prefix + c for c in BASE_COLUMNS if job.prefix + c in keep]
    if clashes:
        raise DataError(
            f"{job.input} already has a column {clashes[0]!r}; name the prediction columns "
            "differently with --prefix (e.g. --prefix pred_) or keep only other columns with "
            "--keep-column NAME"
        )
    return keep


def _start(
    job: ClassifyJob, resume: bool, writer: ChunkWriter, log: Callable[[str], None]
) -> tuple[ClassifySummary | None, dict[str, Any] | None]:
    """A fresh summary, or the one of the interrupted run to continue, and the writer state.

    Returns ``(None, None)`` when asked to resume a run that already finished.
    """
    sidecar = job.sidecar()
    remove_stale_temporaries(sidecar)  # left by a run killed while saving its progress
    if not resume:
        if sidecar.exists():
            log(f"an interrupted run left {sidecar}; starting over (pass --resume to continue)")
            writer.discard()
            sidecar.unlink()
        return ClassifySummary(str(job.output)), None
    if not sidecar.is_file():
        if job.output.is_file():
            log(f"{job.output} is already complete: nothing to resume")
            return None, None
        log("no interrupted run to resume: starting from the first row")
        return ClassifySummary(str(job.output)), None
    saved = json.loads(sidecar.read_text())
    if saved.get("version") != SIDECAR_VERSION or saved.get("job") != job.identity():
        raise DataError(
            f"cannot resume: the input, its settings or the detector differ from the "
            f"interrupted run recorded in {sidecar}; run again without --resume to start over"
        )
    summary = ClassifySummary(**saved["summary"])
    summary.resumed_from = summary.rows_read
    summary.seconds = 0.0
    log(f"resuming after row {summary.rows_read:,} ({summary.rows_scored:,} scored so far)")
    return summary, saved["writer"]


def _run(
    job: ClassifyJob,
    reader: TableReader,
    writer: ChunkWriter,
    score: Scorer,
    columns: list[str],
    summary: ClassifySummary,
    show_progress: bool,
) -> None:
    """Read, score, write and checkpoint chunk after chunk."""
    started = time.perf_counter()
    total = reader.count_rows() if show_progress else None
    with progress_bar(total, "classifying", enabled=show_progress, unit="rows") as advance:
        advance(summary.rows_read)
        for chunk in reader.chunks(skip=summary.rows_read):
            scored = score_chunk(chunk, job, score, columns, summary)
            writer.write(scored)
            summary.rows_read += len(chunk.frame)
            summary.rows_scored += len(scored)
            summary.seconds = round(summary.seconds + time.perf_counter() - started, 3)
            started = time.perf_counter()
            _checkpoint(job, writer, summary)
            advance(len(chunk.frame), info=f"{summary.bad_rows} bad" if summary.bad_rows else "")


def score_chunk(
    chunk: Chunk,
    job: ClassifyJob,
    score: Scorer,
    columns: list[str],
    summary: ClassifySummary,
) -> pd.DataFrame:
    """The output rows of one chunk: kept input columns plus the prediction columns."""
    frame = chunk.frame.reindex(columns=list(dict.fromkeys([*columns, job.text_column])))
    reasons = row_problems(frame[job.text_column].tolist(), chunk.errors, job.max_chars)
    if reasons:
        record_bad_rows(reasons, chunk.start, job, summary)
    good = np.array([i not in reasons for i in range(len(frame))], dtype=bool)
    out = frame.loc[good, columns].reset_index(drop=True)
    texts = frame.loc[good, job.text_column].tolist()
    return add_predictions(out, score(texts) if texts else None, job.prefix)


def add_predictions(frame: pd.DataFrame, scores: Scores | None, prefix: str = "") -> pd.DataFrame:
    """``frame`` with one column per prediction field appended (:meth:`Scores.columns`;
    ``scores`` ``None``: the base columns, empty)."""
    values = scores.columns() if scores is not None else dict.fromkeys(BASE_COLUMNS)
    out = frame.copy()
    for name, column in values.items():
        out[prefix + name] = column if len(frame) else pd.Series([], dtype=object)
    return out


def row_problems(
    texts: list[object], known: dict[int, str] | None = None, max_chars: int | None = None
) -> dict[int, str]:
    """Position → reason for every text that cannot be scored (missing, empty, not a string).

    Example:
        >>> row_problems(["ok", "", None, 3])
        {1: 'text is empty', 2: 'text is missing', 3: 'text is int, not a string'}
    """
    problems = dict(known or {})
    for position, text in enumerate(texts):
        if position in problems:
            continue
        problem = text_problem(text, max_chars)
        if problem is not None:
            problems[position] = problem
    return dict(sorted(problems.items()))


def record_bad_rows(
    reasons: dict[int, str], start: int, job: ClassifyJob, summary: ClassifySummary
) -> None:
    """Fail on the first bad row, or count them and keep a few examples."""
    first_position, first_reason = next(iter(reasons.items()))
    if job.on_error == "fail":
        raise DataError(
            f"{job.input}: column {job.text_column!r}, row {start + first_position + 1}: "
            f"{first_reason}; pass --on-error skip to leave such rows out"
        )
    summary.bad_rows += len(reasons)
    for position, reason in reasons.items():
        if len(summary.bad_examples) >= _EXAMPLES_KEPT:
            break
        summary.bad_examples.append(f"row {start + position + 1}: {reason}")


def _checkpoint(job: ClassifyJob, writer: ChunkWriter, summary: ClassifySummary) -> None:
    """Record the progress after a chunk is durably written."""
    payload = {
        "version": SIDECAR_VERSION,
        "job": job.identity(),
        "summary": summary.to_dict(),
        "writer": writer.state(),
    }
    atomic_write_text(job.sidecar(), json.dumps(payload, indent=1))
