"""Classifier types that extend :class:`~hateproto.training.HateClassifier` from other packages.

Training knows no extension by name in its code: an extension (the fusion classifier of
:mod:`hateproto.fusion`) registers, when its module is imported, the ``HateClassifier``
subclass that handles a head spec ``type`` and a ``TrainingConfig`` section, with the
pydantic model that validates that section. :data:`PLUGIN_MODULES` maps each name to the
module that registers it, as a string, so a lookup imports the extension only when a config
or a checkpoint asks for it (and ``hateproto.training`` never imports it otherwise).

Example:
    >>> classifier_type("linear") is None   # a built-in head: no extension handles it
    True
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from hateproto.errors import ConfigError

PLUGIN_MODULES: dict[str, str] = {"fusion": "hateproto.fusion.classifier"}
"""Extension name -> the module that registers it when imported."""


@dataclass(frozen=True)
class ClassifierType:
    """One registered extension: its classifier class and its config section's model."""

    name: str
    factory: Any
    config_type: Any = None


_REGISTRY: dict[str, ClassifierType] = {}


def register_classifier_type(name: str, factory: Any, config_type: Any = None) -> None:
    """Register ``factory`` (a ``HateClassifier`` subclass) for the head spec type ``name``
    and, if ``config_type`` is given, for the ``TrainingConfig`` section ``name``."""
    _REGISTRY[name] = ClassifierType(name, factory, config_type)


def _entry(name: str) -> ClassifierType | None:
    if name not in _REGISTRY and name in PLUGIN_MODULES:
        importlib.import_module(PLUGIN_MODULES[name])
    return _REGISTRY.get(name)


def classifier_type(name: str | None) -> Any:
    """The classifier class registered for head type ``name``, or ``None``."""
    entry = _entry(name) if name else None
    return entry.factory if entry is not None else None


def section_classifier(config: Any) -> Any:
    """The classifier class of the first extension section set in ``config``, or ``None``."""
    for name in PLUGIN_MODULES:
        if getattr(config, name, None) is not None:
            return classifier_type(name)
    return None


def validate_section(name: str, value: Any) -> Any:
    """``value`` validated by the config model registered for section ``name``."""
    if value is None:
        return None
    entry = _entry(name)
    if entry is None or entry.config_type is None:
        raise ConfigError(f"no extension registers the training config section {name!r}")
    if isinstance(value, entry.config_type):
        return value
    return entry.config_type.model_validate(value)
