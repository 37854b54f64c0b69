"""What makes a text unscorable: the one check shared by batch scoring and the service.

Example:
    >>> text_problem("fine"), text_problem("  "), text_problem("bad \\udc80")
    (None, 'text is empty', 'text has an unpaired surrogate (U+DC80) at character 4')
"""

from __future__ import annotations

import math

import pandas as pd


def text_problem(text: object) -> str | None:
    """Why ``text`` cannot be scored (missing, not a string, empty, not valid Unicode), or
    ``None`` when it can."""
    if isinstance(text, str):
        if not text.strip():
            return "text is empty"
        return unicode_problem(text)
    if text is None or text is pd.NA or (isinstance(text, float) and math.isnan(text)):
        return "text is missing"
    return f"text is {type(text).__name__}, not a string"


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
