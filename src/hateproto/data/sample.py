"""A tiny built-in labelled sample (60 short posts written for hateproto, not from any dataset).

It exists so that examples, smoke tests and ``quickstart`` work without any download. Hateful
posts target made-up groups (Velorians, Drenni, Marren...) or generic ones (newcomers,
foreigners) and include implicit, coded ones; the non-hateful posts often mention real or
made-up groups neutrally, so false positives on group mentions show up.

Example:
    >>> from hateproto.data import load_sample
    >>> train = load_sample("train")
    >>> len(train), train.hate_fraction
    (40, 0.5)
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pandas as pd

from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError

SAMPLE_SPLITS: tuple[str, ...] = ("train", "test", "all")


def _sample_records() -> list[dict[str, object]]:
    """Read the packaged ``sample.jsonl``."""
    content = resources.files("hateproto.data").joinpath("sample.jsonl").read_text("utf-8")
    return [json.loads(line) for line in content.splitlines() if line.strip()]


def load_sample(split: str = "train") -> LabeledTexts:
    """Load the built-in sample: ``train`` (40 posts), ``test`` (20) or ``all`` (60).

    Both splits are balanced (half hate). Metadata column ``target`` names the group a post
    is about (``none`` when it is about no group).
    """
    if split not in SAMPLE_SPLITS:
        raise DataError(f"unknown sample split {split!r}; choose one of {', '.join(SAMPLE_SPLITS)}")
    records = [r for r in _sample_records() if split == "all" or r["split"] == split]
    return LabeledTexts(
        texts=[str(r["text"]) for r in records],
        labels=np.array([r["label"] for r in records], dtype=np.int64),
        name="sample",
        protocol="builtin",
        split=split,
        metadata=pd.DataFrame({"target": [r["target"] for r in records]}, dtype=object),
        notes={"source_files": ["hateproto/data/sample.jsonl (built in)"]},
    )
