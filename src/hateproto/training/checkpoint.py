"""The HateClassifier checkpoint folder: writing it, reading and checking its metadata.

A checkpoint folder (the project's checkpoint contract):

* ``hateproto_backbone.json``: ``backbone`` (``"backbone"`` subfolder for full fine-tuning,
  else the base model reference), ``adapter`` (``"adapter"`` or ``null``), ``pooling``,
  ``prefix``, ``layer_norm``; so ``Backbone.load(folder)`` alone gives the fine-tuned encoder.
* ``backbone/`` (Hugging Face model + tokenizer) or ``adapter/`` (PEFT LoRA adapter).
* ``head.safetensors`` and ``hateproto_classifier.json`` (format version, head type and sizes,
  label names, pooling, pooled layers, prefix, base model, mode, training config, dev
  metrics).

The functions take the classifier as it is (duck-typed), so this module does not import
:mod:`hateproto.training.classifier`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
from torch import nn

from hateproto.errors import MismatchError, ModelError
from hateproto.models.backbone import CHECKPOINT_FILE, Backbone
from hateproto.outputs import read_folder_json
from hateproto.training.config import TrainingConfig
from hateproto.training.heads import head_spec

CLASSIFIER_FILE = "hateproto_classifier.json"
HEAD_FILE = "head.safetensors"
FORMAT_VERSION = 1


def base_model_reference(reference: str) -> str:
    """A model reference as given (absolute path if it is a local path)."""
    path = Path(reference).expanduser()
    return str(path.resolve()) if path.exists() else reference


def _write_encoder(clf: Any, folder: Path) -> tuple[str, str | None]:
    """Save the fine-tuned encoder (``full``) or LoRA adapter (``lora``); return what
    ``hateproto_backbone.json`` records as ``backbone`` and ``adapter``."""
    mode = clf.config.mode
    if mode == "full":
        model = clf.backbone.model
        for attr in ("quantization_config",):  # GGUF-loaded models refuse to save with it
            if hasattr(model.config, attr):
                delattr(model.config, attr)
        model.save_pretrained(folder / "backbone")
        clf.backbone.tokenizer.save_pretrained(folder / "backbone")
        return "backbone", None
    if mode == "lora":
        clf.backbone.model.save_pretrained(folder / "adapter")
        return base_model_reference(clf.config.backbone), "adapter"
    return base_model_reference(clf.config.backbone), None


def write_checkpoint(clf: Any, folder: Path) -> None:
    """Write the files of a HateClassifier checkpoint into the (new) folder ``folder``."""
    inner, adapter = _write_encoder(clf, folder)
    info = clf.backbone.info
    spec = {
        "backbone": inner,
        "adapter": adapter,
        "pooling": clf.pooling,
        "prefix": info.prefix,
        "layer_norm": info.default_layer_norm,
    }
    write_json(folder / CHECKPOINT_FILE, spec)
    head_state = {k: v.contiguous() for k, v in clf.head.state_dict().items()}
    save_file(head_state, folder / HEAD_FILE)
    meta = {
        "format_version": FORMAT_VERSION,
        "head": head_spec(clf.head),
        "label_names": list(clf.label_names),
        "pooling": clf.pooling,
        "pool_layers": clf.pool_layers,
        "prefix": info.prefix,
        "mode": clf.config.mode,
        "base_model": base_model_reference(clf.config.backbone),
        "family": info.family,
        "training_config": clf.config.model_dump(mode="json", exclude={"data"}),
        "dev_metrics": clf.dev_metrics,
        "history": clf.history,
        "run": clf.run_info,
    }
    write_json(folder / CLASSIFIER_FILE, meta)


def pool_layers_of(meta: dict[str, Any]) -> list[int] | None:
    """The pooled layers a checkpoint records (``None``, the last layer, in older ones)."""
    return meta.get("pool_layers", meta["training_config"].get("pool_layers"))


def config_of(meta: dict[str, Any], folder: Path) -> TrainingConfig:
    """The training config a checkpoint records (a LoRA one loads merged, as ``full``)."""
    mode = "full" if meta["mode"] == "lora" else meta["mode"]
    return TrainingConfig.from_dict(
        {**meta["training_config"], "mode": mode, "pool_layers": pool_layers_of(meta)},
        source=str(folder / CLASSIFIER_FILE),
    )


def check_head_width(meta: dict[str, Any], backbone: Backbone, folder: Path) -> None:
    """Raise :class:`MismatchError` unless the head reads the backbone's pooled features."""
    count = len(pool_layers_of(meta) or [None])
    size = meta["head"]["input_size"]
    if size != backbone.hidden_size * count:
        raise MismatchError(
            f"{folder / CLASSIFIER_FILE}: head input size {size} does not match the backbone's "
            f"hidden size {backbone.hidden_size} x {count} pooled layer(s)"
        )


def read_classifier_meta(folder: Path) -> dict[str, Any]:
    """Read and check ``hateproto_classifier.json`` of a checkpoint folder."""
    path = folder / CLASSIFIER_FILE
    not_ours = f"{folder} is not a HateClassifier checkpoint: {CLASSIFIER_FILE} is missing"
    meta = read_folder_json(folder, CLASSIFIER_FILE, "checkpoint folder", not_ours)
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(f"{path}: format version {version!r}, expected {FORMAT_VERSION}")
    required = ("head", "label_names", "pooling", "mode", "training_config")
    missing = [k for k in required if k not in meta]
    if missing:
        raise ModelError(f"{path} lacks the key(s) {missing}")
    expected_types = {"head": dict, "label_names": list, "training_config": dict, "mode": str}
    wrong = [k for k, kind in expected_types.items() if not isinstance(meta[k], kind)]
    if wrong:
        raise ModelError(f"{path}: key(s) {wrong} have the wrong type (damaged file?)")
    if len(meta["label_names"]) != meta["head"].get("num_labels"):
        raise MismatchError(
            f"{path}: {len(meta['label_names'])} label names {meta['label_names']} but the head "
            f"has {meta['head'].get('num_labels')} outputs"
        )
    return meta


def load_head_weights(head: nn.Module, path: Path, spec: dict[str, Any]) -> None:
    """Load ``head.safetensors`` into ``head``, checking the tensors' names and shapes."""
    if not path.is_file():
        raise ModelError(f"head weights not found: {path}")
    state = load_file(str(path))
    expected = {k: tuple(v.shape) for k, v in head.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        raise MismatchError(
            f"{path} does not hold a {spec['type']} head of the sizes in {CLASSIFIER_FILE}: "
            f"expected tensors {expected}, found {found}"
        )
    head.load_state_dict(state)


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented JSON."""
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False))
