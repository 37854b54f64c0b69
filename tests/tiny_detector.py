"""Helpers shared by the detector, classify, service and Ray tests: a detector on the tiny
random BERT from ``conftest.tiny_encoder_dir`` (nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hateproto.data.types import LabeledTexts
from hateproto.detector import Detector, DetectorSettings, build_detector

HATE = [
    "they are vermin go back home",
    "immigrants are dirty criminals",
    "those people are evil and lazy",
    "they should not be in our country",
    "muslims are bad people",
    "jews are vermin",
]
NOT_HATE = [
    "the weather is great today",
    "welcome neighbours and friends",
    "we love football game",
    "our city is kind to new people",
    "women deserve equal rights",
    "good game today",
]


def tiny_train() -> LabeledTexts:
    """Twelve labelled posts in the tiny tokenizer's vocabulary."""
    return LabeledTexts(HATE + NOT_HATE, np.array([1] * len(HATE) + [0] * len(NOT_HATE)), "tiny")


def tiny_detector(model_dir: Path, **settings: object) -> Detector:
    """A prototype detector (all 3 layers, decision on the last) on the tiny BERT."""
    return build_detector(
        str(model_dir),
        tiny_train(),
        per_class=None,
        decision_layer=None,
        settings=DetectorSettings(**settings),
    )


def rehash(folder: Path) -> None:
    """Record the current sha256 of every file of a detector folder in its ``detector.json``,
    as a deliberate editor would: tests that damage one file on purpose call this so that
    the file's own checks are reached, not only the manifest's."""
    import json

    from hateproto.detector.artifact import file_hashes

    manifest = json.loads((folder / "detector.json").read_text())
    manifest["files"] = file_hashes(folder)
    (folder / "detector.json").write_text(json.dumps(manifest))
