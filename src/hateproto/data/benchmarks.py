"""Load the six hate speech benchmarks under the two protocols the papers use.

Two protocols (see the project's shared ``README.md``):

* ``hateprototypes``: IHC, SBIC, OLID, HateXplain as in the HatePrototypes paper (Table 1).
  IHC and OLID are split here with a seeded random permutation; HateXplain uses its official
  split; SBIC uses the raw release splits aggregated to one row per post.
* ``ocampo2023``: the processed IHC, SBIC, DynaHate and ToxiGen splits of Ocampo et al. (2023).

Files are read at run time from the data directory (``--data-dir``, ``$HATEPROTO_DATA`` or
``../shared/datasets``); nothing is bundled. Every result carries metadata columns
``category`` and ``target`` (``None`` where unknown) and ``notes["source_files"]``.

This module holds the protocols, split names and :func:`load_benchmark`; the per-benchmark
readers live in :mod:`hateproto.data.benchmark_readers` and their shared file and split
helpers in :mod:`hateproto.data.benchmark_files`.

Example:
    >>> from hateproto.data import load_benchmark
    >>> test = load_benchmark("ihc", "test", protocol="hateprototypes")  # doctest: +SKIP
    >>> len(test), round(test.hate_fraction, 3)  # doctest: +SKIP
    (3059, 0.35)
"""

from __future__ import annotations

from pathlib import Path

from hateproto.data.benchmark_readers import HATEXPLAIN_CLASSES, LOADERS, hatexplain_text
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError
from hateproto.paths import resolve_data_dir

__all__ = [
    "BENCHMARKS",
    "HATEXPLAIN_CLASSES",
    "PROTOCOLS",
    "SPLITS",
    "canonical_split",
    "hatexplain_text",
    "load_benchmark",
]

#: Datasets of each protocol.
PROTOCOLS: dict[str, tuple[str, ...]] = {
    "hateprototypes": ("ihc", "sbic", "olid", "hatexplain"),
    "ocampo2023": ("ihc", "sbic", "dynahate", "toxigen"),
}
#: Every dataset name :func:`load_benchmark` knows.
BENCHMARKS: tuple[str, ...] = ("ihc", "sbic", "olid", "hatexplain", "dynahate", "toxigen")
#: Canonical split names.
SPLITS: tuple[str, ...] = ("train", "dev", "test")
_SPLIT_ALIASES = {"val": "dev", "validation": "dev"}


def canonical_split(split: str) -> str:
    """Return ``train``, ``dev`` or ``test`` for ``split`` (``val``/``validation`` mean ``dev``).

    Example:
        >>> canonical_split("validation")
        'dev'
    """
    key = _SPLIT_ALIASES.get(split.lower(), split.lower())
    if key not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)} (or val)")
    return key


def _check_choice(name: str, protocol: str) -> None:
    """Raise a :class:`DataError` listing the valid protocols or datasets."""
    if protocol not in PROTOCOLS:
        raise DataError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if name not in PROTOCOLS[protocol]:
        where = "unknown dataset" if name not in BENCHMARKS else "dataset not in this protocol:"
        raise DataError(
            f"{where} {name!r} for protocol {protocol!r}; "
            f"choose one of {', '.join(PROTOCOLS[protocol])}"
        )


def data_root(data_dir: str | Path | None) -> Path:
    """Resolve the data directory or explain how to give one."""
    root = resolve_data_dir(data_dir)
    if root is None:
        raise DataError(
            "no data directory: pass --data-dir DIR (data_dir=... in Python) or set "
            "HATEPROTO_DATA to the folder holding ihc/, olid/, hatexplain/, sbic/, dynahate/, "
            "toxigen/ (no ../shared/datasets was found beside the checkout)"
        )
    return root


def load_benchmark(
    name: str,
    split: str = "train",
    protocol: str = "hateprototypes",
    data_dir: str | Path | None = None,
    seed: int = 42,
) -> LabeledTexts:
    """Load one split of a benchmark under a protocol.

    Args:
        name: ``ihc``, ``sbic``, ``olid``, ``hatexplain`` (hateprototypes) or ``ihc``,
            ``sbic``, ``dynahate``, ``toxigen`` (ocampo2023).
        split: ``train``, ``dev`` or ``test`` (``val``/``validation`` are aliases of ``dev``).
        protocol: ``hateprototypes`` or ``ocampo2023``.
        data_dir: folder holding the datasets; default ``$HATEPROTO_DATA`` or
            ``../shared/datasets``.
        seed: seed of the random IHC (70/15/15) and OLID (70/30 train/dev) splits of the
            hateprototypes protocol; ignored elsewhere.

    Returns:
        :class:`LabeledTexts` with metadata columns ``category`` and ``target`` and
        ``notes["source_files"]``.

    Raises:
        DataError: unknown name/protocol/split, no data directory, or a missing file.

    Example:
        >>> train = load_benchmark("olid", "train")  # doctest: +SKIP
        >>> len(train)  # doctest: +SKIP
        9268
    """
    _check_choice(name, protocol)
    split = canonical_split(split)
    root = data_root(data_dir)
    return LOADERS[(protocol, name)](root, split, seed)
