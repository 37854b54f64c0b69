"""Identity groups: one vocabulary over the benchmarks' target labels, and identity terms.

Each benchmark names targets its own way (``african`` in HateXplain, ``black people`` in IHC
and SBIC, ``islam`` vs ``muslims``...). :func:`canonical_group` maps them onto one vocabulary,
so that false-positive rates per group can be compared across test sets, and
:data:`IDENTITY_TERMS` lists words that name each group in a post, for counterfactual
augmentation (:mod:`hateproto.data.augment`).

Example:
    >>> canonical_group("African"), canonical_group("islam"), canonical_group("landlords")
    ('black', 'muslim', None)
"""

from __future__ import annotations

import re

_TARGET_GROUPS: dict[str, tuple[str, ...]] = {
    "black": ("black", "african", "black folks"),
    "women": ("women", "woman", "female", "feminist"),
    "jewish": ("jew", "jewish", "jews"),
    "muslim": ("muslim", "islam", "arab", "middle_east", "middle east", "middle eastern"),
    "lgbtq": ("lgbtq", "gay", "homosexual", "lesbian", "trans", "bisexual", "queer"),
    "asian": ("asian", "chinese"),
    "latino": ("latino", "latina", "hispanic", "mexican"),
    "immigrant": ("immigrant", "refugee", "migrant"),
    "disabled": ("disab", "disease", "mental_dis", "physical_dis"),
    "white": ("white", "caucasian"),
    "native_american": ("native american", "native_american"),
}


def canonical_group(target: object) -> str | None:
    """The canonical group of a benchmark's target label, or ``None`` (no protected group)."""
    if not isinstance(target, str) or not target.strip():
        return None
    text = target.lower()
    if text.startswith("non-white") or text in ("none", "not given", "other", "ref"):
        return None
    for group, keys in _TARGET_GROUPS.items():
        if any(key in text for key in keys):
            return group
    return None


IDENTITY_TERMS: dict[str, tuple[str, ...]] = {
    "black": ("black people", "black folks", "black men", "black women", "africans"),
    "women": ("women", "girls", "ladies", "females"),
    "jewish": ("jews", "jewish people"),
    "muslim": ("muslims", "arabs", "muslim people"),
    "lgbtq": ("gay people", "gays", "gay men", "lesbians", "queer people", "bisexual people"),
    "trans": ("trans people", "trans women", "trans men", "transgender people"),
    "asian": ("asians", "asian people", "chinese people"),
    "latino": ("latinos", "mexicans", "hispanics"),
    "immigrant": ("immigrants", "refugees", "migrants", "asylum seekers"),
    "disabled": ("disabled people", "people with disabilities", "autistic people"),
    "roma": ("roma people", "gypsies"),
    "white": ("white people", "whites"),
}
"""Plural nouns that name a group in running text (used to swap groups in augmentation)."""

_TERM_GROUP = {term: group for group, terms in IDENTITY_TERMS.items() for term in terms}
_TERM_PATTERN = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _TERM_GROUP), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def find_identity_terms(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, group)`` of every identity term in ``text``.

    Example:
        >>> find_identity_terms("Muslims and gay people live here")
        [(0, 7, 'muslim'), (12, 22, 'lgbtq')]
    """
    return [
        (m.start(), m.end(), _TERM_GROUP[m.group(0).lower()]) for m in _TERM_PATTERN.finditer(text)
    ]
