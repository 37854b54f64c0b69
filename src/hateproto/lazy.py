"""Public names that a package imports only when they are first used.

``import hateproto`` must not load torch, scikit-learn or pandas, and ``hateproto.service``
must work without its extra (fastapi): their ``__init__`` modules map each public name to the
module that defines it and import that module on first access.

Example:
    >>> __getattr__ = lazy_exports("demo", {"sqrt": "math"})
    >>> __getattr__("sqrt")(9.0)
    3.0
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, sources: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``package`` that imports ``sources[name]`` (a module
    path) on first access of ``name`` and returns its attribute ``name``."""

    def __getattr__(name: str) -> Any:
        if name not in sources:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(sources[name]), name)

    return __getattr__
