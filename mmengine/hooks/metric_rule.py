"""Whether a larger or a smaller value of a metric is better.

Shared by the hooks that track the best value of a validation metric
(``CheckpointHook(save_best=...)``, ``EarlyStoppingHook``).
"""
from typing import Callable, Dict, Optional, Sequence

#: ``rule -> is_better(new, old)``.
RULE_MAP: Dict[str, Callable[[float, float], bool]] = {
    'greater': lambda x, y: x > y,
    'less': lambda x, y: x < y,
}

#: Metric-name fragments meaning "greater is better".
GREATER_KEYS = [
    'acc', 'top', 'AR@', 'auc', 'precision', 'mAP', 'mDice', 'mIoU', 'mAcc',
    'aAcc'
]
#: Metric-name fragments meaning "less is better".
LESS_KEYS = ['loss']


def infer_rule(metric: str,
               greater_keys: Sequence[str] = GREATER_KEYS,
               less_keys: Sequence[str] = LESS_KEYS) -> Optional[str]:
    """``'greater'``, ``'less'`` or None (unknown) for a metric name.

    An exact (case-insensitive) match with a key wins over a fragment
    match; among fragment matches, ``greater_keys`` are tried first
    (``'acc_loss'`` is ``'greater'``).

    Args:
        metric (str): The metric name, e.g. ``'coco/bbox_mAP'``.
        greater_keys (sequence of str): Fragments meaning greater is better.
        less_keys (sequence of str): Fragments meaning less is better.

    Returns:
        str or None: The rule, or None when no key matches.
    """
    name = metric.lower()
    greater = [key.lower() for key in greater_keys]
    less = [key.lower() for key in less_keys]
    if name in greater:
        return 'greater'
    if name in less:
        return 'less'
    if any(key in name for key in greater):
        return 'greater'
    if any(key in name for key in less):
        return 'less'
    return None
