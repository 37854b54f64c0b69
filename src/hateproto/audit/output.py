"""Writing the audit's outputs: a rich table, a JSON report, a figure and the case export.

Files are written through a temporary file in the destination folder and renamed into place,
so a reader (or a crash) never leaves a half-written file; nothing is written inside the
audited detector's folder.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.table import Table

from hateproto.audit.results import AuditReport, ExternalResult
from hateproto.audit.suite import AuditCase
from hateproto.errors import DataError
from hateproto.optional import require
from hateproto.outputs import current_umask

EXPORT_SUFFIXES = (".csv", ".jsonl")


def check_output_path(path: Path, suffixes: Sequence[str], protected: Path | None = None) -> Path:
    """``path`` if it can be written: a known suffix, an existing writable folder, not a
    folder itself, and not inside ``protected`` (the detector folder)."""
    if path.suffix.lower() not in suffixes:
        raise DataError(f"{path}: expected a {' or '.join(suffixes)} file")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a file")
    parent = path.parent
    if not parent.is_dir():
        raise DataError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise DataError(f"cannot write {path}: folder {parent} is not writable")
    if protected is not None and path.resolve().is_relative_to(protected.resolve()):
        raise DataError(f"refusing to write {path} inside the detector folder {protected}")
    return path


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it onto ``path``; the
    file gets the mode of the file it replaces, or the umask's for a new one."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror}") from None
    try:
        mode = path.stat().st_mode & 0o777 if path.is_file() else 0o666 & ~current_umask()
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DataError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_report_json(report: AuditReport, path: Path) -> Path:
    """Write the report as indented JSON (atomically)."""
    text = json.dumps(report.model_dump(), indent=2) + "\n"
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def export_cases(cases: Sequence[AuditCase], path: Path) -> Path:
    """Write the cases as CSV or JSON lines (by suffix), atomically."""
    if path.suffix.lower() == ".jsonl":
        text = "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in cases)
    else:
        buffer = io.StringIO()
        fields = list(AuditCase.__dataclass_fields__)
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(case.to_dict() for case in cases)
        text = buffer.getvalue()
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _minimums(report: AuditReport, floor: float | None = None) -> dict[str, float]:
    """The accuracy every functionality of ``report`` must reach, read from its goals
    (``floor``, when given, replaces the every-functionality minimum)."""
    thresholds = {goal.name: goal.threshold for goal in report.goals}
    if floor is None:
        floor = thresholds.get("min_functionality_accuracy", 0.0)
    return {
        item.functionality: max(floor, thresholds.get(f"{item.functionality}_accuracy", 0.0))
        for item in report.functionalities
    }


def print_report(report: AuditReport, console: Console, goals_min: float | None = None) -> None:
    """Tables of accuracy per functionality and per group, the external rows (CONAN), then
    the goals. Red rows are under their goal (``goals_min`` overrides the report's floor)."""
    minimums = _minimums(report, goals_min)
    language = "" if report.language == "en" else f"{report.language}, "
    table = Table(title=f"Functional audit ({language}{report.split}, {report.n_cases} cases)")
    for name in ("functionality", "gold", "n", "accuracy %", "goal %", "mean p(hate)"):
        table.add_column(name, justify="left" if name == "functionality" else "right")
    for item in report.functionalities:
        minimum = minimums[item.functionality]
        style = "red" if item.accuracy < minimum else None
        gold = "hate" if item.label_gold else "not"
        mean = "-" if item.mean_hate_probability is None else f"{item.mean_hate_probability:.2f}"
        table.add_row(
            item.functionality,
            gold,
            str(item.n),
            _pct(item.accuracy),
            _pct(minimum),
            mean,
            style=style,
        )
    console.print(table)
    groups = Table(title="Per target group")
    for name in ("group", "n", "accuracy %", "non-hateful n", "FPR %"):
        groups.add_column(name, justify="left" if name == "group" else "right")
    for group in report.groups:
        groups.add_row(
            group.group,
            str(group.n),
            _pct(group.accuracy),
            str(group.n_non_hateful),
            _pct(group.fpr),
        )
    console.print(groups)
    console.print(
        f"accuracy {_pct(report.accuracy)}%  macro-F1 {100 * report.macro_f1:.1f}  "
        f"FPR spread {_pct(report.fpr_spread)} points"
    )
    for item in report.external:
        _print_external(item, console)
    for goal in report.goals:
        mark = "[green]PASS[/]" if goal.passed else "[red]FAIL[/]"
        console.print(
            f"{mark} {goal.description}: {_pct(goal.value)}% (goal {_pct(goal.threshold)}%)"
        )
    verdict = "[green]all goals met[/]" if report.passed else "[red]goals not met[/]"
    console.print(verdict)


def _print_external(item: ExternalResult, console: Console) -> None:
    """One external set (not part of the suite): its totals, then its FPR per target."""
    table = Table(
        title=f"Beyond the templates: {item.name} ({item.source}, {item.n} texts; "
        f"passed {_pct(item.accuracy)}%, FPR {_pct(item.fpr)}%)"
    )
    for name in ("target", "non-hateful n", "false positives", "FPR %"):
        table.add_column(name, justify="left" if name == "target" else "right")
    for rate in item.targets:
        table.add_row(rate.target, str(rate.n), str(rate.false_positives), _pct(rate.fpr))
    console.print(table)


def write_figure(report: AuditReport, path: Path) -> Path:
    """A PNG: accuracy per functionality (coloured by gold label) and FPR per group."""
    matplotlib = require("matplotlib", extra="plots", purpose="figures")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = report.functionalities
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 7), gridspec_kw={"width_ratios": [3, 2]})
    minimums = _minimums(report)
    colours = ["#c0392b" if item.label_gold else "#2e86c1" for item in items]
    names = [f"{i.functionality} ({i.n})" for i in items]
    left.barh(names, [i.accuracy for i in items], color=colours)
    left.scatter(
        [minimums[i.functionality] for i in items], names, marker="|", s=200, color="black"
    )
    left.invert_yaxis()
    left.set_xlim(0, 1)
    left.set_xlabel("accuracy (red: hateful gold, blue: not hateful; black mark: its goal)")
    left.set_title(f"Accuracy per functionality ({report.split}, macro-F1 {report.macro_f1:.2f})")
    groups = [g for g in report.groups if g.fpr is not None]
    external = [e for e in report.external if e.fpr is not None]
    right.barh(
        [g.group for g in groups] + [f"{e.name} ({e.n})" for e in external],
        [g.fpr for g in groups] + [e.fpr for e in external],
        color=["#7f8c8d"] * len(groups) + ["#8e44ad"] * len(external),
    )
    right.invert_yaxis()
    right.set_xlim(0, 1)
    right.set_xlabel("false positive rate (purple: beyond the suite)")
    spread = "-" if report.fpr_spread is None else f"{100 * report.fpr_spread:.1f}"
    right.set_title(f"FPR per group (spread {spread} points)")
    fig.tight_layout()

    def save(handle: IO[bytes]) -> None:
        fig.savefig(handle, format="png", dpi=120)

    try:
        return atomic_write(path, save)
    finally:
        plt.close(fig)
