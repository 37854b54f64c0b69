"""A detector's moderation policy record: where its examples came from, and its version.

``detector.json`` ``metadata.policy`` holds::

    version          1 for a built detector, +1 for each `detector adapt`
    parent_version   the version adapted from (None for a build)
    parent           the folder adapted from (None for a build)
    sources          one record per example source: kind (benchmark/file), name, path,
                     sha256 (of the file; of the examples for a benchmark draw), examples per
                     class, weight, and the version that added it
    class_mass       per class, the sum over sources of weight x examples (what the next
                     `adapt --mode add` weighs the current prototypes by)
    history          one line per version: mode and the sources it added

Example:
    >>> policy_info({"policy": {"version": 2, "sources": []}}, 0.5, None)["version"]
    2
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from hateproto.data.types import LabeledTexts


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def text_sha256(text: str) -> str:
    """sha256 of a text (UTF-8); what a detector keeps when it may not keep the text.

    Example:
        >>> text_sha256("hi")[:12]
        '8f434346648f'
    """
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def examples_sha256(data: LabeledTexts) -> str:
    """sha256 of a set of labelled examples (order-independent)."""
    rows = sorted(
        f"{int(label)}\t{text_sha256(text)}"
        for text, label in zip(data.texts, data.labels.tolist(), strict=True)
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def source_record(
    data: LabeledTexts, weight: float, path: str | Path | None = None
) -> dict[str, Any]:
    """The JSON record of one example source (``version`` is filled in when it is used)."""
    per_class = {str(c): int((data.labels == c).sum()) for c in (0, 1)}
    record: dict[str, Any] = {
        "kind": "file" if path is not None else "benchmark",
        "name": data.name,
        "split": data.split,
        "protocol": data.protocol,
        "path": None if path is None else str(Path(path).resolve()),
        "sha256": file_sha256(path) if path is not None else examples_sha256(data),
        "examples_sha256": examples_sha256(data),
        "examples": len(data),
        "per_class": per_class,
        "weight": weight,
    }
    return record


def current_policy(metadata: dict[str, Any]) -> dict[str, Any]:
    """``metadata["policy"]``, or the record a detector built before policies implies."""
    policy = metadata.get("policy")
    if isinstance(policy, dict):
        return policy
    built = metadata.get("built_from") or {}
    return {
        "version": 0,
        "parent_version": None,
        "parent": None,
        "sources": [],
        "history": [{"version": 0, "mode": "build", "sources": [built.get("dataset")]}]
        if built
        else [],
    }


def policy_info(
    metadata: dict[str, Any], threshold: float, calibration: Any | None
) -> dict[str, Any]:
    """What ``Detector.info()`` (and so ``/v1/info``) says about the policy: version, sources,
    decision threshold and calibration error."""
    policy = current_policy(metadata)
    return {
        "version": policy.get("version", 0),
        "policy": {
            "version": policy.get("version", 0),
            "parent_version": policy.get("parent_version"),
            "sources": policy.get("sources", []),
        },
        "decision_threshold": threshold,
        "calibration_error": None if calibration is None else calibration.dev.get("ece"),
    }
