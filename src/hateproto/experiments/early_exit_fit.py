"""One (model, dataset) cell of the early-exit experiments, prepared once.

:func:`prepare` loads the fine-tuned checkpoint of the dataset (or the frozen model), encodes
a training sample, the dev set and the test set at every layer (cached), fits per-layer
prototypes and per-layer gates on the training vectors and saves the gates; the resulting
:class:`Prepared` holds everything the dev selection, the simulation and the timing need.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from hateproto.data import LabeledTexts, load_benchmark, sample_per_class
from hateproto.early_exit import (
    ExitPolicy,
    ExitResult,
    GateScorer,
    HeadScorer,
    LayerGates,
    PoolSpec,
    PrototypeScorer,
    simulate_early_exit,
)
from hateproto.early_exit.scorers import LayerScorer, encode_per_spec
from hateproto.errors import ConfigError
from hateproto.experiments.early_exit_config import EarlyExitConfig, Echo, ModelSpec
from hateproto.models import Backbone
from hateproto.prototypes import PrototypeClassifier


@dataclass
class Prepared:
    """Everything one (model, dataset) cell needs, computed once."""

    spec: ModelSpec
    dataset: str
    backbone: Backbone
    kind: Literal["fine-tuned", "frozen"]
    reference: str
    prototypes: PrototypeScorer
    gates: GateScorer
    head: LayerScorer
    proto_final: LayerScorer
    dev: LabeledTexts
    test: LabeledTexts
    dev_vectors: dict[PoolSpec, torch.Tensor]
    test_vectors: dict[PoolSpec, torch.Tensor]
    artefacts: Path
    test_lengths: np.ndarray | None = None

    def simulate_test(self, policy: ExitPolicy) -> ExitResult:
        """The policy's decisions on the test set (from the precomputed vectors)."""
        return simulate_early_exit(policy, self.test_vectors, self.test_lengths)

    @property
    def num_layers(self) -> int:
        """``L``."""
        return self.backbone.num_layers

    def dev_margins(self) -> np.ndarray:
        """The prototype margins of every dev text at layers 1..L-1, flattened (float64)."""
        protos, vectors = self.prototypes, self.dev_vectors[self.prototypes.spec]
        margins = [
            protos.assess(layer, vectors[:, layer - 1])[1] for layer in range(1, self.num_layers)
        ]
        return torch.stack(margins).double().numpy().ravel()


def _load_backbone(spec: ModelSpec, dataset: str) -> tuple[Backbone, LayerScorer | None, str]:
    folder = spec.checkpoint_path(dataset)
    if folder is None:
        if spec.require_checkpoint:
            raise ConfigError(
                f"no fine-tuned checkpoint for {spec.name} on {dataset}: {spec.checkpoint}"
            )
        return Backbone.load(spec.model, dtype=spec.dtype), None, spec.model
    from hateproto.training import HateClassifier

    classifier = HateClassifier.from_pretrained(folder, dtype=spec.dtype)
    return classifier.backbone, HeadScorer.from_classifier(classifier), str(folder)


def prepare(config: EarlyExitConfig, spec: ModelSpec, dataset: str, echo: Echo) -> Prepared:
    """Load the model, encode the splits, fit prototypes and gates for one cell."""
    from hateproto.training.data import stratified_subsample

    backbone, head, reference = _load_backbone(spec, dataset)
    kind: Literal["fine-tuned", "frozen"] = "fine-tuned" if head is not None else "frozen"
    echo(f"[{spec.name}/{dataset}] {kind} {reference} ({backbone.num_layers} layers)")
    load = lambda split: load_benchmark(dataset, split, config.protocol, config.data_dir)  # noqa: E731
    train = sample_per_class(load("train"), spec.train_per_class, config.sample_seed, True)
    dev = stratified_subsample(load("dev"), spec.max_dev_examples, config.sample_seed)
    test = stratified_subsample(load("test"), spec.max_test_examples, config.sample_seed)
    default = PoolSpec(backbone.info.default_pooling, backbone.info.default_layer_norm)
    specs = {default} | ({head.spec} if head is not None else set())
    vectors = {
        name: encode_per_spec(
            backbone, data.texts, specs, batch_size=spec.batch_size, cache=True, show_progress=True
        )
        for name, data in (("train", train), ("dev", dev), ("test", test))
    }
    protos = PrototypeClassifier(backbone, layers="all", batch_size=spec.batch_size)
    protos.fit_vectors(vectors["train"][default], train.labels)
    gates = LayerGates.for_backbone(backbone).fit(
        vectors["train"][default], train.labels, config.gate_training
    )
    artefacts = config.artefacts_path(spec.name, dataset)
    gates.save_pretrained(artefacts / "gates")
    gate_scorer, proto_scorer = GateScorer(gates), PrototypeScorer(protos)
    return Prepared(
        spec=spec,
        dataset=dataset,
        backbone=backbone,
        kind=kind,
        reference=reference,
        prototypes=proto_scorer,
        gates=gate_scorer,
        head=head or gate_scorer,
        proto_final=head or proto_scorer,
        dev=dev,
        test=test,
        dev_vectors=vectors["dev"],
        test_vectors=vectors["test"],
        artefacts=artefacts,
        test_lengths=np.array([len(ids) for ids in backbone.tokenize(test.texts)]),
    )
