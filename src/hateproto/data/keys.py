"""The form in which texts are compared across datasets and splits (leak checks, dedupe).

Example:
    >>> normalise_text("  @user Hello,   WORLD!! http://x.y/z ")
    'hello world'
"""

from __future__ import annotations

import hashlib
import re

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_NON_WORD = re.compile(r"[^\w]+")


def normalise_text(text: str) -> str:
    """Lower case, no URLs or @-mentions, punctuation and runs of spaces collapsed."""
    text = _MENTION.sub(" ", _URL.sub(" ", text.lower()))
    return _NON_WORD.sub(" ", text).strip()


def text_key(text: str) -> str:
    """A short hash of :func:`normalise_text` (equal for copies that differ only in case,
    punctuation, URLs or mentions)."""
    return hashlib.sha1(normalise_text(text).encode("utf-8")).hexdigest()
