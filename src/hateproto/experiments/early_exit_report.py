"""Markdown tables and figures of the early-exit experiments, read from the results rows.

* :func:`table4_markdown`: HatePrototypes Table 4 (macro-F1 and mean exit layer per method and
  dataset, with the measured speed-up at the experiment's batch size, aggregated over the
  datasets by total time: see :func:`total_time_speedup`);
* :func:`plot_exit_histograms` (Fig 4), :func:`plot_f1_vs_speedup` (Fig 5, counted and
  measured), :func:`plot_delta_sweep` (Fig 6).

The reports are rebuilt from the committed rows alone, without loading any model::

    python -m hateproto.experiments.early_exit_report --config benchmarks/configs/early-exit.yaml
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.experiments.early_exit_config import SWEEP_METHOD, TABLE4_METHODS
from hateproto.experiments.results import atomic_write_text, save_figure
from hateproto.optional import require

Row = dict[str, Any]

METHOD_LABELS = {
    "full_model": "Full model",
    "prototype_last": "Prototype, last layer",
    "prototype_layer1": "Prototype, layer 1",
    "entropy": "Entropy (DeeBERT)",
    "patience": "Patience (PABEE)",
    "prototype_exit": "Prototype exit (one delta)",
    "prototype_exit_calibrated": "Prototype exit (per-layer deltas)",
}


def _by(rows: Sequence[Row], *fields: str) -> dict[tuple[Any, ...], list[Row]]:
    groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[f] for f in fields)].append(row)
    return groups


def _ordered(values: list[Any], preferred: Sequence[str]) -> list[Any]:
    return [v for v in preferred if v in values] + [v for v in values if v not in preferred]


SPEEDUP_NOTE = (
    "Speed-up over the datasets = total full-depth time ÷ total time of the method, summed "
    "over the datasets' timing subsets (the same texts for both): the speed-up of running all "
    "of them. It is not the mean of the per-dataset ratios, which an outlier dominates (one "
    "x10 and one x1 average to x5.5, while the total work is done only x1.8 faster)."
)


def total_time_speedup(rows: Sequence[Row], clock: str = "wall") -> float | None:
    """Total full-depth time over total time of ``rows`` (``None`` if none was timed).

    The rows' median times per timing subset are summed, so the result is the speed-up of
    processing every row's subset, and a dataset counts by how long it takes, not by its
    ratio (the mean of ratios is pulled up by any one large ratio).

    Example:
        >>> rows = [{"wall_time_s": 1.0, "full_wall_time_s": 10.0, "measured_speedup": 10.0},
        ...         {"wall_time_s": 10.0, "full_wall_time_s": 10.0, "measured_speedup": 1.0}]
        >>> round(total_time_speedup(rows), 4)  # not (10 + 1) / 2 = 5.5
        1.8182
        >>> total_time_speedup([{"measured_speedup": None}]) is None
        True
    """
    prefix = "" if clock == "wall" else "cpu_"
    key, full = f"{clock}_time_s", f"full_{clock}_time_s"
    timed = [r for r in rows if r.get(f"measured_{prefix}speedup") and r.get(key)]
    if not timed:
        return None
    return float(sum(r[full] for r in timed) / sum(r[key] for r in timed))


def table4_markdown(rows: Sequence[Row], datasets: Sequence[str] = ()) -> str:
    """One table per model: ``F1 / exit layer`` per dataset, the mean F1 and exit layer, and
    the measured speed-up over the datasets by total time (:func:`total_time_speedup`)."""
    table_rows = [r for r in rows if r["method"] in TABLE4_METHODS]
    parts = []
    for model in dict.fromkeys(r["model"] for r in table_rows):
        mine = [r for r in table_rows if r["model"] == model]
        names = _ordered(list(dict.fromkeys(r["dataset"] for r in mine)), datasets)
        cells = {(r["method"], r["dataset"]): r for r in mine}
        kinds = sorted({f"{r['dataset']}: {r['backbone_kind']}" for r in mine})
        sample = mine[0]
        header = "| method | " + " | ".join(f"{d} F1 / layer" for d in names)
        header += " | mean F1 | mean layer | speed-up, total time (wall / CPU) |"
        lines = [
            f"### {model} ({sample['num_layers']} layers, {sample['dtype']}, batch "
            f"{sample['batch_size']})",
            "",
            "Backbones: " + ", ".join(kinds) + ".",
            "",
            SPEEDUP_NOTE,
            "",
            header,
            "| --- |" + " --- |" * (len(names) + 3),
        ]
        for method in TABLE4_METHODS:
            present = [cells[(method, d)] for d in names if (method, d) in cells]
            if not present:
                continue
            values = [
                f"{100 * cells[(method, d)]['macro_f1']:.2f} / "
                f"{cells[(method, d)]['mean_exit_layer']:.2f}"
                if (method, d) in cells
                else ""
                for d in names
            ]
            speed = total_time_speedup(present)
            cpu = total_time_speedup(present, "cpu")
            lines.append(
                f"| {METHOD_LABELS.get(method, method)} | "
                + " | ".join(values)
                + f" | {100 * np.mean([r['macro_f1'] for r in present]):.2f}"
                + f" | {np.mean([r['mean_exit_layer'] for r in present]):.2f}"
                + (f" | x{speed:.2f}" if speed is not None else " | ")
                + (f" / x{cpu:.2f} |" if cpu is not None else " |")
            )
        settings = "; ".join(
            f"{d}: "
            + ", ".join(
                f"{m} {cells[(m, d)]['setting']}"
                for m in ("entropy", "patience", "prototype_exit")
                if (m, d) in cells
            )
            for d in names
        )
        lines += ["", f"Chosen on dev: {settings}."]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def speed_markdown(rows: Sequence[Row]) -> str:
    """Counted against measured speed-up of every timed row.

    ``counted`` is ``L / mean exit layer`` on the whole test set; the ratios compare the
    measured speed-ups with the counted one *on the timed subset* (its own mean exit layer).
    """
    lines = [
        "| model | dataset | method | setting | F1 loss (pt) | counted (test) | "
        "counted (timed subset) | token-weighted | measured (wall) | wall / counted | "
        "measured (CPU) | CPU / counted | timing n | live = simulated |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        if (
            not r.get("measured_speedup")
            or r["method"] == "full_model"
            or r.get("timing_shared_with_full")
        ):
            continue
        subset = r["num_layers"] / r["timing_mean_exit_layer"]
        lines.append(
            f"| {r['model']} | {r['dataset']} | {r['method']} | {r['setting']} | "
            f"{r['f1_loss_points']:.2f} | x{r['counted_speedup']:.2f} | x{subset:.2f} | "
            f"{_x(r.get('token_weighted_speedup'))} | x{r['measured_speedup']:.2f} | "
            f"{r['measured_speedup'] / subset:.2f} | {_x(r.get('measured_cpu_speedup'))} | "
            f"{_ratio(r.get('measured_cpu_speedup'), subset)} | {r['timing_n']} | "
            + (
                f"{100 * r['timing_agreement']:.1f}% |"
                if r.get("timing_agreement") is not None
                else "(shared with full) |"
            )
        )
    return "\n".join(lines)


def _x(value: float | None) -> str:
    return "" if value is None else f"x{value:.2f}"


def _ratio(value: float | None, counted: float) -> str:
    return "" if value is None else f"{value / counted:.2f}"


def _grid(count: int) -> tuple[Any, np.ndarray]:
    matplotlib = require("matplotlib", extra="plots", purpose="figures")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(count, 4)
    rows = int(np.ceil(count / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.6 * rows), squeeze=False)
    return fig, axes


def _cell_order(rows: Sequence[Row], datasets: Sequence[str]) -> list[Row]:
    models = list(dict.fromkeys(r["model"] for r in rows))
    names = _ordered(list(dict.fromkeys(r["dataset"] for r in rows)), datasets)
    return sorted(rows, key=lambda r: (models.index(r["model"]), names.index(r["dataset"])))


def plot_exit_histograms(
    rows: Sequence[Row],
    path: str | Path,
    method: str = "prototype_exit",
    datasets: Sequence[str] = (),
) -> None:
    """Fig 4: distribution of exit layers of ``method`` for each (model, dataset)."""
    chosen = _cell_order([r for r in rows if r["method"] == method], datasets)
    fig, axes = _grid(max(len(chosen), 1))
    for ax, r in zip(axes.flat, chosen, strict=False):
        counts = np.asarray(r["exit_histogram"], dtype=float)
        ax.bar(np.arange(1, len(counts) + 1), 100 * counts / counts.sum(), color="tab:blue")
        ax.set_title(
            f"{r['model']} / {r['dataset']}\n{r['setting']}, mean {r['mean_exit_layer']:.2f}",
            fontsize=9,
        )
        ax.set_xlabel("exit layer")
        ax.set_ylabel("% of test posts")
    for ax in list(axes.flat)[len(chosen) :]:
        ax.axis("off")
    fig.suptitle("Exit layers of prototype-based early exit (test sets)")
    fig.tight_layout()
    save_figure(fig, path)


def _sweeps(rows: Sequence[Row]) -> dict[tuple[Any, ...], list[Row]]:
    groups = _by([r for r in rows if r["method"] == SWEEP_METHOD], "model", "dataset")
    return {k: sorted(v, key=lambda r: -r["mean_exit_layer"]) for k, v in groups.items()}


def plot_f1_vs_speedup(rows: Sequence[Row], path: str | Path) -> None:
    """Fig 5: macro-F1 against speed-up, counted (line) and measured (markers)."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    groups = _sweeps(rows)
    models = list(dict.fromkeys(k[0] for k in groups))
    fig, axes = _grid(max(len(models), 1))
    for ax, model in zip(axes.flat, models, strict=False):
        top = 1.0
        for i, ((_m, dataset), sweep) in enumerate(
            (k, v) for k, v in groups.items() if k[0] == model
        ):
            color = f"C{i}"
            ax.plot(
                [r["counted_speedup"] for r in sweep],
                [100 * r["macro_f1"] for r in sweep],
                "-",
                color=color,
                label=f"{dataset} counted",
            )
            timed = [r for r in sweep if r.get("measured_speedup")]
            f1 = [100 * r["macro_f1"] for r in timed]
            ax.plot(
                [r["measured_speedup"] for r in timed],
                f1,
                "o",
                color=color,
                markerfacecolor="none",
                label=f"{dataset} measured (wall)",
            )
            cpu = [r.get("measured_cpu_speedup") for r in timed]
            if all(c is not None for c in cpu):
                ax.plot(cpu, f1, "x", color=color, label=f"{dataset} measured (CPU)")
            top = max(top, *(r["counted_speedup"] for r in sweep))
        ax.set_xscale("log")
        ax.set_xticks([t for t in (0.8, 1, 1.5, 2, 3, 5, 10, 20, 30) if t <= top * 1.2])
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("speed-up over full depth (log scale)")
        ax.set_ylabel("macro-F1 (%)")
        ax.set_title(model)
        ax.legend(fontsize=5, ncol=2)
    for ax in list(axes.flat)[len(models) :]:
        ax.axis("off")
    fig.suptitle(
        "Macro-F1 vs speed-up of prototype exit (lines: L / mean exit layer; circles: measured "
        "wall clock; crosses: measured CPU time)",
        fontsize=9,
    )
    fig.tight_layout()
    save_figure(fig, path)


def plot_delta_sweep(rows: Sequence[Row], path: str | Path) -> None:
    """Fig 6: macro-F1 and mean exit layer against delta, one column per model."""
    matplotlib = require("matplotlib", extra="plots", purpose="figures")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = _sweeps(rows)
    models = list(dict.fromkeys(k[0] for k in groups)) or ["-"]
    fig, axes = plt.subplots(2, len(models), figsize=(4.5 * len(models), 6), squeeze=False)
    for col, model in enumerate(models):
        for (m, dataset), sweep in groups.items():
            if m != model:
                continue
            finite = [r for r in sweep if r.get("delta") is not None]
            x = [r["delta"] for r in finite]
            axes[0, col].plot(x, [100 * r["macro_f1"] for r in finite], "o-", ms=3, label=dataset)
            axes[1, col].plot(x, [r["mean_exit_layer"] for r in finite], "o-", ms=3, label=dataset)
        axes[0, col].set_title(model)
        axes[0, col].set_ylabel("macro-F1 (%)")
        axes[1, col].set_ylabel("mean exit layer")
        axes[1, col].set_xlabel("delta (prototype margin threshold)")
        axes[0, col].legend(fontsize=7)
    fig.suptitle("Prototype exit: macro-F1 and mean exit layer against delta (test sets)")
    fig.tight_layout()
    save_figure(fig, path)


def report_markdown(rows: Sequence[Row], results_name: str, datasets: Sequence[str] = ()) -> str:
    """The Markdown summary of the rows stored in ``results_name``."""
    return (
        "# Early exit (HatePrototypes Table 4, Figs 4-6)\n\n"
        "Generated by `hateproto experiment early-exit`; rows in "
        f"`{results_name}`.\n\n## Table 4: macro-F1 (%) / mean exit layer\n\n"
        + table4_markdown(rows, datasets)
        + "\n\n## Counted vs measured speed-up\n\n"
        + speed_markdown(rows)
        + "\n"
    )


def write_reports(
    rows: Sequence[Row], results: str | Path, datasets: Sequence[str] = (), figures: bool = True
) -> list[Path]:
    """Write the Markdown summary (and, with ``figures``, the three figures) next to the
    results file."""
    results = Path(results)
    stem = results.with_suffix("")
    md = stem.with_name(stem.name + ".md")
    atomic_write_text(md, report_markdown(rows, results.name, datasets))
    paths = [md]
    if not figures:
        return paths
    figures = {
        "fig4-exit-layers": lambda r, p: plot_exit_histograms(r, p, datasets=datasets),
        "fig5-f1-vs-speedup": plot_f1_vs_speedup,
        "fig6-delta-sweep": plot_delta_sweep,
    }
    for name, plot in figures.items():
        path = stem.with_name(f"{stem.name}-{name}.png")
        plot(rows, path)
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Rebuild the reports from a results file alone (no model is loaded or run)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--config", help="EarlyExitConfig YAML: results file and dataset order")
    parser.add_argument("--results", help="results JSON (default: the config's)")
    parser.add_argument("--datasets", help="comma-separated dataset order (default: config's)")
    parser.add_argument("--figures", action="store_true", help="also redraw Figs 4-6")
    args = parser.parse_args(argv)
    results, datasets = args.results, []
    if args.config:
        from hateproto.experiments.early_exit import EarlyExitConfig

        cfg = EarlyExitConfig.from_yaml(args.config)
        results, datasets = results or cfg.results, list(cfg.dataset_names())
    if args.datasets:
        datasets = [d.strip() for d in args.datasets.split(",")]
    if not results:
        parser.error("give --config or --results")
    rows = json.loads(Path(results).read_text())
    for path in write_reports(rows, results, datasets, figures=args.figures):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
