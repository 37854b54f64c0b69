"""Base class for typed, YAML-loadable configuration objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from hateproto.errors import ConfigError

ConfigT = TypeVar("ConfigT", bound="YamlConfig")


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """The settings in a YAML file (empty file: ``{}``); a :class:`ConfigError` naming the file
    when it is missing, not valid YAML, or not a mapping."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, not {type(values).__name__}")
    return values


class YamlConfig(BaseModel):
    """A pydantic model that rejects unknown keys and round-trips through YAML.

    Example:
        >>> class Demo(YamlConfig):
        ...     epochs: int = 1
        >>> Demo.from_dict({"epochs": 3}).epochs
        3
    """

    model_config = ConfigDict(extra="forbid", frozen=False)

    @classmethod
    def from_dict(cls: type[ConfigT], values: dict[str, Any], source: str = "config") -> ConfigT:
        """Validate ``values``; raise :class:`ConfigError` naming ``source`` and the bad keys."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(f"invalid {cls.__name__} in {source}: {problems}") from None

    @classmethod
    def from_yaml(cls: type[ConfigT], path: str | Path) -> ConfigT:
        """Load and validate a YAML file."""
        return cls.from_dict(read_yaml_mapping(path), source=str(path))

    def to_yaml(self, path: str | Path) -> None:
        """Write the configuration as YAML."""
        Path(path).write_text(yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False))

    def with_options(self: ConfigT, source: str = "options", **values: Any) -> ConfigT:
        """A validated copy with every ``values`` item that is not ``None`` applied (the
        command-line options a user gave, over a YAML file or the defaults).

        Example:
            >>> class Demo(YamlConfig):
            ...     epochs: int = 1
            ...     seed: int = 0
            >>> Demo(epochs=3).with_options(epochs=None, seed=7).model_dump()
            {'epochs': 3, 'seed': 7}
        """
        given = {key: value for key, value in values.items() if value is not None}
        return type(self).from_dict({**self.model_dump(), **given}, source=source)
