"""Significance tests over seeds (scipy)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from hateproto.errors import HateprotoError


def paired_ttest(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Two-sided paired t-test of ``a`` against ``b`` (same seeds, same order).

    Returns mean difference (a - b), t statistic, p-value and n. With fewer than two pairs, or
    identical differences, t and p are ``nan``.

    Example:
        >>> round(paired_ttest([0.7, 0.72, 0.71], [0.6, 0.65, 0.6])["mean_diff"], 3)
        0.093
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise HateprotoError(f"paired t-test needs equal-length samples, got {x.size}, {y.size}")
    diff = x - y
    if x.size < 2 or np.allclose(diff, diff[0]):
        return {
            "mean_diff": float(diff.mean()) if x.size else float("nan"),
            "t": float("nan"),
            "p_value": float("nan"),
            "n": int(x.size),
        }
    result = stats.ttest_rel(x, y)
    return {
        "mean_diff": float(diff.mean()),
        "t": float(result.statistic),
        "p_value": float(result.pvalue),
        "n": int(x.size),
    }
