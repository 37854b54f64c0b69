"""Metrics, significance tests and breakdowns."""

from hateproto.evaluation.metrics import classification_metrics
from hateproto.evaluation.significance import paired_ttest

__all__ = ["classification_metrics", "paired_ttest"]
