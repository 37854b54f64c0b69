"""The one vocabulary of weight dtypes, its default, and the rule that resolves ``auto``.

Every ``--dtype`` option, every config's ``dtype`` field and every library argument takes the
names here; nothing else is accepted (no ``fp32``/``bf16`` aliases). This module imports
nothing heavy, so the command line can show the choices without loading torch.

``auto`` (the default everywhere) means: the dtype recorded with what is being loaded (a
detector folder's measured choice, a config's value); where nothing is recorded, ``float32``
(exact; ``hateproto detector build`` measures bfloat16 and int8 against it and records the
fastest one whose labels agree).

``int8`` is not a dtype of every weight: the linear layers hold int8 weights and compute
with int8 activations, the rest of the model stays in bfloat16 (float32 on a CPU without
native bfloat16); CPU only (:mod:`hateproto.models.quantization`).

Example:
    >>> resolve_dtype("auto"), resolve_dtype("auto", recorded="bfloat16")
    ('float32', 'bfloat16')
    >>> resolve_dtype("bfloat16", recorded="float32")
    'bfloat16'
"""

from __future__ import annotations

from typing import Literal, get_args

from hateproto.errors import ConfigError

Dtype = Literal["auto", "float32", "bfloat16", "float16", "int8"]
"""A dtype as a user names it: ``auto`` or a concrete one."""

ConcreteDtype = Literal["float32", "bfloat16", "float16", "int8"]
"""A dtype weights are actually held in (what folders and configs record)."""

DTYPE_CHOICES: tuple[str, ...] = get_args(Dtype)
"""Every accepted name, ``auto`` first."""

DEFAULT_DTYPE: Dtype = "auto"
"""The default of every ``--dtype`` option and ``dtype`` argument."""

FALLBACK_DTYPE: ConcreteDtype = "float32"
"""What ``auto`` means when nothing is recorded."""

QUANTIZED_DTYPES: tuple[str, ...] = ("int8",)
"""Names whose model keeps float weights outside its quantised linear layers."""

DTYPE_HELP = (
    "auto (default): the dtype recorded with the detector or config (detector build measures "
    "bfloat16 and int8 against float32 and records the fastest whose labels agree), else "
    "float32; or float32, bfloat16, float16 (GPU), int8 (CPU: int8 linear layers)."
)
"""Help of every ``--dtype`` option."""


def check_dtype(name: str, option: str = "dtype") -> Dtype:
    """``name`` if it is in :data:`DTYPE_CHOICES`, else a :class:`ConfigError` naming
    ``option`` and the choices.

    Example:
        >>> check_dtype("bf16")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        hateproto.errors.ConfigError: dtype 'bf16' is not one of auto, float32, bfloat16, ..., int8
    """
    if name not in DTYPE_CHOICES:
        raise ConfigError(f"{option} {name!r} is not one of {', '.join(DTYPE_CHOICES)}")
    return name  # type: ignore[return-value]


def resolve_dtype(name: str, recorded: str | None = None) -> ConcreteDtype:
    """The concrete dtype ``name`` stands for: itself, or for ``auto`` the ``recorded`` one
    (else :data:`FALLBACK_DTYPE`)."""
    name = check_dtype(name)
    if name != "auto":
        return name  # type: ignore[return-value]
    if recorded is None:
        return FALLBACK_DTYPE
    return resolve_dtype(recorded)
