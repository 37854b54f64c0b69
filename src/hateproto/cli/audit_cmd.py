"""``hateproto audit``: run hateproto's functional test suite on a detector.

hateproto audit --detector detectors/ihc --split test --json audit.json --figure audit.png
hateproto audit --detector detectors/ihc --split test --conan-max 300   # quicker CONAN row
hateproto audit --export-cases cases.csv          # the suite, for any other system
hateproto audit --language de --detector detectors/multi --split test   # German cases

Beside the suite, the report has a row for CONAN's counter-speech (the split matching
--split, in the audit's language); it is skipped, with one line saying so, when the data is
missing, when CONAN has no counter-speech in that language (German, Spanish), or on
--no-conan.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from hateproto.cli.options import BatchSizeOption, DataDirOption, DetectorOption, SplitOption
from hateproto.errors import ConfigError, DataError
from hateproto.optional import require


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command to ``app``."""

    @app.command("audit")
    def audit(
        detector: DetectorOption = None,
        split: SplitOption = "all",
        language: str = typer.Option(
            "en",
            "--language",
            help="Language of the cases: en (default), de, fr or es.",
        ),
        # the one --json that takes a file (elsewhere --json prints JSON to stdout); kept for
        # the scripts and tests that call it so
        json_path: Path | None = typer.Option(None, "--json", help="Write the report here."),
        figure: Path | None = typer.Option(None, help="Write a PNG figure here."),
        export: Path | None = typer.Option(
            None, "--export-cases", help="Write the cases to this .csv or .jsonl file."
        ),
        batch_size: BatchSizeOption = None,
        conan: bool = typer.Option(
            True,
            "--conan/--no-conan",
            help="Also score CONAN's counter-speech (a row of its own) when the data is there.",
        ),
        conan_max: int | None = typer.Option(
            None, min=1, help="Score at most N CONAN texts (seeded, stratified by target)."
        ),
        data_dir: DataDirOption = None,
    ) -> None:
        """Accuracy per functionality and per target group, false positive rate per group and
        on CONAN counter-speech, and pass/fail against the audit goals. Tune on --split dev,
        report on --split test."""
        from hateproto.audit import (
            build_suite,
            check_language,
            check_output_path,
            conan_external,
            export_cases,
            language_suite,
            load_detector_scorer,
            print_report,
            run_audit,
            write_figure,
            write_report_json,
        )

        if detector is None and export is None:
            raise ConfigError("give --detector DIR to audit, or --export-cases FILE")
        if detector is not None and not detector.is_dir():
            raise ConfigError(f"detector folder not found: {detector}")
        language = check_language(language)
        cases = build_suite(split, language=language)
        if json_path is not None:
            check_output_path(json_path, (".json",), detector)
        if figure is not None:
            check_output_path(figure, (".png",), detector)
            require("matplotlib", extra="plots", purpose="figures")
        console = Console(stderr=True)
        if export is not None:
            export_cases(cases, check_output_path(export, (".csv", ".jsonl"), detector))
            named = "" if language == "en" else f", {language}"
            console.print(f"{len(cases):,} audit cases ({split}{named}) written to {export}")
        if detector is None:
            return
        external = {}
        if conan and language != "en" and not language_suite(language).conan:
            message = (
                f"CONAN counter-speech row skipped: CONAN has no {language_suite(language).name} "
                f"counter-speech (the loader reads English, French and Italian)"
            )
            console.print(message, markup=False, highlight=False, soft_wrap=True)
        elif conan:
            try:
                external = conan_external(split, data_dir, conan_max, language=language)
            except DataError as exc:
                message = f"CONAN counter-speech row skipped: {exc}"
                console.print(message, markup=False, highlight=False, soft_wrap=True)
        overrides = {} if batch_size is None else {"batch_size": batch_size}
        scorer, described = load_detector_scorer(detector, **overrides)
        report = run_audit(scorer, cases, external=external)
        report.detector = described
        print_report(report, Console())
        if json_path is not None:
            write_report_json(report, json_path)
            console.print(f"report written to {json_path}")
        if figure is not None:
            write_figure(report, figure)
            console.print(f"figure written to {figure}")
