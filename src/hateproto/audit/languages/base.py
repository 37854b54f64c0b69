"""What a non-English audit suite is made of: target groups with the grammatical forms its
templates need, fillers, templates and hand-written posts (:class:`LanguageSuite`).

Generation (ids, splits, spelling variants) is shared with English in
:mod:`hateproto.audit.suite`; a language module holds only its texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LanguageGroup:
    """A group as one language's templates name it.

    ``forms`` holds one or more variants (one is drawn per case); each variant maps a
    placeholder name to its text, for example German ``{"group": "Muslime", "def": "die
    Muslime", "dat": "den Muslimen", "one": "ein Muslim"}``. Every variant of every group of a
    suite has the same placeholder names, so every template can be filled for every group
    with correct agreement (see the language module's docstring for what each name means).
    """

    key: str
    forms: tuple[Mapping[str, str], ...]

    def __post_init__(self) -> None:
        names = {frozenset(form) for form in self.forms}
        if len(names) != 1:
            raise ValueError(f"group {self.key!r}: every variant needs the same placeholders")


def group(key: str, *forms: Mapping[str, str]) -> LanguageGroup:
    """A :class:`LanguageGroup` from its key and form variants (a shorthand)."""
    return LanguageGroup(key, tuple(forms))


@dataclass(frozen=True)
class LanguageSuite:
    """One language's cases: groups (same keys as English), fillers, templates and posts.

    Attributes:
        code: ISO 639-1 code; case and template ids start with it (``de.threat.03.muslims``).
        name: the language's English name.
        groups: the protected target groups, keys as in :data:`hateproto.audit.groups.GROUPS`.
        non_protected: groups that are not protected (for ``abuse_nonprotected_group``).
        fillers: placeholder -> values, one drawn per case (``{neg}``, ``{dehum}``, ``{pos}``).
        hate_templates: hateful functionality -> templates, crossed with every group.
        contrast_templates: non-hateful functionality -> templates, crossed with every group.
        non_protected_templates: crossed with ``non_protected``.
        posts: functionality -> hand-written posts with no target group.
        conan: whether CONAN counter-speech exists in this language (the report's CONAN row).
        spelling_per_group: spelling-variant cases per group and perturbation.
    """

    code: str
    name: str
    groups: tuple[LanguageGroup, ...]
    non_protected: tuple[LanguageGroup, ...]
    fillers: Mapping[str, tuple[str, ...]]
    hate_templates: Mapping[str, tuple[str, ...]]
    contrast_templates: Mapping[str, tuple[str, ...]]
    non_protected_templates: tuple[str, ...]
    posts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    conan: bool = False
    spelling_per_group: int = 2
