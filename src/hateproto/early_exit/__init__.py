"""Early exit: stop running layers for an example once its prediction is confident enough.

Policies (prototype margin, calibrated per-layer margins, DeeBERT entropy gates, PABEE
patience gates, fixed layer), the engine that shrinks batches as rows exit, the gates, the
per-layer thresholds chosen on dev (:mod:`.thresholds`), and :class:`EarlyExitClassifier`.
See ``docs/early-exit.md``.
"""

from hateproto.early_exit.classifier import EarlyExitClassifier, as_final_scorer
from hateproto.early_exit.engine import ExitResult, run_early_exit, simulate_early_exit
from hateproto.early_exit.gates import GateTrainingConfig, LayerGates
from hateproto.early_exit.policies import (
    Decision,
    EntropyPolicy,
    ExitPolicy,
    FixedLayerPolicy,
    PatiencePolicy,
    PrototypeMarginPolicy,
    entropy,
)
from hateproto.early_exit.scorers import GateScorer, HeadScorer, PoolSpec, PrototypeScorer
from hateproto.early_exit.thresholds import (
    DeltaChoice,
    ExitThresholds,
    choose_deltas,
    simulate_margin_exits,
)

__all__ = [
    "DeltaChoice",
    "Decision",
    "EarlyExitClassifier",
    "EntropyPolicy",
    "ExitPolicy",
    "ExitResult",
    "ExitThresholds",
    "FixedLayerPolicy",
    "GateScorer",
    "GateTrainingConfig",
    "HeadScorer",
    "LayerGates",
    "PatiencePolicy",
    "PoolSpec",
    "PrototypeMarginPolicy",
    "PrototypeScorer",
    "as_final_scorer",
    "choose_deltas",
    "entropy",
    "run_early_exit",
    "simulate_early_exit",
    "simulate_margin_exits",
]
