"""The check every text passes before a model reads it."""

from __future__ import annotations

from collections.abc import Sequence

from hateproto.errors import ModelError

__all__ = ["validate_texts"]


def validate_texts(texts: Sequence[str]) -> list[str]:
    """Check that ``texts`` is a non-empty list of non-empty strings; return it as a list."""
    if isinstance(texts, str):
        raise ModelError("expected a list of texts, got a single string")
    texts = list(texts)
    if not texts:
        raise ModelError("no texts given")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ModelError(f"text {i} is {type(text).__name__}, not a string")
        if not text.strip():
            raise ModelError(f"text {i} is empty")
    return texts
