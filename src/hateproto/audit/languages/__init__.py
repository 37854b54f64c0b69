"""The audit's languages: English (the suite of :mod:`hateproto.audit.suite`) and German,
French and Spanish suites written for hateproto (issue 25), one module each.

Content warning: the language modules contain deliberately hateful templates. License of the
case texts: CC-BY-4.0 (hateproto contributors), see ``docs/audit.md``.
"""

from __future__ import annotations

from hateproto.audit.languages import de, es, fr
from hateproto.audit.languages.base import LanguageGroup, LanguageSuite
from hateproto.errors import ConfigError

#: The language of the original suite (its cases and ids carry no language prefix).
ENGLISH = "en"

#: Language code -> its suite, for every language but English.
SUITES: dict[str, LanguageSuite] = {suite.code: suite for suite in (de.SUITE, fr.SUITE, es.SUITE)}

#: Every language ``hateproto audit --language`` accepts, English first.
LANGUAGES: tuple[str, ...] = (ENGLISH, *SUITES)


def check_language(code: str) -> str:
    """``code`` (lower-cased) if the audit has cases in it; a ``ConfigError`` naming the
    supported languages otherwise."""
    normalised = code.strip().lower()
    if normalised not in LANGUAGES:
        raise ConfigError(
            f"the audit has no cases in language {code!r}; supported: {', '.join(LANGUAGES)}"
        )
    return normalised


def language_suite(code: str) -> LanguageSuite:
    """The suite of non-English language ``code`` (``ConfigError`` when unknown or English)."""
    code = check_language(code)
    if code == ENGLISH:
        raise ConfigError("English is the suite of hateproto.audit.suite, not a LanguageSuite")
    return SUITES[code]


def case_language(case_id: str) -> str:
    """The language of a case from its id: the prefix of a non-English id, else English."""
    prefix = case_id.split(".", 1)[0]
    return prefix if prefix in SUITES else ENGLISH


__all__ = [
    "ENGLISH",
    "LANGUAGES",
    "SUITES",
    "LanguageGroup",
    "LanguageSuite",
    "case_language",
    "check_language",
    "language_suite",
]
