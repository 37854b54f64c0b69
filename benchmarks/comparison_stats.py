"""Paired comparisons of the committed benchmark results, written to committed files.

Every p-value quoted in ``benchmarks/*.md`` for these comparisons comes from the files this
script writes. It reads only committed results (no model is loaded or run)::

    PYTHONPATH=src python benchmarks/comparison_stats.py

Writes ``benchmarks/results/<results>-stats.json`` for ``fusion``,
``cross-dataset-ocampo2023-minilm``, ``cross-dataset-ocampo2023-e5small`` and
``prototype-cross-domain``.

The test: the cells of a results matrix that share a model (one model per training set and
seed, evaluated on several test sets) are not independent, so a t-test over (cell, seed)
pairs overstates n. No per-example predictions are committed, so a paired bootstrap over
test examples is not possible; instead each seed contributes one number per setup (the mean
macro-F1 over its in-dataset or its cross-dataset cells) and the setups are compared paired
by seed (:func:`hateproto.evaluation.significance.paired_seed_test`: paired t-test and exact
sign-flip test). With 2 or 3 seeds these tests have almost no power (the exact test cannot go
below p = 0.5 or 0.25).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.evaluation.significance import paired_seed_test
from hateproto.provenance import provenance

RESULTS = Path(__file__).resolve().parent / "results"
Row = dict[str, Any]

METHOD = (
    "Paired by seed: per seed and setup, the mean macro-F1 over the in-dataset (diagonal) or "
    "cross-dataset (off-diagonal) cells, i.e. over that seed's models; then a two-sided paired "
    "t-test and an exact two-sided sign-flip test over the seeds. No two pairs share a model. "
    "p_min is the smallest p the exact test can give with n seeds (2 / 2**n): with 2-3 seeds "
    "the test has almost no power. Per-example predictions are not committed, so no paired "
    "bootstrap over test examples."
)


def seed_means(rows: Iterable[Row], value: Callable[[Row], float | None]) -> dict[int, float]:
    """Per seed, the mean of ``value(row)`` over the rows where it is not None."""
    cells: dict[int, list[float]] = defaultdict(list)
    for row in rows:
        v = value(row)
        if v is not None:
            cells[int(row["seed"])].append(float(v))
    return {seed: float(np.mean(v)) for seed, v in sorted(cells.items())}


def _rounded(result: dict[str, Any]) -> dict[str, Any]:
    out = dict(result)
    out["diffs_points"] = [round(100 * d, 4) for d in out.pop("diffs")]
    out["mean_diff_points"] = round(100 * out.pop("mean_diff"), 4)
    for key in ("t", "p_value", "p_exact", "p_min"):
        out[key] = None if out[key] is None or np.isnan(out[key]) else round(out[key], 4)
    return out


def setup_comparisons(rows: list[Row], pairs: list[tuple[str, str]]) -> list[Row]:
    """``a`` minus ``b`` for each pair of setups of a cross-dataset results file."""
    out = []
    for a, b in pairs:
        for cells, cross in (("in_dataset", False), ("cross_dataset", True)):

            def pick(setup: str, cross: bool = cross) -> dict[int, float]:
                return seed_means(
                    (r for r in rows if r["setup"] == setup),
                    lambda r: (
                        r["macro_f1"]
                        if (r["train_dataset"] != r["test_dataset"]) == cross
                        else None
                    ),
                )

            ma, mb = pick(a), pick(b)
            result = _rounded(paired_seed_test(ma, mb))
            out.append(
                {
                    "a": a,
                    "b": b,
                    "cells": cells,
                    "mean_a_points": round(100 * np.mean([ma[s] for s in result["seeds"]]), 4),
                    "mean_b_points": round(100 * np.mean([mb[s] for s in result["seeds"]]), 4),
                    **result,
                }
            )
    return out


def cross_dataset_stats(name: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    rows = json.loads((RESULTS / f"{name}.json").read_text())
    return {
        "source": f"{name}.json",
        "method": METHOD,
        "comparisons": setup_comparisons(rows, pairs),
    }


def fusion_pairs(rows: list[Row]) -> list[tuple[str, str]]:
    fusion = sorted({r["setup"] for r in rows if r["setup"].startswith("fusion-")})
    pairs = [("embedding", "classifier")]
    return pairs + [(f, ref) for f in fusion for ref in ("classifier", "embedding")]


def prototype_cross_domain_stats() -> dict[str, Any]:
    """Prototypes minus the fine-tuned head, per seed, over off- and in-domain cells."""
    rows = [
        r
        for r in json.loads((RESULTS / "prototype-cross-domain.json").read_text())
        if r["finetune_dataset"] != "frozen" and r["head_macro_f1"] is not None
    ]
    out = []
    for cells, off in (("in_domain", False), ("off_domain", True)):

        def pick(key: str, off: bool = off) -> dict[int, float]:
            return seed_means(
                rows,
                lambda row, key=key, off=off: (
                    row[key] if (row["finetune_dataset"] != row["eval_dataset"]) == off else None
                ),
            )

        proto, head = pick("prototype_macro_f1"), pick("head_macro_f1")
        result = _rounded(paired_seed_test(proto, head))
        out.append(
            {
                "a": "prototypes",
                "b": "head",
                "cells": cells,
                "n_cells_per_seed": sum(
                    1
                    for r in rows
                    if r["seed"] == result["seeds"][0]
                    and (r["finetune_dataset"] != r["eval_dataset"]) == off
                ),
                "mean_a_points": round(100 * np.mean(list(proto.values())), 4),
                "mean_b_points": round(100 * np.mean(list(head.values())), 4),
                **result,
            }
        )
    return {
        "source": "prototype-cross-domain.json",
        "method": METHOD.replace("setup", "method").replace(
            "in-dataset (diagonal) or cross-dataset (off-diagonal) cells",
            "in-domain (diagonal) or off-domain (off-diagonal) cells of the fine-tuned models",
        ),
        "comparisons": out,
    }


def main() -> None:
    fusion_rows = json.loads((RESULTS / "fusion.json").read_text())
    outputs = {
        "fusion": cross_dataset_stats("fusion", fusion_pairs(fusion_rows)),
        "prototype-cross-domain": prototype_cross_domain_stats(),
    }
    for name in ("cross-dataset-ocampo2023-minilm", "cross-dataset-ocampo2023-e5small"):
        outputs[name] = cross_dataset_stats(name, [("embedding", "classifier")])
    for name, stats in outputs.items():
        path = RESULTS / f"{name}-stats.json"
        path.write_text(json.dumps({**stats, "provenance": provenance()}, indent=1) + "\n")
        print(f"wrote {path}")
        for c in stats["comparisons"]:
            print(
                f"  {c['a']} - {c['b']} ({c['cells']}, n={c['n']} seeds): "
                f"{c['mean_diff_points']:+.2f} points, t-test p={c['p_value']}, "
                f"exact p={c['p_exact']} (min {c['p_min']})"
            )


if __name__ == "__main__":
    main()
