"""``hateproto experiment ...`` commands of the HatePrototypes paper (Table 2-3, Fig 1-3) and
the group-bias report and prototype build-time benchmark.

Every command takes ``--config FILE`` (YAML of the experiment's typed config) and the common
overrides below; resumable commands skip the rows their results file already holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from hateproto.cli.options import (
    ConfigOption,
    DataDirOption,
    DtypeOption,
    PerClassOption,
)
from hateproto.config import YamlConfig
from hateproto.dtypes import resolve_dtype
from hateproto.errors import ConfigError


def _parse_limits(values: list[str]) -> dict[str, int]:
    """``["sbic=2000", "ihc=500"]`` → ``{"sbic": 2000, "ihc": 500}``."""
    out = {}
    for value in values:
        name, _, number = value.partition("=")
        if not number.strip().isdigit():
            raise ConfigError(f"--test-limit {value!r}: use DATASET=N, e.g. sbic=2000")
        out[name.strip()] = int(number)
    return out


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def build_config(cls: type[YamlConfig], config_file: Path | None, **overrides: Any) -> Any:
    """The YAML file's settings (if any), then every override that was given."""
    values = {} if config_file is None else cls.from_yaml(config_file).model_dump()
    if "dtype" in overrides:  # auto: the config's dtype
        recorded = values.get("dtype", cls.model_fields["dtype"].default)
        overrides["dtype"] = resolve_dtype(overrides["dtype"], recorded=recorded)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return cls.from_dict(values, source=str(config_file or "command line"))


CommonRunner = Callable[..., None]


def _load(module: str, name: str) -> Any:
    """``hateproto.experiments.<module>.<name>``, imported when a command runs."""
    import importlib

    return getattr(importlib.import_module(f"hateproto.experiments.{module}"), name)


def _common(module: str, runner: str, config_class: str) -> CommonRunner:
    """A typer command with the shared options that builds ``config_class`` and calls
    ``runner(config, console)`` (both from ``hateproto.experiments.<module>``)."""

    def command(
        config: ConfigOption = None,
        datasets: str | None = typer.Option(None, "--datasets", help="e.g. ihc,olid,sbic"),
        seeds: str | None = typer.Option(None, "--seeds", help="e.g. 0,1"),
        per_class: PerClassOption = None,
        test_limit: list[str] = typer.Option(
            [], "--test-limit", help="DATASET=N: stratified test subsample (repeatable)."
        ),
        checkpoints: str | None = typer.Option(
            None, "--checkpoints", help="Folder with {dataset}-seed{seed} checkpoints."
        ),
        frozen: str | None = typer.Option(None, "--frozen", help="Frozen baselines, e.g. minilm"),
        output_dir: str | None = typer.Option(None, "--output-dir", help="Results folder."),
        data_dir: DataDirOption = None,
        dtype: DtypeOption = "auto",
    ) -> None:
        seeds_list = _split(seeds)
        cfg = build_config(
            _load(module, config_class),
            config,
            datasets=_split(datasets),
            seeds=None if seeds_list is None else [int(s) for s in seeds_list],
            per_class=per_class,
            test_limit=_parse_limits(test_limit) or None,
            checkpoints=checkpoints,
            frozen_models=_split(frozen),
            output_dir=output_dir,
            data_dir=data_dir,
            dtype=dtype,
        )
        console = Console(stderr=True, soft_wrap=True)
        result = _load(module, runner)(cfg, console)
        if isinstance(result, list):
            console.print(f"{len(result)} result rows written to {cfg.output_dir}")
        elif result is not None:
            typer.echo(json.dumps(result, indent=1, default=str))

    return command


# name, experiments module, runner, config class, help
_COMMANDS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "cross-domain",
        "cross_domain",
        "run_cross_domain",
        "CrossDomainConfig",
        "Table 2: prototypes from B's training set vs the model's head, on B's test set.",
    ),
    (
        "prototype-transfer",
        "prototype_transfer",
        "run_prototype_transfer",
        "PrototypeTransferConfig",
        "Fig 2: fine-tuned on A, evaluated on A with B's prototypes (relative macro-F1).",
    ),
    (
        "prototype-size",
        "prototype_size",
        "run_prototype_size",
        "PrototypeSizeConfig",
        "Fig 3: macro-F1 vs examples per class (100 random draws, 95% interval).",
    ),
    (
        "guard",
        "guard",
        "run_guard",
        "GuardConfig",
        "Table 3: a guard LM's own verdict vs prototypes from its hidden state.",
    ),
    (
        "fine-grained",
        "fine_grained",
        "run_fine_grained",
        "FineGrainedConfig",
        "Fig 1: accuracy per IHC implicit category and per target group.",
    ),
    (
        "group-bias",
        "bias",
        "run_group_bias",
        "GroupBiasConfig",
        "Group-specific prototypes and false-positive rate per target group.",
    ),
    (
        "prototype-build-time",
        "build_time",
        "run_build_time",
        "BuildTimeConfig",
        "Time to build prototypes (all layers) vs one plain encode pass.",
    ),
)


def register(app: typer.Typer) -> None:
    """Add the prototype experiments to the ``experiment`` group ``app`` (their code is
    imported only when one runs)."""
    for name, module, runner, config_class, help_text in _COMMANDS:
        app.command(name, help=help_text)(_common(module, runner, config_class))
