"""Leave one dataset out for any general-recipe config (fine-tuned recipes included).

For each of the six benchmarks, the recipe is rebuilt without it (every other source, its
settings unchanged, calibrated and thresholded on the remaining sources' dev splits) and scored
once on the held-out benchmark's test split (general protocol). Rows are appended to
``--out`` (JSON, one row per held-out benchmark, provenance in each), so an interrupted run
resumes where it stopped::

    python benchmarks/lodo_recipe.py --recipe-config src/hateproto/configs/general.yaml \
        --name lodo-contrast --out benchmarks/results/lodo-contrast.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import yaml

from hateproto.data.benchmarks import BENCHMARKS
from hateproto.data.mixture import load_mixture, parse_sources
from hateproto.detector.recipe import GeneralRecipe, build_general_detector
from hateproto.evaluation import classification_metrics
from hateproto.experiments.results import atomic_write_text
from hateproto.provenance import provenance


def held_out_recipe(recipe: GeneralRecipe, held_out: str) -> GeneralRecipe:
    """``recipe`` with the benchmark ``held_out`` removed from its sources."""
    kept = [s for s in parse_sources(recipe.data) if s.name != held_out]
    data = ",".join(f"{s.name}:{s.weight:g}" for s in kept)
    return recipe.model_copy(update={"data": data})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipe-config", required=True)
    parser.add_argument("--name", required=True, help="row prefix, e.g. lodo-contrast")
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", default=",".join(BENCHMARKS))
    args = parser.parse_args()
    values = yaml.safe_load(Path(args.recipe_config).read_text())
    recipe = GeneralRecipe.default(**values)
    out = Path(args.out)
    rows: list[dict[str, Any]] = json.loads(out.read_text())["rows"] if out.exists() else []
    done = {r["test_dataset"] for r in rows}
    for name in args.only.split(","):
        if name in done:
            continue
        start, load = time.perf_counter(), os.getloadavg()
        held = held_out_recipe(recipe, name)
        detector = build_general_detector(held, echo=print)
        test = load_mixture(parse_sources(name), recipe.data_dir, recipe.seed, 10).tests[name]
        labels = detector.score_arrays(test.texts).labels
        metrics = classification_metrics(test.labels, labels)
        rows.append(
            {
                "detector": f"{args.name}-{name}",
                "test_dataset": name,
                "train_sources": held.data,
                "n": len(test),
                "macro_f1": metrics["macro_f1"],
                "accuracy": metrics["accuracy"],
                "seconds": time.perf_counter() - start,
                "load_before": load,
                "provenance": provenance(dtype=recipe.dtype),
            }
        )
        atomic_write_text(out, json.dumps({"rows": rows}, indent=1) + "\n")
        print(f"{name}: macro-F1 {metrics['macro_f1']:.4f}", flush=True)
    scores = [r["macro_f1"] for r in rows]
    if scores:
        mean = sum(scores) / len(scores)
        summary = {"rows": rows, "mean_macro_f1": mean, "n_held_out": len(scores)}
        atomic_write_text(out, json.dumps(summary, indent=1) + "\n")
        print(f"mean over {len(scores)}: {mean:.4f}")


if __name__ == "__main__":
    main()
