"""On-disk cache of encoded representations (safetensors), keyed by model, texts and settings."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from hateproto.paths import cache_dir


class RepresentationCache:
    """Store ``[N, layers, H]`` tensors under ``$HATEPROTO_HOME/cache/reps/<key>.safetensors``."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir() / "reps"

    @staticmethod
    def key(fingerprint: str, texts: Sequence[str], settings: dict[str, Any]) -> str:
        """Hash of the backbone fingerprint, every text and the encoding settings."""
        digest = hashlib.sha256(fingerprint.encode())
        digest.update(json.dumps(settings, sort_keys=True).encode())
        for text in texts:
            digest.update(text.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        return digest.hexdigest()[:32]

    def get(self, key: str) -> torch.Tensor | None:
        """The cached tensor for ``key``, or ``None`` (a corrupt entry counts as a miss)."""
        path = self.root / f"{key}.safetensors"
        if not path.is_file():
            return None
        try:
            return load_file(str(path))["reps"]
        except Exception:  # noqa: BLE001 - a damaged cache entry is simply recomputed
            return None

    def put(self, key: str, tensor: torch.Tensor) -> None:
        """Write atomically (temporary file, then rename)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{key}.{os.getpid()}.tmp"
        save_file({"reps": tensor.contiguous()}, str(tmp))
        os.replace(tmp, self.root / f"{key}.safetensors")
