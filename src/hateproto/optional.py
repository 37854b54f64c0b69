"""Optional dependencies: what each extra of ``pip install 'hateproto[...]'`` brings.

The core install (data, models, prototypes, early exit, detector, classify) needs none of
these. A feature that needs one calls :func:`require` at the point of use, which raises
:class:`MissingExtraError` naming the extra to install instead of an ``ImportError``.

Example:
    >>> require("json", extra="service").__name__   # any importable module is returned
    'json'
    >>> try:
    ...     require("no_such_module_xyz", extra="plots", purpose="figures")
    ... except MissingExtraError as exc:
    ...     print(exc)
    figures need no_such_module_xyz, which is not installed: pip install 'hateproto[plots]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from hateproto.errors import HateprotoError

EXTRAS: dict[str, tuple[str, ...]] = {
    "service": ("fastapi", "uvicorn"),
    "ray": ("ray",),
    "fusion": ("nrclex",),
    "gguf": ("gguf",),
    "plots": ("matplotlib",),
    "feedback": ("sqlalchemy", "alembic"),
}
"""Each extra and the top-level modules it provides (the names in ``pyproject.toml``)."""


class MissingExtraError(HateprotoError):
    """A feature needs an optional dependency that is not installed."""


def require(module: str, extra: str, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``hateproto[extra]``."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ImportError:
        what = purpose or f"this feature ({extra})"
        raise MissingExtraError(
            f"{what} need{'s' if purpose is None else ''} {module.split('.')[0]}, which is not "
            f"installed: pip install 'hateproto[{extra}]'"
        ) from None
