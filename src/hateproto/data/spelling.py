"""Spelling obfuscation: undo the common tricks before scoring, and simulate them in training.

Posts dodge filters with leetspeak (``h4te``, ``v3rm1n``), letters spaced out (``h a t e``),
invisible characters and stretched letters (``soooo``). :func:`deobfuscate` undoes those that
can be undone without a dictionary; a detector built with ``normalize: deobfuscate`` records
it in its settings and applies it to every text it scores, exactly as its training texts were
treated. Swapped or dropped letters (``hte``, ``hat``) and words run together cannot be
undone safely; :func:`obfuscate` simulates them (and the others) on training posts so that the
model learns to read through them.

Example:
    >>> deobfuscate("they are v3rm1n, k i l l them all")
    'they are vermin, kill them all'
    >>> deobfuscate("sooooo good, 2day at 10")
    'soo good, 2day at 10'
"""

from __future__ import annotations

import random
import re

_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]")
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET_WORD = re.compile(r"(?<![\w@$])(?=[\w@$]*[A-Za-z])(?=[\w@$]*[0134579@$])[\w@$]{3,}")
_SPACED = re.compile(r"(?<!\w)(?:[A-Za-z] ){2,}[A-Za-z](?!\w)")
_STRETCHED = re.compile(r"([A-Za-z])\1{2,}")

NORMALIZERS = ("none", "deobfuscate")
"""Values of a detector's ``normalize`` setting."""


def _unleet(match: re.Match[str]) -> str:
    """Spell out the leet characters of a word that sit between letters (or other leet
    characters); a leading ``$``/``@`` before a letter too. ``covid19``, ``b4`` stay."""
    word = match.group(0)
    if sum(c.isalpha() for c in word) < 2:
        return word

    def readable(i: int) -> bool:
        return 0 <= i < len(word) and (word[i].isalpha() or word[i] in _LEET)

    letters = sum(c.isalpha() for c in word)
    out = []
    for i, c in enumerate(word):
        inside = readable(i - 1) and readable(i + 1)
        leading = i == 0 and c in "$@" and readable(i + 1)
        final = i == len(word) - 1 and letters >= 3 and readable(i - 1) and readable(i - 2)
        out.append(_LEET[c] if c in _LEET and (inside or leading or final) else c)
    return "".join(out)


def deobfuscate(text: str) -> str:
    """``text`` with invisible characters removed, leetspeak words spelled out, spaced-out
    letters joined and letters repeated 3+ times cut to two."""
    text = _INVISIBLE.sub("", text)
    text = _LEET_WORD.sub(_unleet, text)
    text = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    return _STRETCHED.sub(r"\1\1", text)


def normalizer(name: str):  # noqa: ANN201 (a callable str -> str)
    """The text function of a ``normalize`` setting (``none``: the identity)."""
    if name not in NORMALIZERS:
        raise ValueError(f"unknown normalize {name!r}; use one of {', '.join(NORMALIZERS)}")
    return deobfuscate if name == "deobfuscate" else _identity


def _identity(text: str) -> str:
    return text


_REVERSE_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def obfuscate(text: str, rng: random.Random) -> str:
    """``text`` with one word (the longest of a few drawn) disguised by one of: swapped
    letters, a dropped letter, a doubled letter, leetspeak, spaced letters, or the space
    before it removed."""
    words = [m for m in re.finditer(r"[A-Za-z]{4,}", text)]
    if not words:
        return text
    word = max(rng.sample(words, min(3, len(words))), key=lambda m: len(m.group(0)))
    start, end, w = word.start(), word.end(), word.group(0)
    trick = rng.choice(("swap", "drop", "double", "leet", "spaced", "join"))
    i = rng.randrange(1, len(w) - 1)
    if trick == "leet" and not set(w.lower()) & set(_REVERSE_LEET):
        trick = "double"
    if trick == "swap" and w[i] == w[i + 1]:
        trick = "drop"
    if trick == "swap":
        new = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif trick == "drop":
        new = w[:i] + w[i + 1 :]
    elif trick == "double":
        new = w[:i] + w[i] * 3 + w[i + 1 :]
    elif trick == "leet":
        new = "".join(_REVERSE_LEET.get(c, c) for c in w)
    elif trick == "spaced":
        new = " ".join(w)
    else:  # run the word into its neighbour
        new = w
        if start > 0 and text[start - 1] == " ":
            start -= 1
        elif end < len(text) and text[end] == " ":
            end += 1
        else:
            new = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    return text[:start] + new + text[end:]
