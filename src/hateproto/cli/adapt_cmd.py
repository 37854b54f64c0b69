"""``hateproto detector adapt``: teach a detector a team's moderation policy by examples.

    hateproto detector adapt detectors/general --examples policy.csv --out detectors/ours
    hateproto detector adapt detectors/ours --examples more.tsv:2 --label-map hate=1,ok=0 \\
        --out detectors/ours-v3 --store-examples
    hateproto detector adapt detectors/ours --from-feedback default --out detectors/ours-v4

``--from-feedback`` reads the moderators' labels from the feedback database of ``serve
--feedback-db`` (docs/review.md): a stratified ``--held-out`` share is kept aside, the rest
adapts the detector, and the macro-F1 of the parent and of the new detector on the held-out
labels is printed and recorded in the new folder's ``metadata.feedback``.

The model is not touched: the examples move the prototypes (``--mode add``) or become them
(``--mode replace``). The new folder records every example source with its sha256, and its
policy version (the parent's + 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from hateproto.cli.options import (
    DevDataOption,
    LabelColumns,
    OutOption,
    OverwriteOption,
    SeedOption,
    StoreExamplesOption,
    with_groups,
)
from hateproto.outputs import DETECTOR_FOLDER, check_output_folder, replace_folder


@with_groups
def adapt(
    folder: Path = typer.Argument(..., help="Detector folder to adapt (it is not changed)."),
    examples: list[str] | None = typer.Option(
        None,
        "--examples",
        "-e",
        help="Labelled CSV/TSV/JSONL/parquet file of the team's examples; repeat for several, "
        "FILE:WEIGHT to weigh one.",
    ),
    out: OutOption = ...,
    mode: str = typer.Option("add", help="add (to the current prototypes) or replace (them)."),
    columns: LabelColumns = LabelColumns(),
    weight: float = typer.Option(
        1.0, help="How much one example counts against one of the current prototypes' examples."
    ),
    store_examples: StoreExamplesOption = False,
    keep_calibration: bool = typer.Option(
        False, "--keep-calibration", help="Keep the parent's probability calibration."
    ),
    dev_data: DevDataOption = None,
    overwrite: OverwriteOption = False,
    from_feedback: str | None = typer.Option(
        None,
        "--from-feedback",
        help="Adapt with the moderators' labels in this feedback database ('default', a "
        "SQLite file or postgresql://...), instead of or besides --examples.",
    ),
    held_out: float = typer.Option(
        0.2, min=0.0, max=0.5, help="Share of the feedback labels kept aside to report on."
    ),
    seed: SeedOption = None,
) -> None:
    """Add a team's labelled examples to a detector's prototypes (or replace them).

    --out is the new detector folder; --dev-data calibrates it."""
    from hateproto.detector import Detector
    from hateproto.detector.adapt import (
        adapt_detector,
        check_weight,
        load_example_file,
        parse_weighted,
    )
    from hateproto.errors import DataError

    console = Console(stderr=True, soft_wrap=True)
    if mode not in ("add", "replace"):
        raise DataError(f"--mode must be add or replace, not {mode!r}")
    default = check_weight(weight, "--weight")
    if not examples and from_feedback is None:
        raise DataError("give labelled examples: --examples FILE or --from-feedback DATABASE")
    files = [_weighed(parse_weighted(value), value, default) for value in examples or []]
    inputs = [p for p, _ in files] + [dev_data]
    if out.expanduser().resolve() == folder.expanduser().resolve():
        raise DataError(f"--out {out} is the detector being adapted; give a new folder")
    out = check_output_folder(out, DETECTOR_FOLDER, overwrite, inputs=inputs)
    load = columns.load_kwargs()
    sources = [load_example_file(p, weight=w, **load) for p, w in files]
    feedback = None
    if from_feedback is not None:
        feedback = _feedback(from_feedback, held_out, seed or 0, default)
    if feedback is not None:
        sources.append(feedback["source"])
    dev = load_example_file(dev_data, **load).data if dev_data else None
    parent = Detector.from_pretrained(folder)
    detector = adapt_detector(
        parent, sources, mode, store_examples, keep_calibration, folder, show_progress=True
    )
    if dev is not None:
        from hateproto.detector.calibration import calibrate_detector

        detector.calibration = calibrate_detector(detector, dev)
        detector.metadata["adapt_dropped"] = [
            d for d in detector.metadata.get("adapt_dropped", []) if d != "calibration"
        ]
    if feedback is not None:
        detector.metadata["feedback"] = _held_out_report(parent, detector, feedback)
    replace_folder(out, detector.save_pretrained)
    policy = detector.metadata["policy"]
    added = sum(len(s.data) for s in sources)
    names = [str(p) for p, _ in files] + (["the feedback database"] if feedback else [])
    console.print(
        f"Detector written to [bold]{out}[/]: policy version {policy['version']} (from "
        f"{policy['parent_version']}), {mode} {added} examples from "
        f"{', '.join(names)}; decides with prototypes at layer "
        f"{detector.decision_layer}; {len(policy['sources'])} sources recorded."
    )
    if feedback is not None:
        _print_feedback(console, detector.metadata["feedback"])
    dropped = detector.metadata.get("adapt_dropped")
    if dropped:
        console.print(f"Dropped (fitted to the old prototypes): {', '.join(dropped)}.")
    if dev is not None and detector.calibration is not None:
        cal = detector.calibration
        console.print(
            f"Calibrated on {dev_data} ({len(dev)} posts): threshold {cal.threshold:.3f}, "
            f"dev ECE {cal.dev['ece']:.3f}."
        )


def _feedback(value: str, held_out: float, seed: int, weight: float) -> dict[str, Any]:
    """The feedback labels: the source to adapt with and the held-out part."""
    from hateproto.feedback.export import feedback_source, labelled_examples, split_held_out
    from hateproto.feedback.store import FeedbackStore

    store = FeedbackStore.open(value, migrate=False)
    try:
        data, ids = labelled_examples(store)
        database = store.describe()
    finally:
        store.close()
    train, held = split_held_out(data, held_out, seed)
    return {
        "source": feedback_source(train, weight, database, max(ids)),
        "held": held,
        "database": database,
        "labels": len(data),
        "last_label_id": max(ids),
    }


def _held_out_report(parent: Any, detector: Any, feedback: dict[str, Any]) -> dict[str, Any]:
    """What ``metadata.feedback`` records: the database, the labels used, and the parent's
    and the new detector's metrics on the held-out labels."""
    from hateproto.evaluation import classification_metrics

    held = feedback["held"]
    report: dict[str, Any] = {
        "database": feedback["database"],
        "labels": feedback["labels"],
        "adapted_with": feedback["labels"] - (0 if held is None else len(held)),
        "last_label_id": feedback["last_label_id"],
        "held_out": None,
    }
    if held is not None:
        report["held_out"] = {
            "n": len(held),
            "parent": classification_metrics(held.labels, parent.predict(held.texts)),
            "adapted": classification_metrics(held.labels, detector.predict(held.texts)),
        }
    return report


def _print_feedback(console: Console, report: dict[str, Any]) -> None:
    held = report["held_out"]
    if held is None:
        console.print(
            f"{report['labels']} feedback labels, all used; too few of a class to hold any "
            "out, so no held-out figure."
        )
        return
    before, after = held["parent"]["macro_f1"], held["adapted"]["macro_f1"]
    console.print(
        f"Feedback: {report['adapted_with']} labels adapted, {held['n']} held out: macro-F1 "
        f"{before:.3f} (parent) -> {after:.3f} (new), {after - before:+.3f}."
    )


def _weighed(parsed: tuple[Path, float], value: str, default: float) -> tuple[Path, float]:
    """``FILE:WEIGHT`` keeps its weight; a plain ``FILE`` takes ``--weight``."""
    path, weight = parsed
    return (path, default) if str(path) == value else (path, weight)


def print_neighbours(console: Console, neighbours: list[Any]) -> None:
    """The nearest stored examples as a table (nothing when the detector keeps none)."""
    if not neighbours:
        return
    from rich.table import Table

    table = Table("rank", "similarity", "label", "id", "text or sha256")
    for n in neighbours:
        shown = n.text if n.text is not None else f"sha256:{n.sha256[:16]}"
        table.add_row(str(n.rank), f"{n.similarity:.4f}", n.label, n.id, shown)
    console.print("nearest examples at the decision layer:")
    console.print(table)
