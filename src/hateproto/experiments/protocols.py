"""Checking an experiment config's protocol and dataset names (used by its validators).

Example:
    >>> check_protocol_datasets("hateprototypes", lambda: ["ihc", "sbic"])
    >>> check_protocol_datasets("hateprototypes", lambda: ["nope"])
    Traceback (most recent call last):
    ...
    ValueError: dataset 'nope' is not in protocol 'hateprototypes'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hateproto.data import PROTOCOLS


def check_protocol_datasets(protocol: str, datasets: Callable[[], Iterable[str]]) -> None:
    """Raise :class:`ValueError` (a pydantic validation error inside a validator) when
    ``protocol`` is unknown or one of the names ``datasets()`` gives is not in it.

    ``datasets`` is called only once the protocol is known (the default names come from it).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    for name in datasets():
        if name not in PROTOCOLS[protocol]:
            raise ValueError(f"dataset {name!r} is not in protocol {protocol!r}")
