"""Metrics, significance tests and breakdowns."""

from hateproto.evaluation.metrics import classification_metrics

__all__ = ["classification_metrics"]
