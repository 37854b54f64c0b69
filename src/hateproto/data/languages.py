"""Which language a short text (a comment) is in: ISO 639-1 codes, most likely first.

The Perspective endpoint answers ``detectedLanguages`` with :func:`detect_languages` and,
when a request names no ``languages``, scores the comment as its first detected language.

The identifier is py3langid (naive Bayes over byte n-grams, the langid.py model; its model
ships inside the wheel, nothing is downloaded), restricted to :data:`CANDIDATES`, the
languages common in online comments: on short comments the restriction is more accurate than
its 97 languages (many of them rare), which mistake two-word English or Italian for Volapük or
Basque. It is loaded once per process, on first use (about 0.4 s, about 100 MB at the peak);
a call then takes well under a millisecond.

Example:
    >>> detect_languages("Thanks for sharing, this is a great article!")
    ['en']
    >>> detect_languages("12345 !!!")
    []
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

CANDIDATES: tuple[str, ...] = (
    *("af", "ar", "bg", "bn", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi"),
    *("fr", "he", "hi", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "nl", "no"),
    *("pl", "pt", "ro", "ru", "sk", "sl", "sq", "sr", "sv", "sw", "ta", "th", "tl", "tr"),
    *("uk", "ur", "vi", "zh"),
)
"""The languages a text can be identified as (ISO 639-1)."""

SURE = 0.5
"""A top probability at least this high is a sure identification."""

MIN_SHARE = 0.1
"""A language after the first is reported when at least this probable."""

MOST = 3
"""At most this many languages are reported (and looked at for a preferred one)."""


@cache
def identifier() -> Any:
    """The py3langid identifier over :data:`CANDIDATES` (loaded once, on first use)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    return identifier


def language_probabilities(text: str) -> list[tuple[str, float]]:
    """``(code, probability)`` of every candidate language, most likely first; empty when
    the text gives no evidence (no letter, or no letter sequence the model knows: the
    probabilities would be uniform)."""
    if not any(character.isalpha() for character in text):
        return []
    ranked = [(code, float(p)) for code, p in identifier().rank(text)]
    top, lowest = ranked[0][1], ranked[-1][1]
    if top <= 2 * lowest + 1e-9:  # uniform (one label counts twice in py3langid's model)
        return []
    return ranked


def detect_languages(text: str, prefer: Iterable[str] = ()) -> list[str]:
    """The languages ``text`` is most likely in, most likely first (at most :data:`MOST`;
    after the first, only those at least :data:`MIN_SHARE` probable); ``[]`` when it cannot
    be identified.

    ``prefer``: languages to put first when the identification is unsure (top probability
    under :data:`SURE`) and one of them is among the :data:`MOST` most likely, e.g. the
    languages a detector serves: "shut up" is Swedish by a nose, English by what is served.

    Example:
        >>> detect_languages("shut up", prefer=["en"])[0]
        'en'
    """
    ranked = language_probabilities(text)[:MOST]
    if not ranked:
        return []
    wanted = {primary_language(code) for code in prefer}
    if ranked[0][1] < SURE:
        preferred = [item for item in ranked if item[0] in wanted]
        if preferred:
            ranked.remove(preferred[0])
            ranked.insert(0, preferred[0])
    return [ranked[0][0]] + [code for code, p in ranked[1:] if p >= MIN_SHARE]


def primary_language(code: str) -> str:
    """The ISO 639 part of an ISO or BCP-47 code, lower case: ``"en-US"`` → ``"en"``,
    ``"zh_Hant"`` → ``"zh"``.

    Example:
        >>> primary_language("pt-BR"), primary_language(" EN ")
        ('pt', 'en')
    """
    return code.strip().replace("_", "-").split("-")[0].lower()


def unsupported_languages(languages: Iterable[str], served: Iterable[str]) -> list[str]:
    """The codes of ``languages`` whose language is not among ``served`` (compared by
    :func:`primary_language`).

    Example:
        >>> unsupported_languages(["en-GB", "de"], ["en"])
        ['de']
    """
    known = {primary_language(code) for code in served}
    return [code for code in languages if primary_language(code) not in known]
