"""What the main job prints after building (issue 30): the demo table, the audit summary
from the functional audit's test half, and what to try next.

Example:
    >>> rows = demo_rows(detector)                        # doctest: +SKIP
    >>> summary = audit_summary(detector)                 # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from hateproto.cli.quickstart_sentences import DEMO_SENTENCES, DemoSentence

LABELS = ("not_hate", "hate")


def demo_rows(detector: Any, sentences: tuple[DemoSentence, ...] = DEMO_SENTENCES) -> list[dict]:
    """Each demo sentence with its expected label, the detector's label and calibrated hate
    probability, and whether the two labels agree."""
    scores = detector.score_arrays([s.text for s in sentences])
    rows = []
    for sentence, label, proba in zip(sentences, scores.labels, scores.proba[:, 1], strict=True):
        rows.append(
            {
                "text": sentence.text,
                "kind": sentence.kind,
                "functionality": sentence.functionality,
                "expected": LABELS[sentence.label],
                "label": LABELS[int(label)],
                "hate_probability": round(float(proba), 4),
                "right": int(label) == sentence.label,
            }
        )
    return rows


def audit_summary(detector: Any, split: str = "test") -> dict[str, Any]:
    """The functional audit of ``detector`` on the suite's ``split`` half (no CONAN row):
    accuracy, macro-F1, the worst functionality, the group FPR spread and its ends, and the
    goals met."""
    from hateproto.audit import build_suite, run_audit

    report = run_audit(detector, build_suite(split))
    worst = min(report.functionalities, key=lambda f: (f.accuracy, f.functionality))
    rates = {g.group: g.fpr for g in report.groups if g.fpr is not None}
    return {
        "split": split,
        "suite_version": report.suite_version,
        "n_cases": report.n_cases,
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "worst_functionality": worst.functionality,
        "worst_functionality_accuracy": worst.accuracy,
        "fpr_spread": report.fpr_spread,
        "fpr_per_group": rates,
        "functionality_accuracy": {f.functionality: f.accuracy for f in report.functionalities},
        "goals_met": sum(g.passed for g in report.goals),
        "goals": len(report.goals),
        "goals_failed": [g.name for g in report.goals if not g.passed],
    }


def print_demo(rows: list[dict], console: Console) -> None:
    """The demo table, every sentence marked right or wrong against its expected label."""
    table = Table(title="Demo: sentences written for this table (none is in training or tests)")
    for name in ("sentence", "kind", "expected", "detector", "p(hate)", ""):
        table.add_column(name, justify="right" if name == "p(hate)" else "left")
    for row in rows:
        table.add_row(
            row["text"],
            row["kind"],
            row["expected"],
            row["label"],
            f"{row['hate_probability']:.2f}",
            "right" if row["right"] else "[red]WRONG[/]",
        )
    console.print(table)
    wrong = [row for row in rows if not row["right"]]
    line = f"{len(rows) - len(wrong)} of {len(rows)} right"
    if wrong:
        line += "; wrong on: " + "; ".join(row["kind"] for row in wrong)
    console.print(line + ".", highlight=False)


def print_audit(summary: dict[str, Any], console: Console) -> None:
    """The audit summary in four lines."""
    rates = summary["fpr_per_group"]
    ends = ""
    if rates:
        low, high = min(rates, key=rates.get), max(rates, key=rates.get)
        ends = f" ({low} {100 * rates[low]:.0f}% to {high} {100 * rates[high]:.0f}%)"
    spread = summary["fpr_spread"]
    console.print(
        f"[bold]Functional audit, {summary['split']} half[/] ({summary['n_cases']:,} cases, "
        f"suite {summary['suite_version']}): accuracy {100 * summary['accuracy']:.1f}%, "
        f"macro-F1 {100 * summary['macro_f1']:.1f}; worst functionality "
        f"{summary['worst_functionality']} ({100 * summary['worst_functionality_accuracy']:.0f}%"
        f" right); false-positive rate spread across groups "
        f"{'-' if spread is None else f'{100 * spread:.0f}'} points{ends}; "
        f"{summary['goals_met']} of {summary['goals']} audit goals met.",
        highlight=False,
    )


def print_next_steps(folder: str, console: Console) -> None:
    """What to try next with the detector just built."""
    console.print("[bold]What to try next[/]")
    for line in (
        f"classify a file:   hateproto classify --detector {folder} posts.csv scored.csv",
        f"serve it:          hateproto serve --detector {folder}",
        f"audit it in full:  hateproto audit --detector {folder} --split test",
        "the full general recipe (every training post; about 26 min on 2 cores): "
        "hateproto detector build --recipe general --out detectors/general",
        "the HatePrototypes paper's IHC probe: hateproto quickstart --recipe ihc-paper",
    ):
        console.print(f"  {line}", highlight=False, markup=False)
