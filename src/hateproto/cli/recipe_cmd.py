"""``hateproto detector build --recipe NAME``: a packaged recipe's detector in one command."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from hateproto.config import read_yaml_mapping
from hateproto.errors import ConfigError
from hateproto.outputs import DETECTOR_FOLDER, check_output_folder, replace_folder


def build_from_recipe(
    out: Path,
    overwrite: bool,
    recipe: str,
    recipe_config: Path | None,
    checkpoint: Path | None,
    target_precision: float | None,
    target_recall: float | None,
    console: Console,
) -> None:
    """Train (or reuse ``checkpoint``), build, calibrate and write the recipe's detector."""
    from hateproto.detector.recipe import RECIPES, GeneralRecipe, build_general_detector

    if recipe not in RECIPES:
        raise ConfigError(f"--recipe {recipe}: unknown recipe; known: {', '.join(RECIPES)}")
    if target_precision is not None and target_recall is not None:
        raise ConfigError("give --target-precision or --target-recall, not both")
    if checkpoint is not None and not checkpoint.is_dir():
        raise ConfigError(f"--checkpoint {checkpoint}: no such folder")
    out = check_output_folder(out, DETECTOR_FOLDER, overwrite, inputs=[recipe_config])
    overrides = {
        k: v
        for k, v in (("target_precision", target_precision), ("target_recall", target_recall))
        if v is not None
    }
    if recipe_config is not None:
        if not recipe_config.is_file():
            raise ConfigError(f"--recipe-config {recipe_config}: file not found")
        overrides = {**read_yaml_mapping(recipe_config), **overrides}
    source = None if recipe_config is None else str(recipe_config)
    settings = GeneralRecipe.default(recipe, source, **overrides)
    from hateproto.audit import audit_dev_texts

    detector = build_general_detector(
        settings,
        checkpoint,
        echo=lambda message: console.print(message, highlight=False),
        audit_dev=audit_dev_texts,
    )
    replace_folder(out, detector.save_pretrained)
    cal = detector.calibration
    console.print(
        f"Detector written to [bold]{out}[/]: {settings.model} ({settings.mode}) trained on "
        f"{settings.data}; calibrated hate probability (dev ECE {cal.dev['ece']:.3f}, "
        f"uncalibrated {cal.dev['ece_uncalibrated']:.3f}), decision threshold "
        f"{cal.threshold:.3f} (dev precision {cal.dev['dev_precision']:.3f}, recall "
        f"{cal.dev['dev_recall']:.3f}, macro-F1 {cal.dev['dev_macro_f1']:.3f})."
    )
    console.print(f"Audit it: hateproto audit --detector {out}")
    console.print(f"Serve it: hateproto serve --detector {out}")
