"""External sets scored beside the suite: counter-speech that NGO operators wrote (CONAN).

The suite's counter-speech is templated; CONAN's is written by people answering real hate.
Every text of it is non-hateful, so a detector's false positive rate on it shows how often it
punishes the people who speak up for hate's targets. It is reported in its own row of the
report (:class:`~hateproto.audit.report.ExternalResult`), never mixed into the suite's numbers.

The texts come from the CONAN family's leak-free splits
(:func:`hateproto.data.contrast_sources.load_conan`): the audit's ``test`` and ``all`` use
CONAN's held-out test split, its ``dev`` uses CONAN's dev split. They are benchmark data,
read from the data directory, and never become audit cases.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hateproto.audit.results import UNSPECIFIED_TARGET
from hateproto.audit.suite import SUITE_SEED, check_split
from hateproto.errors import ConfigError

if TYPE_CHECKING:  # hateproto.data loads pandas: only when a set is loaded or sampled
    from hateproto.data.types import LabeledTexts

#: Audit split -> the CONAN split whose counter-speech is scored beside it.
CONAN_SPLITS: dict[str, str] = {"dev": "dev", "test": "test", "all": "test"}


def conan_row_name(split: str, language: str = "en") -> str:
    """The report row of CONAN counter-speech for audit ``split`` (``conan_counter_test``;
    ``conan_counter_fr_test`` for French)."""
    infix = "" if language == "en" else f"{language}_"
    return f"conan_counter_{infix}{CONAN_SPLITS[check_split(split)]}"


def sample_by_target(
    data: LabeledTexts, max_texts: int | None, seed: int = SUITE_SEED
) -> LabeledTexts:
    """At most ``max_texts`` texts of ``data``, drawn without replacement keeping the share
    of every target (metadata ``target``; texts without one form their own stratum), in
    their original order; ``data`` itself when it is not larger."""
    from hateproto.data.sampling import stratified_indices

    if max_texts is None or max_texts >= len(data):
        return data
    if max_texts < 1:
        raise ConfigError(f"the external set needs at least 1 text, got {max_texts}")
    if "target" in data.metadata:
        column = data.metadata["target"]
        targets = np.array([t if isinstance(t, str) and t else UNSPECIFIED_TARGET for t in column])
    else:
        targets = np.zeros(len(data), dtype=np.int64)
    subset = data.subset(stratified_indices(targets, max_texts, seed))
    subset.notes.update(subsampled_from=len(data), subsample_seed=seed)
    return subset


def conan_counter(
    split: str = "test",
    data_dir: str | Path | None = None,
    max_texts: int | None = None,
    seed: int = SUITE_SEED,
    language: str = "en",
) -> LabeledTexts:
    """The counter-speech of CONAN's ``split`` in ``language`` (English by default; CONAN
    has French and Italian too), labels all 0, metadata ``target``, optionally capped at
    ``max_texts`` by :func:`sample_by_target`. Raises ``DataError`` when the data directory
    or the CONAN release is missing."""
    from hateproto.data.contrast_sources import load_conan

    data = load_conan(split, data_dir, roles=("counter",), language=language)
    return sample_by_target(data, max_texts, seed)


def conan_external(
    split: str,
    data_dir: str | Path | None = None,
    max_texts: int | None = None,
    seed: int = SUITE_SEED,
    language: str = "en",
) -> dict[str, LabeledTexts]:
    """``run_audit``'s ``external`` argument for audit ``split``: CONAN counter-speech in
    ``language`` under :func:`conan_row_name`."""
    data = conan_counter(CONAN_SPLITS[check_split(split)], data_dir, max_texts, seed, language)
    return {conan_row_name(split, language): data}
