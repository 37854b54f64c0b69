"""Fingerprints: a short hash that tells two models' weights apart.

Saved prototypes, detectors and representation caches record the fingerprint of the backbone
they were built with, and refuse or invalidate themselves when it changes.
"""

from __future__ import annotations

import hashlib
import json

import torch

# Config keys that say how a model was stored or named, not what it computes.
_IGNORED_CONFIG_KEYS = {
    "transformers_version",
    "torch_dtype",
    "dtype",
    "architectures",
    "quantization_config",
    "name_or_path",
}


def compute_fingerprint(model: torch.nn.Module, samples_per_tensor: int = 256) -> str:
    """Hash of a model's configuration and a strided, bf16-rounded sample of every weight."""
    digest = hashlib.sha256()
    config = getattr(model, "config", None)
    if config is not None:
        values = {
            k: v
            for k, v in config.to_dict().items()
            if not k.startswith("_") and k not in _IGNORED_CONFIG_KEYS
        }
        digest.update(json.dumps(values, sort_keys=True, default=str).encode())
    with torch.no_grad():
        for name, tensor in sorted(model.state_dict().items()):
            flat = tensor.detach().reshape(-1)
            step = max(1, flat.numel() // samples_per_tensor)
            sample = flat[::step][:samples_per_tensor].cpu().to(torch.bfloat16).float()
            digest.update(name.encode())
            digest.update(str(tuple(tensor.shape)).encode())
            digest.update(sample.numpy().tobytes())
    return digest.hexdigest()[:16]
