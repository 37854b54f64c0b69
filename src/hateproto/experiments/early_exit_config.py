"""Settings of the early-exit experiments (HatePrototypes Table 4, Figs 4-6).

:class:`EarlyExitConfig` lists the models (:class:`ModelSpec`) and datasets to run, the dev
loss budget that picks each method's knob, the delta sweep and where rows and artefacts go.

Example:
    >>> cfg = EarlyExitConfig(models=[ModelSpec(name="minilm", model="minilm")])
    >>> cfg.dataset_names()
    ['ihc', 'sbic', 'olid', 'hatexplain']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import Field, model_validator

from hateproto.config import YamlConfig
from hateproto.data import PROTOCOLS
from hateproto.early_exit import GateTrainingConfig
from hateproto.experiments.protocols import check_protocol_datasets
from hateproto.paths import home_dir
from hateproto.training.checkpoint import CLASSIFIER_FILE

KEY_FIELDS = ("model", "dataset", "method", "setting")
TABLE4_METHODS = (
    "full_model",
    "prototype_last",
    "prototype_layer1",
    "entropy",
    "patience",
    "prototype_exit",
    "prototype_exit_calibrated",
)
SWEEP_METHOD = "prototype_exit_sweep"
Echo = Callable[[str], None]


class ModelSpec(YamlConfig):
    """One model of the experiment.

    ``checkpoint`` (may use ``{dataset}``) is a fine-tuned classifier folder; when it exists
    it is used for that dataset, else the frozen ``model`` (unless ``require_checkpoint``).
    """

    name: str
    model: str
    checkpoint: str | None = None
    require_checkpoint: bool = False
    dtype: str = "float32"
    train_per_class: int = Field(1000, ge=2)
    max_dev_examples: int | None = Field(2000, ge=10)
    max_test_examples: int | None = Field(None, ge=10)
    timing_examples: int = Field(512, ge=1)
    timed_sweep_points: int | None = Field(None, ge=0, description="overrides the config's")
    batch_size: int = Field(32, ge=1)
    repeats: int = Field(3, ge=1)

    def checkpoint_path(self, dataset: str) -> Path | None:
        """The fine-tuned checkpoint for ``dataset`` if configured and present."""
        if not self.checkpoint:
            return None
        path = Path(self.checkpoint.format(dataset=dataset)).expanduser()
        return path if (path / CLASSIFIER_FILE).is_file() else None


class EarlyExitConfig(YamlConfig):
    """Settings of the early-exit experiments (Table 4, Figs 4-6)."""

    name: str = "early-exit"
    protocol: str = "hateprototypes"
    datasets: list[str] | None = None
    data_dir: str | None = None
    sample_seed: int = 0
    models: list[ModelSpec] = Field(min_length=1)
    budget: float = Field(0.005, ge=0, description="dev macro-F1 loss allowed (0.005 = 0.5 pt)")
    sweep_points: int = Field(16, ge=2)
    timed_sweep_points: int = Field(5, ge=0)
    threads: int | None = Field(1, ge=1, description="torch threads (None: torch's default)")
    gate_training: GateTrainingConfig = Field(default_factory=GateTrainingConfig)
    results: str = "benchmarks/results/early-exit.json"
    artefacts_dir: str | None = Field(None, description="default: $HATEPROTO_HOME/early-exit")

    @model_validator(mode="after")
    def _check(self) -> EarlyExitConfig:
        check_protocol_datasets(self.protocol, self.dataset_names)
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique, got {names}")
        return self

    def dataset_names(self) -> list[str]:
        """The datasets to run (default: the protocol's)."""
        return list(self.datasets or PROTOCOLS[self.protocol])

    def artefacts_path(self, model: str, dataset: str) -> Path:
        """Where gates and calibrated thresholds of one (model, dataset) are saved."""
        root = Path(self.artefacts_dir).expanduser() if self.artefacts_dir else None
        return (root or home_dir() / "early-exit") / model / dataset
