"""Significance tests over seeds (scipy).

Cells of a results matrix that share a trained model (one model per training set and seed,
evaluated on several test sets) are not independent samples: pooling them in one t-test
inflates n and understates p. :func:`paired_seed_test` pairs by seed instead: one number
per seed and setup (for example the mean cross-dataset macro-F1 of that seed's models).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

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


def paired_seed_test(a: Mapping[int, float], b: Mapping[int, float]) -> dict[str, object]:
    """Compare two setups paired by seed: ``a[seed]`` against ``b[seed]``.

    Each value should summarise one seed's models (e.g. their mean cross-dataset macro-F1),
    so that no two pairs share a model. Returns, over the seeds present in both:

    * ``n``, ``seeds``, ``diffs`` (a - b per seed) and ``mean_diff``;
    * ``t`` and ``p_value``: the two-sided paired t-test (:func:`paired_ttest`);
    * ``p_exact``: the two-sided exact sign-flip permutation test (all ``2**n`` sign
      patterns of the differences; no normality assumption);
    * ``p_min``: the smallest ``p_exact`` that ``n`` pairs can give, ``2 / 2**n``. With 2
      seeds it is 0.5 and with 3 seeds 0.25: such a test has almost no power, and a
      non-significant result says next to nothing.

    Example:
        >>> r = paired_seed_test({0: 0.70, 1: 0.72, 2: 0.71}, {0: 0.60, 1: 0.65, 2: 0.60})
        >>> r["n"], round(r["mean_diff"], 3), r["p_exact"], r["p_min"]
        (3, 0.093, 0.25, 0.25)
        >>> round(r["p_value"], 4)
        0.0162
        >>> paired_seed_test({0: 0.5, 1: 0.6}, {1: 0.4, 2: 0.3})["seeds"]
        [1]
    """
    seeds = sorted(set(a) & set(b))
    if not seeds:
        raise HateprotoError("paired seed test: the two setups share no seed")
    diffs = np.array([float(a[s]) - float(b[s]) for s in seeds])
    t_test = paired_ttest([a[s] for s in seeds], [b[s] for s in seeds])
    n = len(seeds)
    observed = abs(diffs.mean())
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
    flipped = np.abs((signs * diffs).mean(axis=1))
    p_exact = float(np.mean(flipped >= observed - 1e-12))
    return {
        "n": n,
        "seeds": seeds,
        "diffs": diffs.tolist(),
        "mean_diff": float(diffs.mean()),
        "t": t_test["t"],
        "p_value": t_test["p_value"],
        "p_exact": p_exact,
        "p_min": 2.0 / 2**n,
    }
