"""Helpers shared by metrics and the evaluator."""
from typing import Any, Dict

import torch

from mmengine.structures import BaseDataElement


def get_metric_value(indicator: str, metrics: Dict[str, Any]) -> Any:
    """Look up a metric value by a full or a short name.

    Args:
        indicator (str): Either a full name ``'<prefix>/<name>'`` that must
            be a key of ``metrics``, or a bare ``'<name>'`` that must match
            the last component of exactly one key.
        metrics (dict): Evaluation results, as returned by
            :meth:`Evaluator.evaluate`.

    Returns:
        Any: The matched value.

    Raises:
        ValueError: If the indicator matches no metric, or (bare name)
            several metrics.
    """
    if '/' in indicator:
        if indicator in metrics:
            return metrics[indicator]
        raise ValueError(
            f'The indicator "{indicator}" can not match any metric in '
            f'{list(metrics.keys())}')
    matched = [k for k in metrics if k.split('/')[-1] == indicator]
    if not matched:
        raise ValueError(
            f'The indicator "{indicator}" can not match any metric in '
            f'{list(metrics.keys())}')
    if len(matched) > 1:
        raise ValueError(
            f'The indicator "{indicator}" is ambiguous as it matches multiple '
            f'metrics {matched}; use the full name "<prefix>/{indicator}"')
    return metrics[matched[0]]


def _to_cpu(data: Any) -> Any:
    """Recursively move tensors and data elements in ``data`` to CPU."""
    if isinstance(data, (torch.Tensor, BaseDataElement)):
        return data.cpu()
    if isinstance(data, list):
        return [_to_cpu(d) for d in data]
    if isinstance(data, tuple):
        converted = [_to_cpu(d) for d in data]
        # Namedtuples take positional fields.
        if hasattr(data, '_fields'):
            return type(data)(*converted)
        return type(data)(converted)
    if isinstance(data, dict):
        return {k: _to_cpu(v) for k, v in data.items()}
    return data
