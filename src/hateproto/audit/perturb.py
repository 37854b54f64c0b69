"""Spelling variants: deterministic perturbations of the key term of a hateful case.

Each function takes the text, the character span of the key term and a seeded
:class:`random.Random`, and returns a text that differs from the input.
"""

from __future__ import annotations

import random
from collections.abc import Callable

LEET = {"a": "4", "e": "3", "i": "1", "o": "0"}
LEET_FALLBACK = {"s": "5", "t": "7", "l": "1", "g": "9"}

Span = tuple[int, int]
Perturbation = Callable[[str, Span, random.Random], str]


def _word_span(text: str, span: Span) -> Span:
    """The longest word inside ``span`` (a multi-word key term is perturbed in one word)."""
    start, end = span
    best, position = (start, end), start
    longest = -1
    for word in text[start:end].split(" "):
        if len(word) > longest:
            best, longest = (position, position + len(word)), len(word)
        position += len(word) + 1
    return best


def char_swap(text: str, span: Span, rng: random.Random) -> str:
    """Swap two adjacent, different letters of the key word ("vermin" -> "vremin")."""
    start, end = _word_span(text, span)
    word = text[start:end]
    choices = [i for i in range(len(word) - 1) if word[i] != word[i + 1] and word[i].isalpha()]
    if not choices:
        return text[:start] + word + word[-1:] + text[end:]
    i = rng.choice(choices)
    swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return text[:start] + swapped + text[end:]


def missing_space(text: str, span: Span, rng: random.Random) -> str:
    """Remove the space before the key word (or after it when it opens the text)."""
    start, end = _word_span(text, span)
    if start > 0 and text[start - 1] == " ":
        return text[: start - 1] + text[start:]
    if end < len(text) and text[end] == " ":
        return text[:end] + text[end + 1 :]
    return text.replace(" ", "", 1) if " " in text else text + text[-1]


def extra_space(text: str, span: Span, rng: random.Random) -> str:
    """Insert a space inside the key word ("vermin" -> "ver min")."""
    start, end = _word_span(text, span)
    if end - start < 2:
        return text[:end] + " " + text[end:]
    cut = rng.randint(start + 1, end - 1)
    return text[:cut] + " " + text[cut:]


def leetspeak(text: str, span: Span, rng: random.Random) -> str:
    """Replace the vowels of the key word by look-alike digits ("vermin" -> "v3rm1n");
    a word without vowels gets s, t, l, g replaced instead."""
    start, end = _word_span(text, span)
    word = text[start:end]
    replaced = "".join(LEET.get(ch.lower(), ch) for ch in word)
    if replaced == word:
        replaced = "".join(LEET_FALLBACK.get(ch.lower(), ch) for ch in word)
    if replaced == word:
        replaced = word + "_"
    return text[:start] + replaced + text[end:]


#: Functionality name -> perturbation.
PERTURBATIONS: dict[str, Perturbation] = {
    "spelling_char_swap": char_swap,
    "spelling_missing_space": missing_space,
    "spelling_extra_space": extra_space,
    "spelling_leetspeak": leetspeak,
}
