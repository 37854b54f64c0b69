"""False positives on posts that name a target group, overall and per group.

A detector that flags every mention of a group is no use: this is the figure that shows it.
The group of a post comes from its dataset's target annotation (``metadata["target"]``),
mapped to a canonical group name by :func:`hateproto.data.groups.canonical_group`.

Example:
    >>> from hateproto.data.types import LabeledTexts
    >>> import pandas as pd
    >>> data = LabeledTexts(["a", "b", "c"], [0, 0, 1], metadata=pd.DataFrame(
    ...     {"target": ["Muslims", "women", "Muslims"]}))
    >>> group_fpr(data, [1, 0, 1], min_group=1)["fpr_identity_neutral"]
    0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hateproto.data.groups import canonical_group
from hateproto.data.types import LabeledTexts

MIN_GROUP = 20
"""Groups with fewer non-hateful posts than this are left out of the per-group rates."""


def group_fpr(
    data: LabeledTexts, predicted: Sequence[int], min_group: int = MIN_GROUP
) -> dict[str, Any]:
    """False-positive rate on non-hateful posts that name a group: overall, per group (groups
    with at least ``min_group`` such posts) and the spread between groups. ``{}`` when the
    data has no target annotation."""
    if not len(data.metadata) or "target" not in data.metadata:
        return {}
    groups = [canonical_group(t) for t in data.metadata["target"].tolist()]
    neutral = [
        (g, int(p)) for g, p, y in zip(groups, predicted, data.labels, strict=True) if g and not y
    ]
    if not neutral:
        return {}
    per_group = {}
    for group in sorted({g for g, _ in neutral}):
        flags = [p for g, p in neutral if g == group]
        if len(flags) >= min_group:
            per_group[group] = {"fpr": float(np.mean(flags)), "n": len(flags)}
    rates = [v["fpr"] for v in per_group.values()]
    return {
        "fpr_identity_neutral": float(np.mean([p for _, p in neutral])),
        "n_identity_neutral": len(neutral),
        "fpr_per_group": per_group,
        "fpr_group_spread": float(max(rates) - min(rates)) if len(rates) > 1 else None,
    }
