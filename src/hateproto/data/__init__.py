"""Datasets: the six benchmarks under two protocols, user tables and a built-in sample.

Everything returns :class:`LabeledTexts` (texts, 0/1 labels with 1 = hate, metadata, notes).

Example:
    >>> from hateproto.data import load_sample, sample_per_class
    >>> few = sample_per_class(load_sample("train"), n=2, seed=0)
    >>> len(few)
    4
"""

from hateproto.data.benchmarks import BENCHMARKS, PROTOCOLS, load_benchmark
from hateproto.data.sample import load_sample
from hateproto.data.sampling import sample_per_class
from hateproto.data.stats import dataset_statistics, protocol_statistics, train_test_overlap
from hateproto.data.tables import load_table, read_table
from hateproto.data.types import LABEL_NAMES, LabeledTexts

__all__ = [
    "BENCHMARKS",
    "LABEL_NAMES",
    "PROTOCOLS",
    "LabeledTexts",
    "dataset_statistics",
    "load_benchmark",
    "load_sample",
    "load_table",
    "protocol_statistics",
    "read_table",
    "sample_per_class",
    "train_test_overlap",
]
