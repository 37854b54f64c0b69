"""What makes a text unscorable by a detector: no visible content, or not valid Unicode.

One check, used by :meth:`Detector.score_arrays`, batch scoring (``classify``) and both
service endpoints, so that every entry point refuses the same texts. A post made only of
characters that show nothing (whitespace, zero-width space and joiners, BOM, NUL and other
controls, soft hyphen, U+180E, word joiner, combining marks without a base, Hangul fillers,
Braille blank) has no content to judge: any label for it would be noise.

Example:
    >>> content_problem("fine"), content_problem("\\u200b\\u2060")
    (None, 'text has no visible characters')
    >>> content_problem("a\\udc80")
    'text has an unpaired surrogate (U+DC80) at character 1'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from hateproto.errors import ModelError
from hateproto.models.texts import validate_texts

#: Categories that show nothing on their own: controls, format characters, separators,
#: combining marks (without a base), unassigned code points.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Cn"})
#: Letters and symbols that render blank.
_BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def is_visible(char: str) -> bool:
    """Whether ``char`` shows something by itself."""
    if char in _BLANK_CHARACTERS or char.isspace():
        return False
    return unicodedata.category(char) not in _INVISIBLE_CATEGORIES


def unicode_problem(text: str) -> str | None:
    """A lone UTF-16 surrogate (from a JSON ``"\\udc80"`` escape) cannot be encoded, so no
    tokenizer can read the text; say where it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"text has an unpaired surrogate (U+{ord(text[exc.start]):04X}) at character "
            f"{exc.start}"
        )
    return None


def content_problem(text: str) -> str | None:
    """Why the string ``text`` cannot be scored (empty, no visible character, not valid
    Unicode), or ``None`` when it can."""
    if not text.strip():
        return "text is empty"
    problem = unicode_problem(text)
    if problem is not None:
        return problem
    if not any(is_visible(char) for char in text):
        return "text has no visible characters"
    return None


def scorable_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list, after :func:`validate_texts` and
    :func:`content_problem` (a text with nothing visible, or an
    unpaired surrogate, is refused with its index: any label for it would be noise)."""
    texts = validate_texts(texts)
    for index, text in enumerate(texts):
        problem = content_problem(text)
        if problem is not None:
            raise ModelError(f"text {index} {problem.removeprefix('text ')}")
    return texts
