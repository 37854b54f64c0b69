"""Prototype files: ``prototypes.safetensors`` (the tensor) + ``prototypes.json`` (what it is).

``prototypes.safetensors`` holds one tensor, ``prototypes`` ``[layers, classes, hidden]``
(float32, unit rows). ``prototypes.json`` (format version 1) holds:

* ``backbone`` (the reference to load: alias, hub id, folder or checkpoint),
  ``backbone_fingerprint``, ``model_type``, ``family``, ``num_layers``, ``hidden_size``,
  ``prefix``: what the prototypes belong to;
* ``pooling``, ``layer_norm``, ``normalize``, ``temperature``, ``max_length``,
  ``batch_size``, ``layers``, ``default_layer``: how texts are turned into vectors and scored;
* ``classes``, ``class_names``, ``examples_per_class``, ``per_class``, ``seed``,
  ``source_dataset``, ``source_protocol``, ``source_split``: what they were built from;
* ``hateproto_version``, ``created``, ``tensor_file``, ``tensor_sha256``, ``tensor_shape``,
  ``metadata`` (free-form dict carried through save and load).

Loading checks the sha256, the shape and that the values are finite, so a truncated or
edited file raises :class:`~hateproto.errors.ModelError` instead of giving garbage
predictions; a backbone that is not the recorded one raises
:class:`~hateproto.errors.MismatchError` naming what differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from pydantic import Field
from safetensors.torch import load_file, save_file

from hateproto.config import YamlConfig
from hateproto.data.types import LABEL_NAMES
from hateproto.errors import ConfigError, MismatchError, ModelError
from hateproto.models.backbone import Backbone

FORMAT_VERSION = 1
SPEC_FILE = "prototypes.json"
TENSOR_FILE = "prototypes.safetensors"
TENSOR_KEY = "prototypes"


class PrototypeSpec(YamlConfig):
    """The validated contents of ``prototypes.json`` (unknown keys are rejected)."""

    format_version: int
    backbone: str
    backbone_fingerprint: str
    model_type: str
    family: str
    num_layers: int = Field(ge=1)
    hidden_size: int = Field(ge=1)
    prefix: str = ""
    pooling: str
    layer_norm: str
    normalize: str
    temperature: float = Field(gt=0)
    max_length: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    layers: list[int] = Field(min_length=1)
    default_layer: int | None = None
    classes: list[int] = Field(min_length=2)
    class_names: list[str]
    examples_per_class: dict[str, int]
    per_class: int | None = None
    seed: int | None = None
    source_dataset: str | None = None
    source_protocol: str | None = None
    source_split: str | None = None
    hateproto_version: str
    created: str
    tensor_file: str = TENSOR_FILE
    tensor_sha256: str
    tensor_shape: list[int]
    metadata: dict[str, Any] = Field(default_factory=dict)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def class_name(cls: int) -> str:
    """``not_hate``/``hate`` for 0/1, else the number as text."""
    return LABEL_NAMES[cls] if cls in (0, 1) else str(cls)


def backbone_reference(backbone: Backbone) -> str:
    """What to record as the backbone: an absolute path for a local folder, else the alias/id."""
    ref = backbone.info.name_or_path
    from hateproto.models.fetch import DEFAULT_MODELS

    if ref in DEFAULT_MODELS:
        return ref
    path = Path(ref).expanduser()
    return str(path.resolve()) if path.exists() else ref


def backbone_facts(backbone: Backbone) -> dict[str, Any]:
    """The ``prototypes.json`` fields that describe the backbone (and the format version)."""
    info = backbone.info
    return {
        "format_version": FORMAT_VERSION,
        "backbone": backbone_reference(backbone),
        "backbone_fingerprint": backbone.fingerprint,
        "model_type": info.model_type,
        "family": info.family,
        "num_layers": info.num_layers,
        "hidden_size": info.hidden_size,
        "prefix": info.prefix,
    }


SpecMaker = Callable[[str, str, str], PrototypeSpec]
"""``(tensor sha256, created timestamp, hateproto version) -> PrototypeSpec``."""


def spec_of_classifier(clf: Any, sha256: str, created: str, version: str) -> PrototypeSpec:
    """The ``prototypes.json`` record of a fitted
    :class:`~hateproto.prototypes.PrototypeClassifier` (read through its attributes)."""
    classes = [int(c) for c in clf.classes_]
    return PrototypeSpec(
        **backbone_facts(clf.backbone),
        pooling=clf.pooling,
        layer_norm=clf.layer_norm,
        normalize=clf.normalize,
        temperature=clf.temperature,
        max_length=clf.max_length,
        batch_size=clf.batch_size,
        layers=list(clf.layers),
        default_layer=clf.default_layer,
        classes=classes,
        class_names=[class_name(c) for c in classes],
        examples_per_class={str(k): v for k, v in clf.n_per_class_.items()},
        per_class=clf.sampling_.get("per_class"),
        seed=clf.sampling_.get("seed"),
        source_dataset=clf.source_.get("dataset"),
        source_protocol=clf.source_.get("protocol"),
        source_split=clf.source_.get("split"),
        hateproto_version=version,
        created=created,
        tensor_sha256=sha256,
        tensor_shape=list(clf.prototypes_.shape),
        metadata=dict(clf.metadata),
    )


def save_prototype_files(directory: str | Path, protos: torch.Tensor, make_spec: SpecMaker) -> Path:
    """Write the tensor, then the JSON ``make_spec`` gives, each through a temporary file and a
    rename, with the modes the user's umask gives. (To replace a whole folder atomically, as
    the command line does, write into a new folder with
    :func:`hateproto.outputs.replace_folder`.)"""
    from hateproto.outputs import atomic_write_text, make_public
    from hateproto.provenance import hateproto_version

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".prototypes.", suffix=".tmp")
    os.close(fd)
    try:
        save_file({TENSOR_KEY: protos.float().contiguous()}, tmp, metadata={"format": "pt"})
        sha = file_sha256(Path(tmp))
        make_public(tmp)
        os.replace(tmp, directory / TENSOR_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    spec = make_spec(sha, time.strftime("%Y-%m-%dT%H:%M:%S%z"), hateproto_version())
    try:
        text = json.dumps(spec.model_dump(mode="json"), indent=1)
    except TypeError as exc:
        raise ConfigError(f"classifier metadata cannot be written as JSON: {exc}") from None
    atomic_write_text(directory / SPEC_FILE, text + "\n")
    return directory


def read_spec(directory: Path) -> PrototypeSpec:
    """Read and validate ``prototypes.json``."""
    path = directory / SPEC_FILE
    if not directory.is_dir():
        raise ModelError(f"prototype folder not found: {directory}")
    if not path.is_file():
        raise ModelError(f"{path} not found: is {directory} a folder made by save_pretrained?")
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path} is not valid JSON (truncated or edited?): {exc}") from None
    if not isinstance(values, dict):
        raise ModelError(f"{path} must hold a JSON object")
    version = values.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(
            f"{path}: format_version {version!r} is not supported (this hateproto reads "
            f"{FORMAT_VERSION})"
        )
    try:
        return PrototypeSpec.from_dict(values, source=str(path))
    except ConfigError as exc:
        raise ModelError(str(exc)) from None


def read_tensor(directory: Path, spec: PrototypeSpec) -> torch.Tensor:
    """Load the tensor after checking its sha256; check shape and values against the spec."""
    path = directory / spec.tensor_file
    if not path.is_file():
        raise ModelError(f"{path} not found (listed in {directory / SPEC_FILE})")
    actual = file_sha256(path)
    if actual != spec.tensor_sha256:
        raise ModelError(
            f"{path} has sha256 {actual[:12]}..., but {SPEC_FILE} records "
            f"{spec.tensor_sha256[:12]}...: the file was truncated, edited or replaced"
        )
    try:
        tensor = load_file(str(path))[TENSOR_KEY].float()
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types
        raise ModelError(f"cannot read {path}: {exc}") from None
    expected = [len(spec.layers), len(spec.classes), spec.hidden_size]
    if list(tensor.shape) != expected or spec.tensor_shape != expected:
        raise ModelError(
            f"{path}: tensor shape {list(tensor.shape)} does not match {SPEC_FILE} "
            f"(layers x classes x hidden = {expected})"
        )
    if not torch.isfinite(tensor).all():
        raise ModelError(f"{path}: the prototypes contain NaN or infinite values")
    return tensor


def check_backbone(spec: PrototypeSpec, backbone: Backbone, directory: Path) -> None:
    """Raise :class:`MismatchError` listing every recorded fact the backbone contradicts."""
    facts = [
        ("hidden size", spec.hidden_size, backbone.hidden_size),
        ("layer count", spec.num_layers, backbone.num_layers),
        ("model type", spec.model_type, backbone.info.model_type),
        ("fingerprint", spec.backbone_fingerprint, backbone.fingerprint),
        ("prefix", spec.prefix, backbone.info.prefix),
    ]
    wrong = [
        f"{name}: prototypes {saved!r}, backbone {got!r}"
        for name, saved, got in facts
        if saved != got
    ]
    if wrong:
        raise MismatchError(
            f"the prototypes in {directory} were built from {spec.backbone!r}, not from the "
            f"backbone given ({backbone.info.name_or_path!r}); " + "; ".join(wrong)
        )


def load_prototype_files(
    directory: Path,
    backbone: Backbone | None = None,
    dtype: str = "float32",
    device: str | None = None,
) -> tuple[PrototypeSpec, torch.Tensor, Backbone]:
    """The checked spec and tensor of ``directory``, and the backbone to use: ``backbone``
    if given (checked against the record), else the recorded one, loaded."""
    spec = read_spec(directory)
    tensor = read_tensor(directory, spec)
    if backbone is None:
        backbone = Backbone.load(spec.backbone, dtype=dtype, device=device)
    check_backbone(spec, backbone, directory)
    if spec.default_layer is not None and spec.default_layer not in spec.layers:
        raise ModelError(
            f"{directory / SPEC_FILE}: default_layer {spec.default_layer} is not among the "
            f"layers {spec.layers}"
        )
    return spec, tensor, backbone
