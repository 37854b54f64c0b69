"""The examples behind a detector's prototypes, for explanations by nearest examples.

A detector folder may hold ``examples.safetensors`` (``vectors`` ``[N, H]``: each example's
unit vector at the decision layer) and ``examples.json`` (format version, layer, the model
fingerprint, the tensor's sha256, and per example its ``id`` (``s<source>:<row>``), label,
sha256 of its text, source index, and the text itself only when it was built with
``--store-examples``). :meth:`ExampleBank.nearest` gives the ``k`` examples most
cosine-similar to a text's vector.

Example:
    >>> detector.explain("they are vermin", k=3).neighbours[0].label  # doctest: +SKIP
    'hate'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from safetensors.torch import load_file, save_file

from hateproto.data.types import LABEL_NAMES, LabeledTexts
from hateproto.detector.policy import text_sha256
from hateproto.errors import MismatchError, ModelError
from hateproto.outputs import atomic_write_text

EXAMPLES_TENSORS = "examples.safetensors"
EXAMPLES_SPEC = "examples.json"
FORMAT_VERSION = 1


class _ExampleRow(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str
    label: Literal[0, 1]
    sha256: str
    source: int = Field(ge=0)
    text: str | None = None


class ExamplesSpec(BaseModel):
    """The checked contents of ``examples.json``."""

    model_config = ConfigDict(extra="forbid", strict=True)
    format_version: Literal[1]
    layer: int = Field(ge=0)
    fingerprint: str
    stored_texts: int = Field(0, ge=0)
    tensor_sha256: str
    examples: list[_ExampleRow]


@dataclass(frozen=True)
class Neighbour:
    """One stored example near a text: its id, label, similarity, hash and (maybe) text."""

    rank: int
    id: str
    label: str
    similarity: float
    sha256: str
    source: int
    text: str | None = None


@dataclass
class ExampleBank:
    """Decision-layer vectors of the examples the prototypes were built from."""

    layer: int
    fingerprint: str
    vectors: torch.Tensor
    labels: np.ndarray
    ids: list[str]
    hashes: list[str]
    sources: list[int]
    texts: list[str | None]

    @classmethod
    def from_examples(
        cls,
        data: LabeledTexts,
        vectors: torch.Tensor,
        layer: int,
        fingerprint: str,
        source: int,
        store_texts: bool,
    ) -> ExampleBank:
        """A bank of ``data`` whose decision-layer vectors are ``vectors`` ``[N, H]``."""
        return cls(
            layer=layer,
            fingerprint=fingerprint,
            vectors=torch.nn.functional.normalize(vectors.float(), dim=-1).contiguous(),
            labels=np.asarray(data.labels, dtype=np.int64),
            ids=[f"s{source}:{row}" for row in range(len(data))],
            hashes=[text_sha256(text) for text in data.texts],
            sources=[source] * len(data),
            texts=list(data.texts) if store_texts else [None] * len(data),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def extend(self, other: ExampleBank) -> ExampleBank:
        """This bank followed by ``other``."""
        if (other.layer, other.fingerprint) != (self.layer, self.fingerprint):
            raise MismatchError(
                f"stored examples are vectors of layer {self.layer} of model "
                f"{self.fingerprint}; the new ones are of layer {other.layer} of "
                f"{other.fingerprint}"
            )
        return ExampleBank(
            self.layer,
            self.fingerprint,
            torch.cat([self.vectors, other.vectors]),
            np.concatenate([self.labels, other.labels]),
            self.ids + other.ids,
            self.hashes + other.hashes,
            self.sources + other.sources,
            self.texts + other.texts,
        )

    def nearest(self, vector: torch.Tensor, k: int = 5) -> list[Neighbour]:
        """The ``k`` examples most cosine-similar to ``vector`` ``[H]``, most similar first."""
        if k < 1 or len(self) == 0:
            return []
        unit = torch.nn.functional.normalize(vector.double().reshape(-1), dim=0)
        sims = self.vectors.double() @ unit
        top = torch.topk(sims, min(k, len(self)))
        return [
            Neighbour(
                rank=rank + 1,
                id=self.ids[i],
                label=LABEL_NAMES[int(self.labels[i])],
                similarity=round(float(value), 6),
                sha256=self.hashes[i],
                source=self.sources[i],
                text=self.texts[i],
            )
            for rank, (value, i) in enumerate(zip(top.values, top.indices.tolist(), strict=True))
        ]

    # ------------------------------------------------------------------ files
    def save(self, folder: Path) -> None:
        """Write ``examples.safetensors`` and ``examples.json`` into ``folder``."""
        tensor_path = folder / EXAMPLES_TENSORS
        save_file({"vectors": self.vectors.contiguous()}, str(tensor_path))
        examples = []
        for i in range(len(self)):
            row: dict[str, Any] = {
                "id": self.ids[i],
                "label": int(self.labels[i]),
                "sha256": self.hashes[i],
                "source": self.sources[i],
            }
            if self.texts[i] is not None:
                row["text"] = self.texts[i]
            examples.append(row)
        spec = {
            "format_version": FORMAT_VERSION,
            "layer": self.layer,
            "fingerprint": self.fingerprint,
            "stored_texts": sum(text is not None for text in self.texts),
            "tensor_sha256": _sha256(tensor_path),
            "examples": examples,
        }
        atomic_write_text(folder / EXAMPLES_SPEC, json.dumps(spec, indent=1) + "\n")

    @classmethod
    def load(cls, folder: Path, fingerprint: str) -> ExampleBank | None:
        """The bank in ``folder`` (``None`` if it has none); refused if it was made with other
        weights, or if a file is missing, truncated or edited."""
        spec_path, tensor_path = folder / EXAMPLES_SPEC, folder / EXAMPLES_TENSORS
        if not spec_path.exists() and not tensor_path.exists():
            return None
        try:
            spec = ExamplesSpec.model_validate(json.loads(spec_path.read_text(encoding="utf-8")))
            if _sha256(tensor_path) != spec.tensor_sha256:
                raise ValueError(f"{EXAMPLES_TENSORS} does not match its sha256")
            vectors = load_file(str(tensor_path))["vectors"]
            if vectors.ndim != 2 or vectors.shape[0] != len(spec.examples):
                raise ValueError(
                    f"vectors of shape {tuple(vectors.shape)} for {len(spec.examples)} examples"
                )
            if not bool(torch.isfinite(vectors).all()):
                raise ValueError("the vectors hold NaN or infinite values")
        except ValidationError as exc:
            problem = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:3]
            )
            raise ModelError(f"{spec_path} is invalid: {problem}") from None
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            raise ModelError(f"{folder}: stored examples are unreadable ({exc})") from None
        except Exception as exc:  # noqa: BLE001 - safetensors' own error type for a damaged file
            raise ModelError(
                f"{tensor_path}: not a readable safetensors file ({type(exc).__name__})"
            ) from None
        if spec.fingerprint != fingerprint:
            raise MismatchError(
                f"{folder}: the stored examples were encoded by weights {spec.fingerprint}, "
                f"but the detector's model has {fingerprint}"
            )
        rows = spec.examples
        return cls(
            layer=spec.layer,
            fingerprint=spec.fingerprint,
            vectors=vectors,
            labels=np.array([row.label for row in rows], dtype=np.int64),
            ids=[row.id for row in rows],
            hashes=[row.sha256 for row in rows],
            sources=[row.source for row in rows],
            texts=[row.text for row in rows],
        )

    def check_fits(self, layers: list[int], hidden_size: int, where: Path) -> None:
        """Refuse a bank whose layer has no prototypes or whose vectors have another width."""
        if self.layer not in layers:
            raise ModelError(
                f"{where / EXAMPLES_SPEC}: layer {self.layer} has no prototypes (they exist for "
                f"layers {layers})"
            )
        if self.vectors.shape[1] != hidden_size:
            raise ModelError(
                f"{where / EXAMPLES_TENSORS}: vectors of width {self.vectors.shape[1]}, but the "
                f"model's is {hidden_size}"
            )


def nearest_examples(detector: Any, vectors: torch.Tensor, k: int) -> list[Neighbour]:
    """Neighbours of one text from its all-layer ``vectors`` ``[layers, H]`` (none when the
    detector keeps no examples)."""
    bank = getattr(detector, "neighbours", None)
    if bank is None or detector.prototypes is None:
        return []
    position = detector.prototypes.layers.index(bank.layer)
    return bank.nearest(vectors[position], k)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
