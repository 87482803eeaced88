"""Evaluation: ``BaseMetric`` (one metric), ``Evaluator`` (a set of
metrics), ``DumpResults`` and ``get_metric_value``."""
from .evaluator import Evaluator
from .metric import BaseMetric, DumpResults
from .utils import get_metric_value

__all__ = ['BaseMetric', 'DumpResults', 'Evaluator', 'get_metric_value']
