"""Several datasets at once: weighted, de-duplicated, with splits that never share a text.

A *source* is a benchmark name (loaded under the ``general`` protocol, see
:mod:`hateproto.data.general`) or a user file (CSV/TSV/JSONL/parquet), with a sampling weight:
``"ihc,sbic:0.5,toxigen:2,posts.csv"``. :func:`load_mixture` returns one training set, one dev
set, and the test set of every source, such that

* no text (compared after :func:`hateproto.data.keys.normalise_text`) of any source's dev
  or test split, nor of any benchmark test split under its own protocols (what reports
  quote), is in the training set, and no test text is in the dev set;
* duplicates inside the training set are kept once; copies with conflicting labels are
  dropped;
* a source of weight ``w`` contributes ``round(w * n)`` training rows (``w < 1``: a seeded
  subsample, ``w > 1``: repeated rows), so that a large benchmark does not drown the others.

Every row carries metadata ``source``, ``target`` and ``group`` (:func:`canonical_group`).

Example:
    >>> parse_sources("ihc,sbic:0.5")
    [Source(name='ihc', weight=1.0), Source(name='sbic', weight=0.5)]
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hateproto.data.benchmarks import PROTOCOLS, load_benchmark
from hateproto.data.contrast_pairs import generate_contrast_pairs
from hateproto.data.contrast_pairs_languages import (
    CONTRAST_PAIR_SOURCES,
    CONTRAST_TWIN_SOURCES,
    generate_language_contrast_pairs,
)
from hateproto.data.contrast_sources import CONTRAST_SOURCES, load_contrast_source
from hateproto.data.general import GENERAL_DATASETS, load_general
from hateproto.data.groups import canonical_group
from hateproto.data.keys import split_of
from hateproto.data.keys import text_key as _key
from hateproto.data.multilingual_sources import MULTILINGUAL_SOURCES, load_multilingual_source
from hateproto.data.sampling import stratified_indices
from hateproto.data.tables import load_table
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError


@dataclass(frozen=True)
class Source:
    """One dataset of a mixture: a benchmark name or a table file, and its sampling weight."""

    name: str
    weight: float = 1.0

    @property
    def is_file(self) -> bool:
        """Whether this source is a user file rather than a named dataset."""
        return self.name not in NAMED_SOURCES or Path(self.name).is_file()


#: Every source known by name: the six benchmarks, the contrast data
#: (:mod:`hateproto.data.contrast_sources`), the non-English sources
#: (:mod:`hateproto.data.multilingual_sources`) and the generated minimal pairs
#: (:mod:`hateproto.data.contrast_pairs`) and their German, French and Spanish counterparts
#: (``contrast_pairs_de`` etc., and their frame twins ``contrast_twins_de`` etc.:
#: :mod:`hateproto.data.contrast_pairs_languages`).
NAMED_SOURCES: tuple[str, ...] = (
    *GENERAL_DATASETS,
    *CONTRAST_SOURCES,
    *MULTILINGUAL_SOURCES,
    "contrast_pairs",
    *CONTRAST_PAIR_SOURCES,
    *CONTRAST_TWIN_SOURCES,
)


def parse_sources(spec: str | list[str]) -> list[Source]:
    """``"ihc,sbic:0.5,posts.csv:2"`` (or a list of such items) -> sources with weights."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    sources = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        name, _, weight = item.rpartition(":") if _has_weight(item) else (item, "", "1")
        try:
            value = float(weight)
        except ValueError:
            raise DataError(f"source {item!r}: weight {weight!r} is not a number") from None
        if not value > 0:
            raise DataError(f"source {item!r}: the weight must be > 0, got {value}")
        sources.append(Source(name, value))
    if not sources:
        raise DataError("no data sources given (e.g. --data ihc,olid,hatexplain,sbic)")
    names = [s.name for s in sources]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"source(s) given twice: {', '.join(repeated)}")
    return sources


def _has_weight(item: str) -> bool:
    return re.fullmatch(r".+:[0-9.eE+-]+", item) is not None and not Path(item).exists()


@dataclass
class Mixture:
    """What :func:`load_mixture` returns."""

    train: LabeledTexts
    dev: LabeledTexts
    tests: dict[str, LabeledTexts]
    report: dict[str, dict[str, int]] = field(default_factory=dict)


def _with_meta(data: LabeledTexts, source: str) -> LabeledTexts:
    meta = data.metadata.copy() if len(data.metadata) else pd.DataFrame(index=range(len(data)))
    target = meta["target"] if "target" in meta else pd.Series([None] * len(data))
    meta["source"] = source
    meta["target"] = target.tolist()
    meta["group"] = [canonical_group(t) for t in target.tolist()]
    return LabeledTexts(
        data.texts, data.labels, source, data.protocol, data.split, meta.reset_index(drop=True)
    )


def _load_source(
    source: Source,
    data_dir: str | Path | None,
    seed: int,
    columns: tuple[str, str],
    protocol: str = "general",
) -> dict[str, LabeledTexts]:
    if source.is_file:
        if not Path(source.name).is_file():
            raise DataError(
                f"unknown data source {source.name!r}: not a file, and not one of "
                f"{', '.join(NAMED_SOURCES)}"
            )
        table = load_table(source.name, columns[0], columns[1], split="all")
        splits = _split_table(table, seed)
    else:
        splits = {s: _load_named(source.name, s, data_dir, protocol) for s in _SPLITS}
    label = Path(source.name).stem if source.is_file else source.name
    return {split: _with_meta(data, label) for split, data in splits.items()}


_SPLITS = ("train", "dev", "test")


def _load_named(name: str, split: str, data_dir: str | Path | None, protocol: str) -> LabeledTexts:
    """A split of a named source: a benchmark under ``protocol``, a contrast source, or the
    generated pairs (which have no ``test`` split: the functional audit tests them)."""
    if name == "contrast_pairs":
        return generate_contrast_pairs(split)
    if name in CONTRAST_PAIR_SOURCES:
        return generate_language_contrast_pairs(CONTRAST_PAIR_SOURCES[name], split, include="pairs")
    if name in CONTRAST_TWIN_SOURCES:
        return generate_language_contrast_pairs(CONTRAST_TWIN_SOURCES[name], split, include="twins")
    if name in CONTRAST_SOURCES:
        return load_contrast_source(name, split, data_dir)
    if name in MULTILINGUAL_SOURCES:
        return load_multilingual_source(name, split, data_dir)
    if protocol == "general":
        return load_general(name, split, data_dir)
    return load_benchmark(name, split, protocol, data_dir)


def _split_table(table: LabeledTexts, seed: int) -> dict[str, LabeledTexts]:
    """A user file: seeded 80/10/10 train/dev/test by normalised text (copies stay together)."""
    keys = [_key(t) for t in table.texts]
    unique = sorted(set(keys))
    rng = np.random.default_rng(seed)
    draw = dict(zip(unique, rng.random(len(unique)), strict=True))
    which = np.array([split_of(draw[k]) for k in keys])
    return {s: select_rows(table, np.flatnonzero(which == s), s) for s in ("train", "dev", "test")}


def select_rows(data: LabeledTexts, rows: np.ndarray, split: str | None = None) -> LabeledTexts:
    """The rows ``rows`` of ``data`` (texts, labels and metadata), optionally renamed split."""
    meta = data.metadata.iloc[rows].reset_index(drop=True) if len(data.metadata) else None
    return LabeledTexts(
        [data.texts[i] for i in rows],
        data.labels[rows],
        data.name,
        data.protocol,
        split or data.split,
        meta if meta is not None else pd.DataFrame(),
        dict(data.notes),
    )


def _benchmark_test_keys(names: list[str], data_dir: str | Path | None) -> set[str]:
    """Texts of every benchmark test split under its papers' protocols (reports quote those)."""
    keys: set[str] = set()
    for protocol, datasets in PROTOCOLS.items():
        for name in datasets:
            if name in names:
                keys |= {_key(t) for t in load_benchmark(name, "test", protocol, data_dir).texts}
    return keys


def _dedupe_train(data: LabeledTexts, banned: set[str], counts: Counter) -> np.ndarray:
    """Rows of ``data`` to keep: not banned, one per text, texts with conflicting labels
    dropped."""
    keys = [_key(t) for t in data.texts]
    labels_of: dict[str, set[int]] = {}
    for key, label in zip(keys, data.labels.tolist(), strict=True):
        labels_of.setdefault(key, set()).add(label)
    seen: set[str] = set()
    keep = []
    for row, key in enumerate(keys):
        if key in banned:
            counts["removed_in_dev_or_test"] += 1
        elif len(labels_of[key]) > 1:
            counts["removed_conflicting_labels"] += 1
        elif key in seen:
            counts["removed_duplicates"] += 1
        else:
            seen.add(key)
            keep.append(row)
    return np.asarray(keep, dtype=np.int64)


def _weighted(data: LabeledTexts, weight: float, rng: np.random.Generator) -> np.ndarray:
    n = len(data)
    wanted = max(1, round(weight * n)) if n else 0
    if wanted <= n:
        return np.sort(rng.choice(n, size=wanted, replace=False))
    extra = rng.choice(n, size=wanted - n, replace=True)
    return np.concatenate([np.arange(n), extra])


def concat(parts: list[LabeledTexts], name: str, split: str) -> LabeledTexts:
    """One :class:`LabeledTexts` from several (metadata columns united)."""
    metas = [p.metadata if len(p.metadata) else pd.DataFrame(index=range(len(p))) for p in parts]
    return LabeledTexts(
        [t for p in parts for t in p.texts],
        np.concatenate([p.labels for p in parts]) if parts else np.zeros(0, np.int64),
        name,
        "mixture",
        split,
        pd.concat(metas, ignore_index=True) if parts else pd.DataFrame(),
    )


def load_mixture(
    sources: list[Source],
    data_dir: str | Path | None = None,
    seed: int = 0,
    max_dev_per_source: int | None = 2000,
    text_column: str = "text",
    label_column: str = "label",
    protocol: str = "general",
) -> Mixture:
    """Train, dev and per-source test sets of a mixture (see the module docstring).

    Args:
        sources: from :func:`parse_sources`.
        max_dev_per_source: stratified cap on each source's dev rows (dev is used for model
            selection and calibration; ``None`` keeps all).
        text_column, label_column: columns of user files.
        protocol: labels and splits of the benchmark sources: ``general`` (one definition of
            hate for all six) or one of the papers' protocols, such as ``hateprototypes``.
    """
    columns = (text_column, label_column)
    loaded = {s.name: _load_source(s, data_dir, seed, columns, protocol) for s in sources}
    test_keys = {_key(t) for splits in loaded.values() for t in splits["test"].texts}
    benchmarks = [s.name for s in sources if s.name in GENERAL_DATASETS]
    test_keys |= _benchmark_test_keys(benchmarks, data_dir)
    dev_keys = {_key(t) for splits in loaded.values() for t in splits["dev"].texts}
    rng = np.random.default_rng(seed)
    trains, devs, report = [], [], {}
    seen_train: set[str] = set()
    for source in sources:
        splits = loaded[source.name]
        counts: Counter = Counter(loaded_train=len(splits["train"]))
        train = splits["train"]
        train = select_rows(train, _dedupe_train(train, test_keys | dev_keys | seen_train, counts))
        seen_train |= {_key(t) for t in train.texts}
        train = select_rows(train, _weighted(train, source.weight, rng))
        dev = splits["dev"]
        dev_rows = [i for i, t in enumerate(dev.texts) if _key(t) not in test_keys]
        counts["dev_removed_in_test"] = len(dev) - len(dev_rows)
        dev = select_rows(dev, np.asarray(dev_rows, dtype=np.int64))
        if max_dev_per_source is not None and len(dev) > max_dev_per_source:
            dev = select_rows(dev, stratified_indices(dev.labels, max_dev_per_source, seed))
        counts.update(train=len(train), dev=len(dev), test=len(splits["test"]))
        report[train.name] = dict(counts)
        trains.append(train)
        devs.append(dev)
    tests = {s["test"].name: s["test"] for s in loaded.values() if len(s["test"])}
    return Mixture(
        concat(trains, "mixture", "train"), concat(devs, "mixture", "dev"), tests, report
    )
