"""Schedulers that multiply the parameter by a factor: constant, exponential,
step, multi-step and linear.

All use the chainable form (see :mod:`.param_scheduler`), so they compose
with overlapping schedulers on the same parameter.
"""
from collections import Counter
from collections.abc import Mapping
from typing import Any, List, Sequence

from mmengine.registry import PARAM_SCHEDULERS
from .param_scheduler import (INF, _check_number, _check_positive_int,
                              _ParamScheduler)

__all__ = [
    'ConstantParamScheduler', 'ExponentialParamScheduler', 'StepParamScheduler',
    'MultiStepParamScheduler', 'LinearParamScheduler'
]


def _check_factor(scheduler: str, name: str, value: Any) -> None:
    _check_number(scheduler, name, value)
    if not 0 <= value <= 1:
        raise ValueError(f'{scheduler}: `{name}` should be between 0 and 1 '
                         f'(a multiplicative factor), but got {value}')


@PARAM_SCHEDULERS.register_module()
class ConstantParamScheduler(_ParamScheduler):
    """Multiply the parameter by a constant ``factor`` until ``end - 1``.

    At step ``end - begin - 1`` the factor is undone, so from then on the
    group holds its undecayed value again.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        param_name (str): Key of the param groups to schedule.
        factor (float): Multiplier in ``[0, 1]``. Defaults to 1/3.
        begin, end, last_step, by_epoch, verbose: See :class:`_ParamScheduler`.
    """

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 factor: float = 1.0 / 3,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        _check_factor(type(self).__name__, 'factor', factor)
        self.factor = factor
        self.total_iters = end - begin - 1
        # Values before the factor was applied: to undo a factor of 0.
        self._values_at_begin: List[Any] = []
        super().__init__(optimizer, param_name, begin, end, last_step,
                         by_epoch, verbose)

    def _get_value(self) -> List[Any]:
        groups = self._param_groups()
        current = [group[self.param_name] for group in groups]
        if self.last_step == 0:
            self._values_at_begin = list(current)
            return [value * self.factor for value in current]
        if self.last_step != self.total_iters:
            return current
        if self.factor == 0:
            return list(self._values_at_begin)
        return [value / self.factor for value in current]


@PARAM_SCHEDULERS.register_module()
class ExponentialParamScheduler(_ParamScheduler):
    """Multiply the parameter by ``gamma`` every step.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        param_name (str): Key of the param groups to schedule.
        gamma (float): Multiplicative factor per step.
        begin, end, last_step, by_epoch, verbose: See :class:`_ParamScheduler`.
    """

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 gamma: float,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        _check_number(type(self).__name__, 'gamma', gamma)
        self.gamma = gamma
        super().__init__(optimizer, param_name, begin, end, last_step,
                         by_epoch, verbose)

    def _get_value(self) -> List[Any]:
        groups = self._param_groups()
        if self.last_step == 0:
            return [group[self.param_name] for group in groups]
        return [group[self.param_name] * self.gamma for group in groups]


@PARAM_SCHEDULERS.register_module()
class StepParamScheduler(_ParamScheduler):
    """Multiply the parameter by ``gamma`` every ``step_size`` steps.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        param_name (str): Key of the param groups to schedule.
        step_size (int): Period of the decay.
        gamma (float): Multiplicative factor. Defaults to 0.1.
        begin, end, last_step, by_epoch, verbose: See :class:`_ParamScheduler`.
    """
    _epoch_args = ('step_size', )

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 step_size: int,
                 gamma: float = 0.1,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        name = type(self).__name__
        _check_positive_int(name, 'step_size', step_size)
        _check_number(name, 'gamma', gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, param_name, begin, end, last_step,
                         by_epoch, verbose)

    def _get_value(self) -> List[Any]:
        groups = self._param_groups()
        if self.last_step == 0 or self.last_step % self.step_size != 0:
            return [group[self.param_name] for group in groups]
        return [group[self.param_name] * self.gamma for group in groups]


@PARAM_SCHEDULERS.register_module()
class MultiStepParamScheduler(_ParamScheduler):
    """Multiply the parameter by ``gamma`` at each milestone.

    A milestone listed twice applies ``gamma`` twice.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        param_name (str): Key of the param groups to schedule.
        milestones (list[int]): Steps (relative to ``begin``) of the decays.
        gamma (float): Multiplicative factor. Defaults to 0.1.
        begin, end, last_step, by_epoch, verbose: See :class:`_ParamScheduler`.
    """
    _epoch_args = ('milestones', )

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 milestones: Sequence[int],
                 gamma: float = 0.1,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        name = type(self).__name__
        if isinstance(milestones, (str, bytes)) or not isinstance(
                milestones, (list, tuple)):
            raise TypeError(f'{name}: `milestones` should be a list of ints, '
                            f'but got {milestones!r}')
        for milestone in milestones:
            _check_number(name, 'milestones[...]', milestone, integer=True)
        _check_number(name, 'gamma', gamma)
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, param_name, begin, end, last_step,
                         by_epoch, verbose)

    def _get_value(self) -> List[Any]:
        groups = self._param_groups()
        if self.last_step not in self.milestones:
            return [group[self.param_name] for group in groups]
        factor = self.gamma**self.milestones[self.last_step]
        return [group[self.param_name] * factor for group in groups]

    def load_state_dict(self, state_dict: Mapping) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)


@PARAM_SCHEDULERS.register_module()
class LinearParamScheduler(_ParamScheduler):
    """Scale the parameter by a factor moving linearly from ``start_factor``
    to ``end_factor`` over the ``end - begin - 1`` steps of the window.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        param_name (str): Key of the param groups to schedule.
        start_factor (float): Factor at ``begin``, in ``[0, 1]``.
            Defaults to 1/3.
        end_factor (float): Factor at ``end - 1``, in ``[0, 1]``.
            Defaults to 1.0.
        begin, end, last_step, by_epoch, verbose: See :class:`_ParamScheduler`.
    """

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        _check_factor(type(self).__name__, 'start_factor', start_factor)
        _check_factor(type(self).__name__, 'end_factor', end_factor)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = end - begin - 1
        # Values before ``start_factor`` was applied: to leave a factor of 0.
        self._values_at_begin: List[Any] = []
        super().__init__(optimizer, param_name, begin, end, last_step,
                         by_epoch, verbose)

    def _get_value(self) -> List[Any]:
        groups = self._param_groups()
        current = [group[self.param_name] for group in groups]
        step, total = self.last_step, self.total_iters
        delta = self.end_factor - self.start_factor
        if step == 0:
            self._values_at_begin = list(current)
            return [value * self.start_factor for value in current]
        previous = total * self.start_factor + (step - 1) * delta
        if previous == 0:  # the factor was 0: scale the values at begin
            factor = self.start_factor + delta * step / total
            return [value * factor for value in self._values_at_begin]
        return [value * (1. + delta / previous) for value in current]
