"""Issue 28, tests that can fail: the dev-set layer choice must pick the layer that separates
the classes, not a noise layer beside it (every other fixture ties the layers' dev scores, so
``argmin`` in place of ``argmax`` went unnoticed)."""

from __future__ import annotations

import numpy as np
import torch

from hateproto.data.types import LabeledTexts
from hateproto.prototypes.selection import best_position, choose_layer


class _Layers:
    """A stand-in for a fitted PrototypeClassifier: layer 2 separates the classes, layers 1
    and 3 are noise (similarities drawn at random)."""

    layers = [1, 2, 3]
    classes_ = np.array([0, 1])

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = labels

    def encode(self, texts: list[str], show_progress: bool = False) -> torch.Tensor:
        return torch.zeros(len(texts), 3, 4)

    def similarities_from_vectors(self, vectors: torch.Tensor) -> torch.Tensor:
        generator = torch.Generator().manual_seed(0)
        sims = torch.rand(len(self.labels), 3, 2, generator=generator)
        onehot = torch.nn.functional.one_hot(torch.as_tensor(self.labels), 2).float()
        sims[:, 1] = onehot  # layer 2: the true class is always the most similar
        return sims


def test_the_separating_layer_is_chosen_over_noise():
    labels = np.array([0, 1] * 20)
    dev = LabeledTexts([f"post {i}" for i in range(len(labels))], labels, "dev", split="dev")
    choice = choose_layer(_Layers(labels), dev)
    assert choice.per_layer[2] == 1.0 and max(choice.per_layer[1], choice.per_layer[3]) < 0.8
    assert choice.chosen == 2


def test_ties_go_to_the_shallower_layer_and_the_best_wins():
    assert best_position([0.5, 0.9, 0.9, 0.1]) == 1
