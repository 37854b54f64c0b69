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


def hash_fraction(key: str) -> float:
    """A number in [0, 1) drawn from the SHA-256 of ``key``: a split that depends on the
    key only, not on row order or a seed."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) / 16**8


def split_of(draw: float) -> str:
    """``train`` (draw < 0.8), ``dev`` (< 0.9) or ``test``: an 80/10/10 split of draws."""
    return "train" if draw < 0.8 else "dev" if draw < 0.9 else "test"


def text_key(text: str) -> str:
    """A short hash of :func:`normalise_text` (equal for copies that differ only in case,
    punctuation, URLs or mentions)."""
    return hashlib.sha1(normalise_text(text).encode("utf-8")).hexdigest()
