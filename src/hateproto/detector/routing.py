"""Language routing: a detector that hands the posts of some languages to another detector.

A multilingual detector can be worse on English than the English detector. A *routed*
detector keeps both: every post's language is identified (:func:`hateproto.data.languages.
detect_languages`, preferring the languages the detector serves when unsure), the posts of a
routed language are scored by that language's detector, the others by the detector itself,
and the rows are put back in order. Each post's identified language is answered in the
``language`` field of its result.

The routed detectors live inside the folder (``routes/<language>/``, each a detector folder
of its own, every file hashed in the outer ``detector.json``), so the folder stays one
self-contained, versioned artifact. Build one with ``hateproto detector route``.

Example:
    >>> route_rows(["en", "de", "", "en"], ["en"])
    {'en': [0, 3], '': [1, 2]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from hateproto.data.languages import detect_languages, primary_language
from hateproto.detector.results import Scores
from hateproto.errors import ConfigError

ROUTES_DIR = "routes"
"""The folder inside a detector folder that holds its routed detectors."""


def identify_languages(texts: Sequence[str], prefer: Sequence[str]) -> list[str]:
    """The most likely language of each text (``""`` when none can be identified)."""
    out = []
    for text in texts:
        found = detect_languages(text, prefer)
        out.append(found[0] if found else "")
    return out


def route_rows(languages: Sequence[str], routed: Sequence[str]) -> dict[str, list[int]]:
    """Row indices per routed language, and under ``""`` the rows the detector keeps."""
    rows: dict[str, list[int]] = {}
    wanted = {primary_language(code) for code in routed}
    for index, language in enumerate(languages):
        key = language if language in wanted else ""
        rows.setdefault(key, []).append(index)
    return rows


def merge_scores(parts: Mapping[str, tuple[list[int], Scores]], n: int) -> Scores:
    """One :class:`Scores` of ``n`` rows from the parts scored by different detectors."""
    first = next(iter(parts.values()))[1]
    labels = np.zeros(n, dtype=np.asarray(first.labels).dtype)
    proba = np.zeros((n, 2), dtype=np.float64)
    margins = np.zeros(n, dtype=np.float64)
    exit_layers = np.zeros(n, dtype=np.int64)
    names = set.intersection(*(set(s.attributes or {}) for _, s in parts.values()))
    attributes = {name: np.zeros(n, dtype=np.float64) for name in sorted(names)}
    for rows, scores in parts.values():
        labels[rows] = scores.labels
        proba[rows] = scores.proba
        margins[rows] = scores.margins
        exit_layers[rows] = scores.exit_layers
        for name in attributes:
            attributes[name][rows] = np.asarray((scores.attributes or {})[name])
    return Scores(labels, proba, margins, exit_layers, attributes or None)


def routed_scores(
    texts: list[str],
    served: Sequence[str],
    own: Callable[[list[str], list[str]], Scores],
    routes: Mapping[str, Any],
) -> Scores:
    """Scores of ``texts``: ``own(texts, their languages)`` for most,
    ``routes[language].score_arrays`` for the posts identified as a routed language;
    ``languages`` filled with what was identified."""
    languages = identify_languages(texts, served)
    parts = {}
    for language, rows in route_rows(languages, list(routes)).items():
        chosen = [texts[i] for i in rows]
        if language:
            scores = routes[language].score_arrays(chosen)
        else:
            scores = own(chosen, [languages[i] for i in rows])
        parts[language] = (rows, scores)
    merged = merge_scores(parts, len(texts))
    merged.languages = np.array(languages, dtype=object)
    return merged


def check_route(language: str, detector: Any, answered: Sequence[str]) -> str:
    """The route's language code, checked; the routed ``detector`` must answer every
    attribute in ``answered`` (the results of both are merged)."""
    code = primary_language(language)
    if not code.isalpha() or not 2 <= len(code) <= 3:
        raise ConfigError(f"route language {language!r} is not an ISO 639-1 code such as en")
    missing = [a for a in answered if a not in detector.facts().attributes]
    if missing:
        raise ConfigError(
            f"the detector for {code!r} does not answer {', '.join(missing)}, which the "
            "routing detector answers; route to a detector with the same attributes"
        )
    return code
