"""Which engine decides a detector's texts, and the cache that keeps the last one built.

The engine is an :class:`~hateproto.early_exit.EarlyExitClassifier` (early exit, or a fixed
layer below the top: layers above are not run), or the strings ``"head"`` /
``"last_layer"`` when the whole model runs anyway (a plain forward pass is faster then).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hateproto.detector.components import early_exit_engine, fixed_layer_engine
from hateproto.detector.settings import DetectorSettings
from hateproto.prototypes import PrototypeClassifier

__all__ = ["EngineCache", "build_engine"]


def build_engine(
    prototypes: PrototypeClassifier | None,
    head: Any | None,
    exits: Mapping[int, float] | None,
    decision_layer: int,
    num_layers: int,
    settings: DetectorSettings,
    max_length: int,
) -> Any:
    """The engine for these settings.

    Args:
        prototypes: the detector's prototypes (needed unless the head decides everything).
        head: the fine-tuned classifier when it decides (else ``None``).
        exits: early-exit thresholds ``{layer: delta}``; ``None`` when early exit is off.
        decision_layer: the layer that decides when early exit is off.
        num_layers: the model's depth (deciding there needs no layer-by-layer engine).
        settings: batch size and lowest exit layer come from here.
        max_length: tokens per text.
    """
    batch = settings.batch_size
    if exits is not None:
        return early_exit_engine(
            prototypes,
            exits,
            head,
            batch,
            max_length,
            settings.min_exit_layer,
            settings.refill,
            settings.exit_policy,
        )
    if head is not None:
        return "head"
    if decision_layer == num_layers:
        return "last_layer"
    return fixed_layer_engine(prototypes, decision_layer, batch, max_length)


class EngineCache:
    """The engine built last, kept with the settings and the very objects it was built from.

    :meth:`get` returns it only for equal settings and the *same* objects (compared with
    ``is``, never by ``id()``: an id may be reused once the old object is collected, which
    would hand back a stale engine). The cache holds the objects, so they stay alive with it.

    Example:
        >>> cache, settings, protos = EngineCache(), DetectorSettings(), object()
        >>> cache.put(settings, (protos,), "engine")
        >>> cache.get(settings, (protos,)), cache.get(settings, (object(),))
        ('engine', None)
    """

    def __init__(self) -> None:
        self._entry: tuple[str, tuple[object, ...], Any] | None = None

    def get(self, settings: DetectorSettings, parts: tuple[object, ...]) -> Any | None:
        """The cached engine if it was built for ``settings`` and these very ``parts``."""
        if self._entry is None:
            return None
        built_for, objects, engine = self._entry
        same_objects = len(objects) == len(parts) and all(
            a is b for a, b in zip(objects, parts, strict=True)
        )
        return engine if same_objects and built_for == settings.model_dump_json() else None

    def put(self, settings: DetectorSettings, parts: tuple[object, ...], engine: Any) -> None:
        """Keep ``engine`` as the one for ``settings`` and ``parts``."""
        self._entry = (settings.model_dump_json(), tuple(parts), engine)
