"""Typed, YAML-loadable settings of a fine-tuning run.

Two presets give the papers' recipes; every field can still be set on its own:

* ``classifier`` (HatePrototypes): ``linear`` head on the pooled last layer, the backbone's own
  pooling, no prefix.
* ``embedding`` (the embedding-specialisation paper): ``mlp`` head, ``normalized_sum`` pooling
  and the instruction prefix :data:`EMBEDDING_PREFIX`.

Example:
    >>> cfg = TrainingConfig(backbone="minilm", preset="embedding")
    >>> cfg.resolved_head(), cfg.resolved_pooling("mean"), cfg.resolved_prefix()[:8]
    ('mlp', 'normalized_sum', 'Instruct')
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from hateproto.config import YamlConfig
from hateproto.models.pooling import POOLINGS
from hateproto.training.registry import validate_section

EMBEDDING_PREFIX = "Instruct: classify the following in no hate or hate.\nQuery: "
"""The instruction the embedding paper prepends to every text."""

Preset = Literal["classifier", "embedding"]
HeadType = Literal["linear", "mlp"]
Mode = Literal["full", "lora", "probe"]

_PRESETS: dict[str, dict[str, str | None]] = {
    "classifier": {"head": "linear", "pooling": None, "prefix": ""},
    "embedding": {"head": "mlp", "pooling": "normalized_sum", "prefix": EMBEDDING_PREFIX},
}


class DataConfig(YamlConfig):
    """What ``hateproto train`` trains on: a benchmark (``ihc``...) or a table file.

    For a file, ``dev`` names a second file; without one, ``dev_fraction`` of the training
    file (stratified) becomes the dev set. Subsampling is stratified and seeded.
    """

    dataset: str = Field(
        description="benchmark name (ihc, olid...), a CSV/TSV/JSONL/parquet file, or several "
        "sources with sampling weights, comma-separated: 'ihc,sbic:0.5,toxigen:2,posts.csv' "
        "(a mixture: general protocol, de-duplicated, leak-free splits; see "
        "hateproto.data.mixture)"
    )
    protocol: str = "hateprototypes"
    data_dir: str | None = None
    dev: str | None = Field(None, description="dev file, for a table dataset")
    dev_fraction: float = Field(0.1, gt=0.0, lt=1.0)
    text_column: str = "text"
    label_column: str = "label"
    max_train_examples: int | None = Field(None, ge=2)
    max_dev_examples: int | None = Field(None, ge=2)
    sample_seed: int = 0
    counterfactual_copies: int = Field(
        0, ge=0, description="group-swapped copies of each training post naming a group"
    )
    max_dev_per_source: int | None = Field(2000, ge=2, description="mixtures: dev rows per source")


class TrainingConfig(YamlConfig):
    """Model and optimisation settings of one fine-tuning run.

    ``head``, ``pooling`` and ``prefix`` left unset (``None``) come from ``preset``; a ``None``
    pooling in the ``classifier`` preset means the backbone's default (mean for
    sentence-transformers models, cls for other encoders, last for decoders).
    """

    backbone: str = Field("minilm", description="alias, Hugging Face id, folder or .gguf file")
    preset: Preset = "classifier"
    head: HeadType | None = None
    pooling: str | None = None
    pool_layers: list[int] | None = Field(
        None,
        min_length=1,
        description="hidden layers to pool (0 = embeddings, L = last), each L2-normalised and "
        "concatenated in this order; default: the last layer alone",
    )
    prefix: str | None = None
    mode: Mode = "full"
    mlp_hidden_size: int | None = Field(None, ge=1, description="default: the backbone's width")
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0.0, lt=1.0)
    lora_target_modules: list[str] | None = Field(None, description="default: found per family")
    epochs: int = Field(2, ge=1)
    learning_rate: float = Field(5e-5, gt=0.0)
    head_learning_rate: float | None = Field(None, gt=0.0, description="default: learning_rate")
    weight_decay: float = Field(0.01, ge=0.0)
    warmup_ratio: float = Field(0.1, ge=0.0, lt=1.0)
    batch_size: int = Field(32, ge=1)
    eval_batch_size: int = Field(64, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_length: int = Field(128, ge=4)
    max_grad_norm: float | None = Field(1.0, gt=0.0)
    bf16: bool = False
    class_weights: Literal["balanced", "none"] = "balanced"
    consistency_weight: float = Field(
        0.0,
        ge=0.0,
        description="full/lora: train every post that names a group beside a group-swapped "
        "twin (same label) and add this weight times the squared difference of their logit "
        "margins (counterfactual logit pairing); 0 = off",
    )
    seed: int = 0
    select_metric: Literal["macro_f1", "accuracy", "loss"] = "macro_f1"
    bucket_size: int = Field(50, ge=1, description="batches per length-sorted bucket")
    dtype: Literal["float32", "bfloat16"] = "float32"
    log_every: int = Field(20, ge=1, description="write the step loss to the log every N steps")
    show_progress: bool = True
    fusion: Any = Field(
        None,
        description="context + emotion fusion head (a FusionClassifier) instead of head; "
        "validated as hateproto.fusion.FusionConfig",
    )
    data: DataConfig | None = Field(None, description="used by `hateproto train`")
    output_dir: str | None = Field(None, description="used by `hateproto train`")

    @field_validator("fusion", mode="before")
    @classmethod
    def _validate_fusion(cls, value: Any) -> Any:
        """The ``fusion`` section, validated by the model its extension registers."""
        return validate_section("fusion", value)

    @model_validator(mode="after")
    def _check_pooling(self) -> TrainingConfig:
        if self.pooling is not None and self.pooling not in POOLINGS:
            raise ValueError(f"pooling {self.pooling!r} is not one of {', '.join(POOLINGS)}")
        return self

    def resolved_head(self) -> str:
        """The head type: ``head`` if set, else the preset's."""
        return self.head or str(_PRESETS[self.preset]["head"])

    def resolved_pooling(self, backbone_default: str) -> str:
        """The pooling: ``pooling`` if set, else the preset's, else ``backbone_default``."""
        return self.pooling or _PRESETS[self.preset]["pooling"] or backbone_default

    def resolved_prefix(self) -> str:
        """The instruction prefix: ``prefix`` if set (``""`` = none), else the preset's."""
        return self.prefix if self.prefix is not None else str(_PRESETS[self.preset]["prefix"])
