"""What makes a text unscorable: the one check shared by batch scoring and the service.

Example:
    >>> text_problem("fine"), text_problem("  "), text_problem("bad \\udc80")
    (None, 'text is empty', 'text has an unpaired surrogate (U+DC80) at character 4')
"""

from __future__ import annotations

import math

import pandas as pd

from hateproto.detector.inputs import content_problem, unicode_problem

__all__ = ["content_problem", "text_problem", "unicode_problem"]


def text_problem(text: object, max_chars: int | None = None) -> str | None:
    """Why ``text`` cannot be scored (missing, not a string, longer than ``max_chars``,
    empty, no visible character, not valid Unicode:
    :func:`hateproto.detector.inputs.content_problem`), or ``None``."""
    if isinstance(text, str):
        if max_chars is not None and len(text) > max_chars:
            return f"text has {len(text):,} characters; the limit is {max_chars:,} (--max-chars)"
        return content_problem(text)
    if text is None or text is pd.NA or (isinstance(text, float) and math.isnan(text)):
        return "text is missing"
    return f"text is {type(text).__name__}, not a string"
