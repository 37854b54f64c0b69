"""Which scored posts enter the review queue, and in what order.

A label teaches most where the detector is least sure, so the queue holds:

* ``low_margin``: posts whose hate probability lies within ``band`` of the decision
  threshold;
* ``sample``: a random ``sample_rate`` of the others (an unbiased check of what the
  detector is sure of: without it the queue never shows its confident mistakes).

The queue is ordered by ``priority`` = ``|hate_probability - threshold|``, smallest first
(a sampled post keeps its distance, so it comes after the uncertain ones). Disagreement
between layers is not a selection rule: a served :class:`~hateproto.detector.results.Prediction`
carries one decision, not one per layer; the per-layer labels are recorded with the post's
explanation (``details.layers``) and shown on the review page.

Example:
    >>> policy = QueuePolicy(band=0.1, sample_rate=0.0)
    >>> policy.reason(0.55, 0.5), policy.reason(0.95, 0.5)
    ('low_margin', None)
"""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field


class QueuePolicy(BaseModel):
    """The queue policy (``serve --queue-band``, ``--queue-sample``).

    Attributes:
        band: a post whose hate probability is within this distance of the threshold is
            queued.
        sample_rate: the share of the other scored posts queued at random.
        seed: seed of the random sample (``None``: a fresh one).
    """

    model_config = ConfigDict(frozen=True)

    band: float = Field(0.15, ge=0.0, le=1.0)
    sample_rate: float = Field(0.01, ge=0.0, le=1.0)
    seed: int | None = None

    def priority(self, hate_probability: float, threshold: float) -> float:
        """Distance to the threshold: the smaller, the more a label teaches."""
        return abs(float(hate_probability) - float(threshold))

    def reason(
        self, hate_probability: float, threshold: float, draw: float | None = None
    ) -> str | None:
        """``"low_margin"``, ``"sample"`` or ``None`` (not queued); ``draw`` is a uniform
        number in [0, 1) (default: a fresh one)."""
        if self.priority(hate_probability, threshold) <= self.band:
            return "low_margin"
        draw = random.random() if draw is None else draw
        return "sample" if draw < self.sample_rate else None

    def sampler(self) -> random.Random:
        """The random source of the ``sample`` rule."""
        return random.Random(self.seed)
