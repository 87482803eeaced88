"""Reduce a parameter when a validation metric stops improving."""
import math
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence, Union

from mmengine.registry import PARAM_SCHEDULERS
from .param_scheduler import (_STEP_COUNT_ATTR, INF, SchedulerArgumentError,
                              _check_interval, _check_last_step,
                              _check_number, _check_optimizer,
                              _format_per_group, _ParamScheduler)

__all__ = ['ReduceOnPlateauParamScheduler']


def _rule_error(name: str, arg: str, value: Any, choices: tuple) -> Exception:
    return ValueError(f'{name}: `{arg}` should be one of {choices}, but got '
                      f'{value!r}')


@PARAM_SCHEDULERS.register_module()
class ReduceOnPlateauParamScheduler(_ParamScheduler):
    """Reduce the parameter when a validation metric stops improving.

    Unlike the other schedulers it is driven by :meth:`step` ``(metrics)``,
    called after each validation with the metrics dict; ``step()`` without
    metrics (after each training epoch) only counts the epoch. When the
    ``monitor`` metric has not improved for more than ``patience`` validations
    the value becomes ``max(value * factor, min_value)``, then ``cooldown``
    validations are ignored.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        param_name (str): Key of the param groups to schedule.
        monitor (str): Key of the metrics dict to watch. Defaults to
            ``'loss'``.
        rule (str): ``'less'`` (lower is better) or ``'greater'``. Defaults
            to ``'less'``.
        factor (float): Multiplier of a reduction, < 1. Defaults to 0.1.
        patience (int): Validations without improvement tolerated. Defaults
            to 10.
        threshold (float): Minimal change counted as an improvement.
            Defaults to 1e-4.
        threshold_rule (str): ``'rel'`` or ``'abs'``. Defaults to ``'rel'``.
        cooldown (int): Validations ignored after a reduction. Defaults to 0.
        min_value (float | list[float]): Lower bound (per group). Defaults to
            0.
        eps (float): Changes smaller than this are skipped. Defaults to 1e-8.
        begin, end, last_step, verbose: See :class:`_ParamScheduler`.
        by_epoch (bool): Must be True.
    """
    need_val_args = True

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 monitor: str = 'loss',
                 rule: str = 'less',
                 factor: float = 0.1,
                 patience: int = 10,
                 threshold: float = 1e-4,
                 threshold_rule: str = 'rel',
                 cooldown: int = 0,
                 min_value: Union[float, Sequence[float]] = 0.,
                 eps: float = 1e-8,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        if not by_epoch:
            raise SchedulerArgumentError(
                f'{name} only supports by_epoch=True (it steps on validation '
                'metrics), but got by_epoch=False')
        _check_interval(name, begin, end)
        _check_last_step(name, last_step)
        _check_number(name, 'factor', factor)
        if factor >= 1.0:
            raise ValueError(f'{name}: `factor` should be < 1.0, but got '
                             f'{factor}')
        _check_number(name, 'threshold', threshold)
        if threshold < 0:
            raise ValueError(f'{name}: `threshold` should be >= 0, but got '
                             f'{threshold}')
        if rule not in ('less', 'greater'):
            raise _rule_error(name, 'rule', rule, ('less', 'greater'))
        if threshold_rule not in ('rel', 'abs'):
            raise _rule_error(name, 'threshold_rule', threshold_rule,
                              ('rel', 'abs'))
        _check_number(name, 'patience', patience, integer=True)
        _check_number(name, 'cooldown', cooldown, integer=True)
        if not isinstance(monitor, str):
            raise TypeError(f'{name}: `monitor` should be a str, but got '
                            f'{monitor!r}')
        if not isinstance(min_value, (list, tuple)):
            _check_number(name, 'min_value', min_value)
        min_values = _format_per_group(name, 'min_value', optimizer,
                                       param_name, min_value)
        self.monitor = monitor
        self.rule = rule
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_rule = threshold_rule
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.min_values = min_values
        self.eps = eps
        self.best = math.inf if rule == 'less' else -math.inf
        self.num_bad_epochs = 0
        super().__init__(optimizer, param_name, begin, end, last_step,
                         by_epoch, verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, **kwargs) -> '_ParamScheduler':
        """Not supported: the scheduler steps on validation results, whose
        frequency has nothing to do with iterations."""
        raise ValueError(
            f'{cls.__name__} steps on validation metrics and cannot be '
            'converted to iteration-based: remove `convert_to_iter_based` '
            'from its config')

    def _initial_step(self) -> None:
        # Nothing to schedule before the first validation.
        setattr(self.optimizer, _STEP_COUNT_ATTR, 0)
        self._last_value = [
            group[self.param_name] for group in self._param_groups()
        ]

    def _is_better(self, a: float, best: float) -> bool:
        if self.rule == 'less':
            if self.threshold_rule == 'rel':
                return a < best * (1. - self.threshold)
            return a < best - self.threshold
        if self.threshold_rule == 'rel':
            return a > best * (self.threshold + 1.)
        return a > best + self.threshold

    def _get_value(self) -> List[Any]:
        return [
            max(group[self.param_name] * self.factor, min_value)
            for group, min_value in zip(self._param_groups(),
                                        self.min_values)
        ]

    def step(self, metrics: Optional[Dict[str, Any]] = None) -> None:
        """Count an epoch (``metrics=None``) or react to validation metrics.

        Args:
            metrics (dict, optional): Validation metrics containing
                ``monitor``.

        Raises:
            TypeError: ``metrics`` is not a dict.
            KeyError: ``monitor`` is not in ``metrics``.
        """
        name = type(self).__name__
        if metrics is None:
            self._global_step += 1
            return
        if not isinstance(metrics, Mapping):
            raise TypeError(f'{name}.step: `metrics` should be a dict, but '
                            f'got {type(metrics).__name__}')
        if self.begin <= self._global_step < self.end:
            if self.monitor not in metrics:
                raise KeyError(
                    f'{name}.step: the monitored metric {self.monitor!r} is '
                    f'not in the metrics, whose keys are {list(metrics)}')
            try:  # a python number or a one-element tensor
                metric = float(metrics[self.monitor])
            except (TypeError, ValueError):
                raise TypeError(
                    f'{name}.step: the monitored metric {self.monitor!r} '
                    f'should be a number, but got '
                    f'{metrics[self.monitor]!r}') from None
            self.last_step += 1
            if self._is_better(metric, self.best):
                self.best = metric
                self.num_bad_epochs = 0
            else:
                self.num_bad_epochs += 1
            if self.cooldown_counter > 0:
                self.cooldown_counter -= 1
                self.num_bad_epochs = 0  # bad epochs in cooldown don't count
            if self.num_bad_epochs > self.patience:
                values = self._get_value()
                groups = self._param_groups()
                for i, (group, value) in enumerate(zip(groups, values)):
                    if group[self.param_name] - value > self.eps:
                        group[self.param_name] = value
                        self.print_value(self.verbose, i, value)
                self.cooldown_counter = self.cooldown
                self.num_bad_epochs = 0
        self._last_value = [
            group[self.param_name] for group in self._param_groups()
        ]
