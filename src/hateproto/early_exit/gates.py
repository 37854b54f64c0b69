"""Per-layer exit gates: one small linear classifier per layer, on a frozen model's states.

The DeeBERT and PABEE baselines add an "off-ramp" classifier after each transformer layer and
train it after the model (the model stays frozen). Here a gate reads the same pooled,
per-layer vectors as the prototypes: it standardises them with statistics from its training
set and applies a linear layer. All gates are trained together, full batch, with AdamW and a
class-balanced cross-entropy. Saved as ``gates.safetensors`` plus ``gates.json``.

Example:
    >>> vecs = backbone.encode(train.texts, layers="all")        # doctest: +SKIP
    >>> gates = LayerGates.for_backbone(backbone).fit(vecs, train.labels)  # doctest: +SKIP
    >>> gates.save_pretrained("gates/")                          # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hateproto.config import YamlConfig
from hateproto.errors import HateprotoError, MismatchError
from hateproto.models.backbone import Backbone
from hateproto.outputs import atomic_write_text

GATES_FORMAT = 1
WEIGHTS_FILE = "gates.safetensors"
META_FILE = "gates.json"


class GateTrainingConfig(YamlConfig):
    """How the gates are trained (full batch, all layers at once)."""

    steps: int = 300
    learning_rate: float = 0.01
    weight_decay: float = 0.01
    balanced: bool = True
    seed: int = 0


class LayerGates(torch.nn.Module):
    """Linear classifiers on the pooled vectors of each layer in ``layers``.

    Args:
        layers: layer indices the gates read (1..L).
        hidden_size: width of the pooled vectors.
        pooling, layer_norm: how the vectors are pooled (must match at inference).
        classes: label of each output column.
        backbone_fingerprint: fingerprint of the frozen backbone the gates were trained on.
    """

    def __init__(
        self,
        layers: Sequence[int],
        hidden_size: int,
        pooling: str,
        layer_norm: str,
        classes: Sequence[int] = (0, 1),
        backbone_fingerprint: str = "",
    ) -> None:
        super().__init__()
        self.layers = [int(x) for x in layers]
        self.hidden_size = int(hidden_size)
        self.pooling = pooling
        self.layer_norm = layer_norm
        self.classes = [int(c) for c in classes]
        self.backbone_fingerprint = backbone_fingerprint
        k, c, h = len(self.layers), len(self.classes), self.hidden_size
        self.weight = torch.nn.Parameter(torch.zeros(k, c, h))
        self.bias = torch.nn.Parameter(torch.zeros(k, c))
        self.register_buffer("mean", torch.zeros(k, h))
        self.register_buffer("std", torch.ones(k, h))
        self.metadata: dict[str, Any] = {}

    @classmethod
    def for_backbone(
        cls,
        backbone: Backbone,
        layers: Sequence[int] | str | None = "all",
        pooling: str | None = None,
        layer_norm: str | None = None,
    ) -> LayerGates:
        """Untrained gates for ``backbone``'s layers, with its default pooling."""
        return cls(
            backbone.resolve_layers(layers),
            backbone.hidden_size,
            pooling or backbone.info.default_pooling,
            layer_norm or backbone.info.default_layer_norm,
            backbone_fingerprint=backbone.fingerprint,
        )

    # ------------------------------------------------------------------ training
    def fit(
        self,
        vectors: torch.Tensor,
        labels: Sequence[int],
        config: GateTrainingConfig | None = None,
    ) -> LayerGates:
        """Train every gate on ``vectors`` ``[N, len(layers), H]`` (pooled like the gates)."""
        config = config or GateTrainingConfig()
        y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        self._check_training_data(vectors, y)
        x = vectors.float()
        with torch.no_grad():
            self.mean.copy_(x.mean(0))
            self.std.copy_(x.std(0).clamp(min=1e-6))
        targets = torch.as_tensor([self.classes.index(int(v)) for v in y.tolist()])
        counts = torch.bincount(targets, minlength=len(self.classes)).float()
        weight = (
            counts.sum() / (len(self.classes) * counts.clamp(min=1))
            if config.balanced
            else torch.ones(len(self.classes))
        )
        generator = torch.Generator().manual_seed(config.seed)
        with torch.no_grad():
            self.weight.normal_(0.0, 0.01, generator=generator)
            self.bias.zero_()
        z = (x - self.mean) / self.std  # [N, K, H]
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
        with torch.enable_grad():
            for _ in range(config.steps):
                optimizer.zero_grad()
                logits = torch.einsum("nkh,kch->nkc", z, self.weight) + self.bias
                loss = loss_fn(
                    logits.reshape(-1, len(self.classes)),
                    targets.repeat_interleave(len(self.layers)),
                )
                loss.backward()
                optimizer.step()
        self.metadata.update(
            {
                "n_train": int(len(y)),
                "train_loss": float(loss.detach()),
                "training": config.model_dump(),
            }
        )
        return self.eval()

    def _check_training_data(self, vectors: torch.Tensor, labels: torch.Tensor) -> None:
        expected = (len(labels), len(self.layers), self.hidden_size)
        if tuple(vectors.shape) != expected:
            raise HateprotoError(
                f"gate training vectors have shape {tuple(vectors.shape)}, expected {expected}"
            )
        unknown = sorted(set(labels.tolist()) - set(self.classes))
        if unknown:
            raise HateprotoError(f"labels {unknown} are not among the gate classes {self.classes}")
        if len(set(labels.tolist())) < 2:
            raise HateprotoError("gates need training examples of at least two classes")

    # ------------------------------------------------------------------ inference
    def logits(self, layer: int, pooled: torch.Tensor) -> torch.Tensor:
        """Logits ``[b, C]`` of the gate at ``layer`` for pooled vectors ``[b, H]``."""
        if layer not in self.layers:
            raise HateprotoError(f"no gate for layer {layer}; gates cover {self.layers}")
        k = self.layers.index(layer)
        with torch.no_grad():
            z = (pooled.float() - self.mean[k]) / self.std[k]
            return z @ self.weight[k].T + self.bias[k]

    def logits_all(self, vectors: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, len(layers), C]`` for vectors ``[N, len(layers), H]``."""
        with torch.no_grad():
            z = (vectors.float() - self.mean) / self.std
            return torch.einsum("nkh,kch->nkc", z, self.weight) + self.bias

    # ------------------------------------------------------------------ files
    def save_pretrained(self, folder: str | Path) -> None:
        """Write ``gates.safetensors`` and ``gates.json`` into ``folder``."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        tmp = folder / f".{WEIGHTS_FILE}.tmp"
        save_file(tensors, str(tmp))
        tmp.replace(folder / WEIGHTS_FILE)
        meta = {
            "format_version": GATES_FORMAT,
            "layers": self.layers,
            "hidden_size": self.hidden_size,
            "pooling": self.pooling,
            "layer_norm": self.layer_norm,
            "classes": self.classes,
            "backbone_fingerprint": self.backbone_fingerprint,
            "metadata": self.metadata,
        }
        atomic_write_text(folder / META_FILE, json.dumps(meta, indent=1))

    @classmethod
    def from_pretrained(cls, folder: str | Path, backbone: Backbone | None = None) -> LayerGates:
        """Load gates; with ``backbone``, refuse gates trained on other weights or sizes."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        folder = Path(folder)
        meta_path, weights_path = folder / META_FILE, folder / WEIGHTS_FILE
        for path in (meta_path, weights_path):
            if not path.is_file():
                raise HateprotoError(f"gate file not found: {path}")
        try:
            meta = json.loads(meta_path.read_text())
            gates = cls(
                meta["layers"],
                meta["hidden_size"],
                meta["pooling"],
                meta["layer_norm"],
                meta["classes"],
                meta.get("backbone_fingerprint", ""),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise HateprotoError(f"{meta_path} is not a valid gates file: {exc}") from None
        try:
            gates.load_state_dict(load_file(str(weights_path)))
        except (SafetensorError, RuntimeError, OSError) as exc:
            raise HateprotoError(f"{weights_path} is damaged or does not match: {exc}") from None
        gates.metadata = meta.get("metadata", {})
        if backbone is not None:
            gates.check_backbone(backbone)
        return gates.eval()

    def check_backbone(self, backbone: Backbone) -> None:
        """Raise :class:`MismatchError` if the gates were trained on another backbone."""
        if backbone.hidden_size != self.hidden_size:
            raise MismatchError(
                f"gates expect hidden size {self.hidden_size}, the backbone has "
                f"{backbone.hidden_size}"
            )
        if max(self.layers) > backbone.num_layers:
            raise MismatchError(
                f"gates cover layers up to {max(self.layers)}, the backbone has "
                f"{backbone.num_layers}"
            )
        if self.backbone_fingerprint and backbone.fingerprint != self.backbone_fingerprint:
            raise MismatchError(
                f"gates were trained on a backbone with fingerprint {self.backbone_fingerprint}, "
                f"this one has {backbone.fingerprint} ({backbone.info.name_or_path})"
            )
