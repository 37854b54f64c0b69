"""One family of errors, so that callers (and the CLI) can tell user mistakes from bugs.

The CLI turns every :class:`HateprotoError` into a one-line message and exit status 2.
"""

from __future__ import annotations


class HateprotoError(Exception):
    """Base class of every error hateproto raises on purpose (bad input, missing files...)."""


class DataError(HateprotoError):
    """A dataset or user file is missing, malformed, or has values outside the expected set."""


class ModelError(HateprotoError):
    """A model cannot be found, fetched or loaded, or does not fit what was asked of it."""


class ConfigError(HateprotoError):
    """A configuration file or value is invalid."""


class MismatchError(HateprotoError):
    """Saved artefacts (prototypes, heads, thresholds) do not belong to the backbone in use."""
