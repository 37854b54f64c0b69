"""The functional audit suite: functionalities, cases, deterministic generation and splits.

Case texts are written for hateproto and released under CC-BY-4.0 (see ``docs/audit.md``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from importlib import resources

import numpy as np

from hateproto.audit.groups import GROUPS, NON_PROTECTED, TargetGroup
from hateproto.audit.languages import ENGLISH, LanguageGroup, LanguageSuite, check_language
from hateproto.audit.languages import language_suite as _language_suite
from hateproto.audit.perturb import PERTURBATIONS
from hateproto.audit.slurs import SLUR_HATE_TEMPLATES, SLUR_HOMONYMS, SLUR_RECLAIMED, SLURS
from hateproto.audit.templates_contrast import (
    ABUSE_INDIVIDUAL,
    CONTRAST_TEMPLATES,
    NON_PROTECTED_TEMPLATES,
    PROFANITY_UNTARGETED,
)
from hateproto.audit.templates_hate import FILLERS, HATE_TEMPLATES
from hateproto.data.types import LabeledTexts
from hateproto.errors import ConfigError

SUITE_SEED = 14
SUITE_VERSION = "2.0"
SPLITS = ("dev", "test", "all")
#: Templates per functionality in suite 1.0, for the functionalities that grew in 2.0 (issue 23;
#: the others did not change). A functionality's first ``n`` templates are 1.0's; the templates
#: added later are split after them, so every 1.0 template keeps its half.
FIRST_EDITION_TEMPLATES: dict[str, int] = {
    "abuse_nonprotected_group": 5,
    "slur_reclaimed": 14,
    "slur_homonym": 12,
    "profanity_untargeted": 30,
    "abuse_individual": 25,
}
SPELLING_PER_GROUP = 6
SPELLING_SOURCES = (
    "derogation_direct",
    "dehumanisation",
    "threat",
    "exclusion_call",
    "hate_question",
    "slur_hate",
)


@dataclass(frozen=True)
class Functionality:
    """One behaviour the audit tests: its gold label, family and a one-line description."""

    name: str
    label_gold: int
    family: str
    description: str
    every_group: bool = False


def _read_functionalities() -> tuple[Functionality, ...]:
    """The catalogue in ``functionalities.tsv`` (name, gold label, family, whether every
    target group gets cases, description), in the order reports list them."""
    text = resources.files("hateproto.audit").joinpath("functionalities.tsv").read_text()
    return tuple(
        Functionality(
            row["name"],
            int(row["label_gold"]),
            row["family"],
            row["description"],
            row["every_group"] == "yes",
        )
        for row in csv.DictReader(io.StringIO(text), delimiter="\t")
    )


FUNCTIONALITIES: tuple[Functionality, ...] = _read_functionalities()
"""Every behaviour the audit tests (``functionalities.tsv``)."""

#: Hateful functionality -> non-hateful functionalities that share its words or phrasing.
CONTRAST_PAIRS: tuple[tuple[str, str], ...] = (
    ("derogation_direct", "negated_hate"),
    ("dehumanisation", "counter_quote"),
    ("threat", "counter_reference"),
    ("derogation_direct", "identity_positive"),
    ("derogation_direct", "abuse_nonprotected_group"),
    ("slur_hate", "slur_reclaimed"),
    ("slur_hate", "slur_homonym"),
)

#: Non-hateful functionalities with the same templates for every group: the per-group false
#: positive rate is measured on these, so that groups are compared like with like.
FPR_FUNCTIONALITIES = (
    "negated_hate",
    "counter_quote",
    "counter_reference",
    "identity_neutral",
    "identity_positive",
)
IDENTITY_FUNCTIONALITIES = ("identity_neutral", "identity_positive")


@dataclass(frozen=True)
class AuditCase:
    """One test case: a post, the functionality it tests and its gold label (1 = hateful)."""

    id: str
    text: str
    functionality: str
    label_gold: int
    target_group: str | None
    template_id: str
    split: str

    def to_dict(self) -> dict[str, object]:
        """The case as a flat, JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class _Draft:
    """A rendered case before its split is known (``split`` empty), with the key term's span."""

    case: AuditCase
    key_span: tuple[int, int] | None = None


def _draft(
    case_id: str,
    text: str,
    name: str,
    gold: int,
    target: str | None,
    template_id: str,
    span: tuple[int, int] | None = None,
) -> _Draft:
    return _Draft(AuditCase(case_id, text, name, gold, target, template_id, ""), span)


def functionality(name: str) -> Functionality:
    """The functionality called ``name`` (``ConfigError`` when unknown)."""
    for item in FUNCTIONALITIES:
        if item.name == name:
            return item
    raise ConfigError(f"unknown functionality {name!r}")


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _render(template: str, fields: dict[str, str]) -> tuple[str, tuple[int, int] | None]:
    """Fill ``template`` and strip the ``[key]`` brackets; returns the text and key span."""
    text = template.format_map(fields)
    start = text.find("[")
    if start < 0:
        return text, None
    end = text.index("]", start)
    return text[:start] + text[start + 1 : end] + text[end + 1 :], (start, end - 1)


def _fields(group: TargetGroup, rng: random.Random, extra: dict[str, str]) -> dict[str, str]:
    """Placeholder values for one case: group names and one draw of every filler."""
    fields = {"group": rng.choice(group.plurals), "one": group.singular, **extra}
    for name, values in FILLERS.items():
        fields[name] = rng.choice(values)
    for name in list(fields):
        fields[_capitalise(name)] = _capitalise(fields[name])
    return fields


def _cross(
    name: str,
    gold: int,
    templates: Sequence[str],
    groups: Sequence[TargetGroup],
    seed: int,
    protected: bool = True,
) -> list[_Draft]:
    """Every template of ``name`` rendered once per group."""
    drafts = []
    for index, template in enumerate(templates):
        template_id = f"{name}.{index:02d}"
        for group in groups:
            rng = random.Random(f"{seed}:{template_id}:{group.key}")
            extra = {}
            if name == "slur_hate":
                extra = {"slurs": SLURS[group.key][0], "slur": SLURS[group.key][1]}
            text, span = _render(template, _fields(group, rng, extra))
            target = group.key if protected else None
            drafts.append(
                _draft(f"{template_id}.{group.key}", text, name, gold, target, template_id, span)
            )
    return drafts


def _posts(name: str, posts: Iterable[tuple[str | None, str]]) -> list[_Draft]:
    """Hand-written posts, one template each."""
    gold = functionality(name).label_gold
    return [
        _draft(f"{name}.{i:02d}", text, name, gold, group, f"{name}.{i:02d}")
        for i, (group, text) in enumerate(posts)
    ]


def _spelling(drafts: Sequence[_Draft], seed: int) -> list[_Draft]:
    """Perturbed copies of hateful cases: ``SPELLING_PER_GROUP`` per group and perturbation."""
    pool = [d for d in drafts if d.case.functionality in SPELLING_SOURCES and d.key_span]
    out = []
    for name, perturb in PERTURBATIONS.items():
        for group in GROUPS:
            rng = random.Random(f"{seed}:{name}:{group.key}")
            mine = sorted(
                (d for d in pool if d.case.target_group == group.key), key=lambda d: d.case.id
            )
            for base in rng.sample(mine, SPELLING_PER_GROUP):
                assert base.key_span is not None
                text = perturb(base.case.text, base.key_span, rng)
                out.append(
                    _draft(
                        f"{name}.{base.case.id}",
                        text,
                        name,
                        1,
                        base.case.target_group,
                        base.case.template_id,
                    )
                )
    return out


def _drafts(seed: int) -> list[_Draft]:
    """Every case of the suite, before splits."""
    drafts: list[_Draft] = []
    for name, templates in HATE_TEMPLATES.items():
        drafts += _cross(name, 1, templates, GROUPS, seed)
    drafts += _cross("slur_hate", 1, SLUR_HATE_TEMPLATES, GROUPS, seed)
    for name, templates in CONTRAST_TEMPLATES.items():
        drafts += _cross(name, 0, templates, GROUPS, seed)
    drafts += _cross(
        "abuse_nonprotected_group", 0, NON_PROTECTED_TEMPLATES, NON_PROTECTED, seed, False
    )
    drafts += _posts("slur_reclaimed", SLUR_RECLAIMED)
    drafts += _posts("slur_homonym", ((None, text) for text in SLUR_HOMONYMS))
    drafts += _posts("profanity_untargeted", ((None, text) for text in PROFANITY_UNTARGETED))
    drafts += _posts("abuse_individual", ((None, text) for text in ABUSE_INDIVIDUAL))
    return drafts + _spelling(drafts, seed)


def _edition(template_id: str) -> int:
    """1 for a template of suite 1.0, 2 for one added later (:data:`FIRST_EDITION_TEMPLATES`)."""
    name, index = template_id.rsplit(".", 1)
    first = FIRST_EDITION_TEMPLATES.get(name)
    return 2 if first is not None and index.isdigit() and int(index) >= first else 1


def template_splits(template_ids: Iterable[str]) -> dict[str, str]:
    """``dev`` or ``test`` for every template id: within each functionality, templates are
    ordered by edition, then by the SHA-256 of their id, and alternately assigned, so both
    halves are balanced and a template of suite 1.0 stays in the half it had there."""
    by_functionality: dict[str, list[str]] = {}
    for template_id in sorted(set(template_ids)):
        by_functionality.setdefault(template_id.rsplit(".", 1)[0], []).append(template_id)
    splits = {}
    for ids in by_functionality.values():
        ordered = sorted(ids, key=lambda t: (_edition(t), hashlib.sha256(t.encode()).hexdigest()))
        for position, template_id in enumerate(ordered):
            splits[template_id] = SPLITS[position % 2]
    return splits


def check_split(split: str) -> str:
    """``split`` if it is dev, test or all; a ``ConfigError`` otherwise."""
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}: use dev, test or all")
    return split


def _language_fields(
    suite: LanguageSuite, group: LanguageGroup, rng: random.Random
) -> dict[str, str]:
    """Placeholder values for one case of ``suite``: one drawn variant of the group's forms
    and one draw of every filler, with capitalised variants."""
    fields = dict(rng.choice(group.forms))
    for name, values in suite.fillers.items():
        fields[name] = rng.choice(values)
    for name in list(fields):
        fields[_capitalise(name)] = _capitalise(fields[name])
    return fields


def _language_cross(
    suite: LanguageSuite,
    name: str,
    templates: Sequence[str],
    groups: Sequence[LanguageGroup],
    seed: int,
    protected: bool = True,
) -> list[_Draft]:
    """Every template of ``name`` in ``suite`` rendered once per group (ids prefixed by the
    language: ``de.threat.03.muslims``)."""
    gold = functionality(name).label_gold
    drafts = []
    for index, template in enumerate(templates):
        template_id = f"{suite.code}.{name}.{index:02d}"
        for group in groups:
            rng = random.Random(f"{seed}:{template_id}:{group.key}")
            text, span = _render(template, _language_fields(suite, group, rng))
            target = group.key if protected else None
            drafts.append(
                _draft(f"{template_id}.{group.key}", text, name, gold, target, template_id, span)
            )
    return drafts


def _language_spelling(suite: LanguageSuite, drafts: Sequence[_Draft], seed: int) -> list[_Draft]:
    """Perturbed copies of ``suite``'s hateful cases, ``suite.spelling_per_group`` per group
    and perturbation (``de.spelling_leetspeak.threat.03.muslims``)."""
    pool = [d for d in drafts if d.case.functionality in SPELLING_SOURCES and d.key_span]
    out = []
    for name, perturb in PERTURBATIONS.items():
        for group in suite.groups:
            rng = random.Random(f"{seed}:{suite.code}:{name}:{group.key}")
            mine = sorted(
                (d for d in pool if d.case.target_group == group.key), key=lambda d: d.case.id
            )
            for base in rng.sample(mine, suite.spelling_per_group):
                assert base.key_span is not None
                text = perturb(base.case.text, base.key_span, rng)
                source = base.case.id.split(".", 1)[1]
                out.append(
                    _draft(
                        f"{suite.code}.{name}.{source}",
                        text,
                        name,
                        1,
                        base.case.target_group,
                        base.case.template_id,
                    )
                )
    return out


def _language_drafts(suite: LanguageSuite, seed: int) -> list[_Draft]:
    """Every case of a non-English suite, before splits."""
    drafts: list[_Draft] = []
    for name, templates in suite.hate_templates.items():
        drafts += _language_cross(suite, name, templates, suite.groups, seed)
    for name, templates in suite.contrast_templates.items():
        drafts += _language_cross(suite, name, templates, suite.groups, seed)
    drafts += _language_cross(
        suite,
        "abuse_nonprotected_group",
        suite.non_protected_templates,
        suite.non_protected,
        seed,
        protected=False,
    )
    for name, posts in suite.posts.items():
        gold = functionality(name).label_gold
        for i, text in enumerate(posts):
            template_id = f"{suite.code}.{name}.{i:02d}"
            drafts.append(_draft(template_id, text, name, gold, None, template_id))
    return drafts + _language_spelling(suite, drafts, seed)


def build_suite(
    split: str = "all", seed: int = SUITE_SEED, language: str = ENGLISH
) -> list[AuditCase]:
    """The audit cases of ``split`` (dev, test or all) in ``language`` (en, de, fr, es),
    generated deterministically from ``seed``. Spelling variants belong to the split of the
    template they derive from. Non-English case and template ids start with the language
    code (``de.threat.03.muslims``), so they never collide with English ones."""
    check_split(split)
    language = check_language(language)
    if language == ENGLISH:
        drafts = _drafts(seed)
    else:
        drafts = _language_drafts(_language_suite(language), seed)
    splits = template_splits(d.case.template_id for d in drafts)
    cases = [replace(d.case, split=splits[d.case.template_id]) for d in drafts]
    return cases if split == "all" else [c for c in cases if c.split == split]


def audit_dev_texts(language: str) -> LabeledTexts | None:
    """Our audit's dev half in ``language`` as labelled texts (name ``audit_<code>``), or
    ``None`` where the audit has no cases in that language. What
    :func:`hateproto.detector.recipe.language_dev_sets` chooses per-language thresholds on."""
    try:
        check_language(language)
    except ConfigError:
        return None
    cases = build_suite("dev", language=language)
    return LabeledTexts(
        [case.text for case in cases],
        np.array([case.label_gold for case in cases]),
        f"audit_{language}",
        "audit",
        "dev",
    )
