"""Where a result came from: versions, commit, device, dtype and threads, for every result row.

:func:`provenance` is what every results file written by ``experiments/``, ``benchmarks/`` and
``evaluate --json`` records next to its figures, so that a number can be traced back to the
code and library versions that produced it.

Example:
    >>> record = provenance(dtype="float32")
    >>> sorted(record)  # doctest: +NORMALIZE_WHITESPACE
    ['device', 'dtype', 'git_commit', 'hateproto_version', 'python_version', 'threads',
     'torch_version', 'transformers_version']
"""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or ``None`` when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the hateproto checkout this code runs from (``+dirty`` when it has
    uncommitted changes), or ``None`` for an installed package outside a checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def hateproto_version() -> str:
    """hateproto's version, read once from the installed package metadata (its one source is
    ``pyproject.toml``)."""
    return package_version("hateproto") or "0+unknown"


@lru_cache(maxsize=1)
def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def default_device() -> str:
    """``cuda:<name>`` when torch sees a GPU, else ``cpu:<processor name>``."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)}"
    return f"cpu:{_cpu_name()}"


def provenance(dtype: str | None = None, device: str | None = None) -> dict[str, Any]:
    """The provenance fields every result row carries.

    Args:
        dtype: the model's dtype for this result (``None`` when not a model result).
        device: where it ran; default: :func:`default_device`.
    """
    import torch

    return {
        "hateproto_version": hateproto_version(),
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "transformers_version": package_version("transformers"),
        "python_version": platform.python_version(),
        "device": device or default_device(),
        "dtype": dtype,
        "threads": torch.get_num_threads(),
    }
