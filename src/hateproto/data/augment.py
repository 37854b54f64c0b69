"""Counterfactual identity augmentation: the same post about another group, same label.

A detector that flags most neutral posts naming Muslims has learnt that the word predicts the
label. Adding, for posts that name a group, copies in which that group is swapped for another
(the label unchanged) breaks that shortcut: every group then appears in hateful and
non-hateful posts in the same proportions (counterfactual data augmentation; Dixon et al.
2018, Garg et al. 2019 use the same idea for identity terms). The swaps are seeded.

Example:
    >>> import numpy as np
    >>> from hateproto.data.types import LabeledTexts
    >>> data = LabeledTexts(["muslims are our neighbours", "a post"], np.array([0, 0]))
    >>> out = counterfactual_augment(data, copies=1, seed=0)
    >>> len(out), out.labels.tolist(), out.metadata["augmented"].tolist()
    (3, [0, 0, 0], [False, False, True])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hateproto.data.groups import IDENTITY_TERMS, find_identity_terms
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError


def swap_groups(text: str, rng: np.random.Generator) -> str | None:
    """``text`` with each named group replaced by another, or ``None`` if it names none."""
    spans = find_identity_terms(text)
    if not spans:
        return None
    groups = sorted(IDENTITY_TERMS)
    out, last = [], 0
    for start, end, group in spans:
        other = groups[int(rng.integers(len(groups)))]
        while other == group:
            other = groups[int(rng.integers(len(groups)))]
        terms = IDENTITY_TERMS[other]
        term = terms[int(rng.integers(len(terms)))]
        if text[start].isupper():
            term = term[0].upper() + term[1:]
        out += [text[last:start], term]
        last = end
    out.append(text[last:])
    return "".join(out)


def counterfactual_augment(
    data: LabeledTexts, copies: int = 1, seed: int = 0, max_added: int | None = None
) -> LabeledTexts:
    """``data`` plus up to ``copies`` group-swapped versions of every post that names a group.

    Metadata gains ``augmented`` (``True`` for the added rows); the added rows copy the rest
    of their original's metadata.
    """
    if copies < 0:
        raise DataError(f"copies must be >= 0, got {copies}")
    rng = np.random.default_rng(seed)
    texts, labels, origin = [], [], []
    for index, text in enumerate(data.texts):
        for _ in range(copies):
            swapped = swap_groups(text, rng)
            if swapped is None:
                break
            texts.append(swapped)
            labels.append(int(data.labels[index]))
            origin.append(index)
    if max_added is not None and len(texts) > max_added:
        keep = np.sort(rng.choice(len(texts), size=max_added, replace=False))
        texts = [texts[i] for i in keep]
        labels = [labels[i] for i in keep]
        origin = [origin[i] for i in keep]
    base = data.metadata if len(data.metadata) else pd.DataFrame(index=range(len(data)))
    added = base.iloc[origin].reset_index(drop=True)
    metadata = pd.concat(
        [base.assign(augmented=False), added.assign(augmented=True)], ignore_index=True
    )
    return LabeledTexts(
        texts=list(data.texts) + texts,
        labels=np.concatenate([data.labels, np.asarray(labels, dtype=np.int64)]),
        name=data.name,
        protocol=data.protocol,
        split=data.split,
        metadata=metadata,
        notes={**data.notes, "counterfactual_added": len(texts)},
    )
