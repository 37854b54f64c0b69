"""Figures the prototype experiments share (matplotlib, Agg backend, written atomically)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hateproto.experiments.results import save_figure
from hateproto.optional import require

Row = dict[str, Any]


def mean_matrix(
    rows: Iterable[Row], row_field: str, col_field: str, value_field: str
) -> tuple[list[Any], list[Any], np.ndarray]:
    """Mean of ``value_field`` per (row, column) value pair, in first-seen order."""
    cells: dict[tuple[Any, Any], list[float]] = defaultdict(list)
    row_keys: list[Any] = []
    col_keys: list[Any] = []
    for row in rows:
        r, c = row[row_field], row[col_field]
        row_keys += [r] if r not in row_keys else []
        col_keys += [c] if c not in col_keys else []
        cells[(r, c)].append(float(row[value_field]))
    values = np.full((len(row_keys), len(col_keys)), np.nan)
    for (r, c), v in cells.items():
        values[row_keys.index(r), col_keys.index(c)] = float(np.nanmean(v))
    return row_keys, col_keys, values


def heatmap(
    values: np.ndarray,
    row_labels: Sequence[Any],
    col_labels: Sequence[Any],
    title: str,
    path: str | Path,
    xlabel: str,
    ylabel: str,
    fmt: str = "{:.1f}",
    scale: float = 100.0,
    cmap: str = "viridis",
    center: float | None = None,
) -> None:
    """A labelled heatmap with the value printed in every cell, saved as PNG."""
    matplotlib = require("matplotlib", extra="plots", purpose="figures")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = values * scale
    fig, ax = plt.subplots(figsize=(1.2 * len(col_labels) + 2.5, 0.6 * len(row_labels) + 1.8))
    kwargs: dict[str, Any] = {"cmap": cmap}
    if center is not None:
        span = np.nanmax(np.abs(shown - center * scale)) or 1.0
        kwargs.update(vmin=center * scale - span, vmax=center * scale + span)
    image = ax.imshow(shown, aspect="auto", **kwargs)
    ax.set_xticks(range(len(col_labels)), [str(c) for c in col_labels])
    ax.set_yticks(range(len(row_labels)), [str(r) for r in row_labels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    for i in range(shown.shape[0]):
        for j in range(shown.shape[1]):
            if not np.isnan(shown[i, j]):
                red, green, blue, _ = image.cmap(image.norm(shown[i, j]))
                light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.6
                ax.text(
                    j,
                    i,
                    fmt.format(shown[i, j]),
                    ha="center",
                    va="center",
                    color="black" if light else "white",
                )
    fig.colorbar(image, ax=ax)
    save_figure(fig, path)


def matrix_heatmap(
    rows: Iterable[Row],
    fields: tuple[str, str, str],
    title: str,
    path: str | Path,
    xlabel: str,
    ylabel: str,
    **style: Any,
) -> None:
    """:func:`heatmap` of the :func:`mean_matrix` of ``rows`` for ``fields`` = (row field,
    column field, value field); ``style`` goes to :func:`heatmap` (``center``, ``cmap``...)."""
    row_keys, col_keys, values = mean_matrix(rows, *fields)
    heatmap(values, row_keys, col_keys, title, path, xlabel, ylabel, **style)


def line_plot(
    series: dict[str, tuple[Sequence[float], Sequence[float], Sequence[float], Sequence[float]]],
    title: str,
    path: str | Path,
    xlabel: str,
    ylabel: str,
    log_x: bool = True,
) -> None:
    """One line per series name: ``(x, mean, low, high)`` with a shaded interval."""
    matplotlib = require("matplotlib", extra="plots", purpose="figures")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name, (x, mean, low, high) in series.items():
        ax.plot(x, mean, marker="o", label=name)
        ax.fill_between(x, low, high, alpha=0.2)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def grouped_bars(
    rows: Sequence[Row],
    group: Callable[[Row], Any],
    series: Callable[[Row], Any],
    value_field: str,
    path: str | Path,
    title: str,
    ylabel: str,
    width_per_group: float = 1.6,
    rotate: bool = False,
) -> None:
    """Bars of the mean ``value_field`` (in %) per group on the x axis, one bar per series,
    groups and series in first-seen order; a missing cell is drawn as 0."""
    matplotlib = require("matplotlib", extra="plots", purpose="figures")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(group(r) for r in rows))
    names = list(dict.fromkeys(series(r) for r in rows))
    fig, ax = plt.subplots(figsize=(width_per_group * len(groups) + 4, 4))
    width = 0.8 / max(1, len(names))
    for j, name in enumerate(names):
        values = []
        for g in groups:
            cell = [r[value_field] for r in rows if group(r) == g and series(r) == name]
            values.append(100 * float(np.mean(cell)) if cell else 0.0)
        ax.bar(np.arange(len(groups)) + j * width, values, width, label=name)
    ticks = np.arange(len(groups)) + 0.4 - width / 2
    if rotate:
        ax.set_xticks(ticks, groups, rotation=30, ha="right")
    else:
        ax.set_xticks(ticks, groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    save_figure(fig, path)
