"""Schedulers following annealing curves: cosine, polynomial, cosine with
restarts (SGDR) and one-cycle."""
import bisect
import itertools
import math
from numbers import Integral
from typing import Any, List, Optional, Sequence, Union

from mmengine.registry import PARAM_SCHEDULERS
from .param_scheduler import (INF, SchedulerArgumentError, _check_eta_min,
                              _check_number, _check_optimizer,
                              _check_positive_int, _format_per_group,
                              _ParamScheduler, _scheduled_groups)

__all__ = [
    'CosineAnnealingParamScheduler', 'PolyParamScheduler',
    'CosineRestartParamScheduler', 'OneCycleParamScheduler'
]


def _cosine_ratio(step: int, period: float) -> float:
    """Chainable cosine update: ``value - eta_min`` at ``step`` of a half
    period of ``period`` steps is this ratio times its value at
    ``step - 1``."""
    return ((1 + math.cos(math.pi * step / period)) /
            (1 + math.cos(math.pi * (step - 1) / period)))


def _eta_min_of(scheduler: Any, base_value: float) -> float:
    """``eta_min``, or ``eta_min_ratio`` of the group's initial value."""
    if scheduler.eta_min_ratio is None:
        return scheduler.eta_min
    return base_value * scheduler.eta_min_ratio


@PARAM_SCHEDULERS.register_module()
class CosineAnnealingParamScheduler(_ParamScheduler):
    r"""Cosine annealing from the value at ``begin`` to ``eta_min``:

    .. math::
        v_t = \eta_{min} + (v_{begin} - \eta_{min})
              \frac{1 + \cos(\pi t / T_{max})}{2}

    computed in the chainable form; past ``T_max`` the curve rises again
    (period ``2 * T_max``) as in ``torch.optim.lr_scheduler``.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        param_name (str): Key of the param groups to schedule.
        T_max (int, optional): Steps of the half period. Defaults to
            ``end - begin``.
        eta_min (float, optional): Minimum value. Defaults to 0 unless
            ``eta_min_ratio`` is given.
        eta_min_ratio (float, optional): Minimum value as a ratio of each
            group's initial value. Exclusive with ``eta_min``.
        begin, end, last_step, by_epoch, verbose: See :class:`_ParamScheduler`.
    """
    _epoch_args = ('T_max', )

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 T_max: Optional[int] = None,
                 eta_min: Optional[float] = None,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False,
                 eta_min_ratio: Optional[float] = None):
        name = type(self).__name__
        eta_min = _check_eta_min(name, eta_min, eta_min_ratio)
        if T_max is None:
            if end == INF:
                raise ValueError(
                    f'{name}: `T_max` is required when `end` is not set')
            T_max = end - begin
        _check_number(name, 'T_max', T_max)
        if T_max <= 0:
            raise ValueError(f'{name}: `T_max` should be positive, but got '
                             f'{T_max}')
        self.T_max = T_max
        self.eta_min = eta_min
        self.eta_min_ratio = eta_min_ratio
        super().__init__(optimizer, param_name, begin, end, last_step,
                         by_epoch, verbose)

    def _get_value(self) -> List[Any]:
        groups = self._param_groups()
        step, t_max = self.last_step, self.T_max
        if step == 0:
            return [group[self.param_name] for group in groups]
        if (step - 1 - t_max) % (2 * t_max) == 0:
            # bottom of the curve: the recursive ratio would divide by 0
            return [
                group[self.param_name] +
                (base - _eta_min_of(self, base)) *
                (1 - math.cos(math.pi / t_max)) / 2
                for base, group in zip(self.base_values, groups)
            ]
        ratio = _cosine_ratio(step, t_max)
        values = []
        for base, group in zip(self.base_values, groups):
            eta_min = _eta_min_of(self, base)
            values.append(ratio * (group[self.param_name] - eta_min) +
                          eta_min)
        return values


@PARAM_SCHEDULERS.register_module()
class PolyParamScheduler(_ParamScheduler):
    r"""Polynomial decay to ``eta_min`` over ``end - begin - 1`` steps:

    .. math::
        v_t = \eta_{min} + (v_{begin} - \eta_{min})(1 - t / T)^{power}

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        param_name (str): Key of the param groups to schedule.
        eta_min (float): Final value. Defaults to 0.
        power (float): Power of the polynomial. Defaults to 1.0.
        begin, end, last_step, by_epoch, verbose: See :class:`_ParamScheduler`.
    """

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 eta_min: float = 0,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 power: float = 1.0,
                 verbose: bool = False):
        name = type(self).__name__
        _check_number(name, 'eta_min', eta_min)
        _check_number(name, 'power', power)
        self.eta_min = eta_min
        self.power = power
        self.total_iters = end - begin - 1
        super().__init__(optimizer, param_name, begin, end, last_step,
                         by_epoch, verbose)

    def _get_value(self) -> List[Any]:
        groups = self._param_groups()
        if self.last_step == 0:
            return [group[self.param_name] for group in groups]
        factor = (1 - 1 /
                  (self.total_iters - self.last_step + 1))**self.power
        return [(group[self.param_name] - self.eta_min) * factor +
                self.eta_min for group in groups]


@PARAM_SCHEDULERS.register_module()
class CosineRestartParamScheduler(_ParamScheduler):
    """Cosine annealing with restarts (SGDR).

    The schedule is a sequence of cosine periods of lengths ``periods``; at
    the start of period ``i`` the value restarts at
    ``initial_value * restart_weights[i]``. After the last period the value
    is left unchanged.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        param_name (str): Key of the param groups to schedule.
        periods (list[int]): Length of each cosine period.
        restart_weights (list[float]): Restart weight of each period.
            Defaults to ``[1]``.
        eta_min (float, optional): Minimum value. Defaults to 0 unless
            ``eta_min_ratio`` is given.
        eta_min_ratio (float, optional): Minimum value as a ratio of each
            group's initial value. Exclusive with ``eta_min``.
        begin, end, last_step, by_epoch, verbose: See :class:`_ParamScheduler`.
    """
    _epoch_args = ('periods', )

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 periods: List[int],
                 restart_weights: Sequence[float] = (1, ),
                 eta_min: Optional[float] = None,
                 eta_min_ratio: Optional[float] = None,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        name = type(self).__name__
        eta_min = _check_eta_min(name, eta_min, eta_min_ratio)
        if not isinstance(periods, (list, tuple)) or not periods:
            raise TypeError(f'{name}: `periods` should be a non-empty list of '
                            f'ints, but got {periods!r}')
        for period in periods:
            _check_positive_int(name, 'periods[...]', period)
        if not isinstance(restart_weights, (list, tuple)):
            raise TypeError(f'{name}: `restart_weights` should be a list of '
                            f'numbers, but got {restart_weights!r}')
        for weight in restart_weights:
            _check_number(name, 'restart_weights[...]', weight)
        if len(periods) != len(restart_weights):
            raise SchedulerArgumentError(
                f'{name}: periods and restart_weights should have the same '
                f'length, but got {len(periods)} periods and '
                f'{len(restart_weights)} restart_weights')
        self.periods = list(periods)
        self.restart_weights = list(restart_weights)
        self.eta_min = eta_min
        self.eta_min_ratio = eta_min_ratio
        self.cumulative_periods = list(itertools.accumulate(self.periods))
        super().__init__(optimizer, param_name, begin, end, last_step,
                         by_epoch, verbose)

    def _get_value(self) -> List[Any]:
        groups = self._param_groups()
        # index of the period holding last_step (O(log #periods))
        idx = bisect.bisect_right(self.cumulative_periods, self.last_step)
        if idx == len(self.periods):  # past the last period
            return [group[self.param_name] for group in groups]
        restart = 0 if idx == 0 else self.cumulative_periods[idx - 1]
        step = self.last_step - restart
        if step == 0:
            weight = self.restart_weights[idx]
            return [base * weight for base in self.base_values]
        ratio = _cosine_ratio(step, self.periods[idx])
        values = []
        for base, group in zip(self.base_values, groups):
            eta_min = _eta_min_of(self, base)
            values.append(ratio * (group[self.param_name] - eta_min) +
                          eta_min)
        return values


@PARAM_SCHEDULERS.register_module()
class OneCycleParamScheduler(_ParamScheduler):
    """The 1cycle policy (Smith & Topin, "Super-Convergence").

    The value rises from ``eta_max / div_factor`` to ``eta_max`` during the
    first ``pct_start`` of ``total_steps``, then anneals to
    ``eta_max / div_factor / final_div_factor``. With ``three_phase=True`` it
    first comes back down to the initial value symmetrically, then anneals to
    the minimum. Values are computed in closed form; after ``total_steps`` the
    final value is kept.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        param_name (str): Key of the param groups to schedule.
        eta_max (float | list[float]): Peak value (per group). Defaults to
            0.1.
        total_steps (int, optional): Length of the cycle. Defaults to
            ``end - begin``.
        pct_start (float): Fraction of the cycle spent rising. Defaults to
            0.3.
        anneal_strategy (str): ``'cos'`` or ``'linear'``. Defaults to
            ``'cos'``.
        div_factor (float): ``initial = eta_max / div_factor``. Defaults to
            25.
        final_div_factor (float): ``min = initial / final_div_factor``.
            Defaults to 1e4.
        three_phase (bool): Use the three-phase variant. Defaults to False.
        begin, end, last_step, by_epoch, verbose: See :class:`_ParamScheduler`.
    """
    _epoch_args = ('total_steps', )

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 eta_max: Union[float, Sequence[float]] = 0.1,
                 total_steps: Optional[int] = None,
                 pct_start: float = 0.3,
                 anneal_strategy: str = 'cos',
                 div_factor: float = 25.,
                 final_div_factor: float = 1e4,
                 three_phase: bool = False,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        if total_steps is None:
            if end == INF:
                raise ValueError(
                    f'{name}: `total_steps` is required when `end` is not set')
            total_steps = end - begin
        if (isinstance(total_steps, bool)
                or not isinstance(total_steps, Integral) or total_steps <= 0):
            raise ValueError(f'{name}: expected a positive int `total_steps`, '
                             f'but got {total_steps!r}')
        _check_number(name, 'pct_start', pct_start)
        if not 0 <= pct_start <= 1:
            raise ValueError(f'{name}: expected `pct_start` in [0, 1], but '
                             f'got {pct_start}')
        if anneal_strategy not in ('cos', 'linear'):
            raise ValueError(f"{name}: `anneal_strategy` must be 'cos' or "
                             f"'linear', but got {anneal_strategy!r}")
        _check_number(name, 'div_factor', div_factor)
        _check_number(name, 'final_div_factor', final_div_factor)
        if div_factor <= 0 or final_div_factor <= 0:
            raise ValueError(f'{name}: `div_factor` and `final_div_factor` '
                             f'must be positive, got {div_factor} and '
                             f'{final_div_factor}')
        self.total_steps = total_steps
        self.pct_start = pct_start
        self.anneal_strategy = anneal_strategy
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.three_phase = three_phase
        initial, peak, low = (f'initial_{param_name}', f'max_{param_name}',
                              f'min_{param_name}')
        rise_end = float(pct_start * total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                dict(end_step=rise_end, start=initial, end=peak),
                dict(
                    end_step=float(2 * pct_start * total_steps) - 2,
                    start=peak,
                    end=initial),
                dict(end_step=total_steps - 1, start=initial, end=low),
            ]
        else:
            self._schedule_phases = [
                dict(end_step=rise_end, start=initial, end=peak),
                dict(end_step=total_steps - 1, start=peak, end=low),
            ]
        if last_step != -1:
            for i, group in enumerate(
                    _scheduled_groups(optimizer, param_name)):
                for key in (peak, low):
                    if key not in group:
                        raise KeyError(
                            f"{name}: param '{key}' is not specified in "
                            f'param_groups[{i}] when resuming with '
                            f'last_step={last_step}')
        else:
            peaks = _format_per_group(name, 'eta_max', optimizer, param_name,
                                      eta_max)
            for peak_value in peaks:
                _check_number(name, 'eta_max', peak_value)
            for peak_value, group in zip(
                    peaks, _scheduled_groups(optimizer, param_name)):
                group[initial] = peak_value / div_factor
                group[peak] = peak_value
                group[low] = group[initial] / final_div_factor
        super().__init__(optimizer, param_name, begin, end, last_step,
                         by_epoch, verbose)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == 'cos':
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _get_value(self) -> List[Any]:
        step = min(self.last_step, self.total_steps - 1)
        values = []
        for group in self._param_groups():
            start_step = 0.
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase['end_step']
                if step <= end_step or i == len(self._schedule_phases) - 1:
                    span = end_step - start_step
                    pct = (step - start_step) / span if span else 1.
                    values.append(
                        self._anneal(group[phase['start']],
                                     group[phase['end']], pct))
                    break
                start_step = end_step
        return values
