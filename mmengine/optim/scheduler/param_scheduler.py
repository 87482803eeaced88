"""Parameter schedulers: move one optimizer hyper-parameter along a curve.

A scheduler owns one key of every ``optimizer.param_groups`` entry (``'lr'``,
``'momentum'``, ``'weight_decay'``, ...) and rewrites it each time
:meth:`_ParamScheduler.step` is called. Values are updated in the *chainable*
(recursive) form of ``torch.optim.lr_scheduler``: each step scales the value
currently in the group, so several schedulers whose ``[begin, end)`` windows
overlap compose multiplicatively, and one that starts late continues from
whatever value it finds. Each step costs O(number of param groups),
independent of how long training has run.

``begin``/``end``/``last_step`` and every other count are in the scheduler's
own unit: epochs when ``by_epoch=True``, iterations otherwise.
:meth:`_ParamScheduler.build_iter_from_epoch` converts an epoch-denominated
configuration into an iteration-based scheduler.
"""
import copy
import importlib
import inspect
import warnings
from collections import Counter
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, List, Optional, Sequence, Union

from torch.optim import Optimizer

from mmengine.logging import print_log
from .step_counter import _STEP_COUNT_ATTR, _CountedStep

__all__ = ['INF', 'SchedulerArgumentError', '_ParamScheduler']

#: ``end`` of a scheduler that never stops.
INF = int(1e9)

_ORDER_DOC = ('See more details at '
              'https://pytorch.org/docs/stable/optim.html'
              '#how-to-adjust-learning-rate')
# ``state_dict`` key of the value in ``OptimWrapper.base_param_settings``.
_BASE_VALUE_KEY = '_base_param_settings_value'


class SchedulerArgumentError(ValueError, AssertionError):
    """An invalid argument of a parameter scheduler.

    It is a ``ValueError``; it is also an ``AssertionError`` because the
    original engine checked these few arguments with ``assert`` and
    downstream code catches that type: ``eta_min`` together with
    ``eta_min_ratio``, ``periods``/``restart_weights`` of different lengths,
    a bad ``last_step``, a bad ``epoch_length``, and ``by_epoch=False`` for a
    plateau scheduler. Every other bad argument raises a plain ``ValueError``
    or ``TypeError``.
    """


# --------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------
def _is_optimizer_like(obj: Any) -> bool:
    """A torch ``Optimizer``, or a wrapper (``OptimWrapper``) around one."""
    if isinstance(obj, Optimizer):
        return True
    try:
        inner = obj.optimizer
        groups = obj.param_groups
    except AttributeError:  # e.g. OptimWrapperDict raises it for both
        return False
    return isinstance(inner, Optimizer) and isinstance(groups, list)


def _scheduled_groups(optimizer: Any, key: str) -> List[dict]:
    """The param groups a scheduler of ``key`` updates.

    Besides ``optimizer.param_groups`` this includes the ``base_param_settings``
    of an ``OptimWrapper`` (the optimizer's defaults, reported as ``base_lr``
    when the param groups differ) when it holds ``key``, so the reported base
    value follows the schedule too.
    """
    groups = optimizer.param_groups
    base = _base_settings(optimizer, key)
    return groups if base is None else groups + [base]


def _base_settings(optimizer: Any, key: str) -> Optional[dict]:
    """The ``OptimWrapper.base_param_settings`` scheduled with the param
    groups (None if there is none, or it lacks ``key``)."""
    base = getattr(optimizer, 'base_param_settings', None)
    if (isinstance(base, dict) and key in base
            and not any(group is base for group in optimizer.param_groups)):
        return base
    return None


def _check_optimizer(scheduler: str, optimizer: Any) -> None:
    if not _is_optimizer_like(optimizer):
        hint = ''
        if hasattr(optimizer, 'items') and hasattr(optimizer, 'get_lr'):
            hint = ('; for an OptimWrapperDict build one scheduler per '
                    "wrapper, e.g. param_scheduler=dict(<wrapper name>=[...])")
        raise TypeError(
            f'{scheduler}: `optimizer` ({type(optimizer).__name__}) should be '
            'an Optimizer (torch.optim.Optimizer) or an OptimWrapper, but got '
            f'{optimizer!r}{hint}')


def _check_number(scheduler: str, name: str, value: Any,
                  integer: bool = False) -> None:
    kind = Integral if integer else Real
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = 'an int' if integer else 'a number'
        raise TypeError(f'{scheduler}: `{name}` should be {expected}, but got '
                        f'{value!r} ({type(value).__name__})')


def _check_positive_int(scheduler: str, name: str, value: Any) -> None:
    _check_number(scheduler, name, value, integer=True)
    if value <= 0:
        raise ValueError(
            f'{scheduler}: `{name}` should be a positive int, but got {value}')


def _check_eta_min(scheduler: str, eta_min: Optional[float],
                   eta_min_ratio: Optional[float]) -> Optional[float]:
    """``eta_min`` (0 when neither is given); the two are exclusive."""
    if eta_min is None and eta_min_ratio is None:
        return 0.
    if (eta_min is None) == (eta_min_ratio is None):
        raise SchedulerArgumentError(
            f'{scheduler}: give either `eta_min` or `eta_min_ratio`, not both '
            f'(got eta_min={eta_min}, eta_min_ratio={eta_min_ratio})')
    _check_number(scheduler, 'eta_min' if eta_min_ratio is None else
                  'eta_min_ratio', eta_min if eta_min_ratio is None else
                  eta_min_ratio)
    return eta_min


def _check_interval(scheduler: str, begin: Any, end: Any) -> None:
    _check_number(scheduler, 'begin', begin, integer=True)
    _check_number(scheduler, 'end', end, integer=True)
    if end <= begin:
        raise ValueError(f'{scheduler}: end should be larger than begin, but '
                         f'got begin={begin}, end={end}')


def _check_last_step(scheduler: str, last_step: Any) -> None:
    if (isinstance(last_step, bool) or not isinstance(last_step, Integral)
            or last_step < -1):
        raise SchedulerArgumentError(
            f'{scheduler}: `last_step` should be an int >= -1 (-1 for a new '
            f'schedule), but got {last_step!r}')


def _scale_epochs(value: Any, epoch_length: int) -> Any:
    """Multiply an epoch count (or a list of them) by ``epoch_length``.

    A fractional epoch count that lands on a whole iteration (``2.5`` epochs
    of 4 iterations) becomes an int, so that int-only arguments
    (``step_size``, ``milestones``) accept it.
    """
    if isinstance(value, (list, tuple)):
        return [_scale_epochs(v, epoch_length) for v in value]
    if isinstance(value, Real) and not isinstance(value, bool):
        scaled = value * epoch_length
        whole = round(scaled)
        # ``max_iters / epoch_length`` epochs scale back to ``max_iters``
        # despite float rounding
        if isinstance(value, Integral) or abs(scaled - whole) < 1e-6:
            return int(whole)
        return scaled
    return value


# --------------------------------------------------------------------------
# base class
# --------------------------------------------------------------------------
class _ParamScheduler:
    """Base class of all parameter schedulers.

    Subclasses implement :meth:`_get_value`, returning the new value of every
    param group for the step ``self.last_step`` (0 at ``begin``), usually in
    the chainable form: computed from the value currently in the group.

    At construction ``initial_<param_name>`` is recorded in each param group
    (kept if already there) and an initial step is taken, so when
    ``begin == 0`` the optimizer immediately holds the first value of the
    schedule (e.g. ``lr * start_factor`` of a warm-up).

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer to schedule.
        param_name (str): Key of ``optimizer.param_groups`` to schedule.
        begin (int): First step (epoch or iteration) at which the scheduler
            acts. Defaults to 0.
        end (int): Step at which it stops acting (exclusive). Defaults to
            ``INF``.
        last_step (int): The index of the last step done, to resume a schedule
            without :meth:`load_state_dict`; needs ``initial_<param_name>`` in
            the param groups. Defaults to -1 (a new schedule).
        by_epoch (bool): Whether steps are epochs (True) or iterations.
            Defaults to True.
        verbose (bool): Log every value change. Defaults to False.

    Raises:
        TypeError: ``optimizer`` is neither an Optimizer nor an OptimWrapper,
            or ``begin``/``end`` are not ints.
        ValueError: ``end <= begin``.
        KeyError: ``param_name`` is not a key of the param groups, or
            ``initial_<param_name>`` is missing when ``last_step >= 0``.
    """
    #: Whether ``step`` needs validation metrics (ReduceOnPlateau-like).
    need_val_args = False
    #: ``__init__`` arguments counted in epochs, scaled by
    #: :meth:`build_iter_from_epoch` (besides ``begin`` and ``end``).
    _epoch_args: tuple = ()

    def __init__(self,
                 optimizer: Any,
                 param_name: str,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        if not isinstance(param_name, str):
            raise TypeError(f'{name}: `param_name` should be a str, but got '
                            f'{param_name!r} ({type(param_name).__name__})')
        _check_interval(name, begin, end)
        _check_last_step(name, last_step)
        self.optimizer = optimizer
        self.param_name = param_name
        self.begin = begin
        self.end = end
        self.by_epoch = by_epoch
        self._check_param_name()
        initial_key = f'initial_{param_name}'
        groups = self._param_groups()
        if last_step == -1:
            for group in groups:
                group.setdefault(initial_key, group[param_name])
        else:
            for i, group in enumerate(groups):
                if initial_key not in group:
                    raise KeyError(
                        f"{name}: param '{initial_key}' is not specified in "
                        f'param_groups[{i}] when resuming with last_step='
                        f'{last_step}; resume the optimizer state too, or '
                        'use load_state_dict()')
        self.base_values = [group[initial_key] for group in groups]
        self.last_step = last_step
        # Steps seen since construction, whether or not inside [begin, end).
        self._global_step = 0 if last_step == -1 else begin + last_step + 1
        self.verbose = verbose
        self._order_checked = False
        self._last_value: List[Any] = []
        _CountedStep.wrap(optimizer)
        self._initial_step()

    # ---------------------------------------------------------------- hooks
    def _param_groups(self) -> List[dict]:
        """The param groups this scheduler updates (see
        ``_scheduled_groups``)."""
        return _scheduled_groups(self.optimizer, self.param_name)

    def _check_param_name(self) -> None:
        """Raise ``KeyError`` if a param group lacks ``self.param_name``."""
        for i, group in enumerate(self._param_groups()):
            if self.param_name not in group:
                keys = sorted(k for k in group if k != 'params')
                raise KeyError(
                    f'{type(self).__name__}: param_name '
                    f'{self.param_name!r} is not a key of optimizer.'
                    f'param_groups[{i}]; available keys: {keys}')

    def _get_value(self) -> List[Any]:
        """New value of every param group for step ``self.last_step``."""
        raise NotImplementedError(
            f'{type(self).__name__} must implement _get_value()')

    def _initial_step(self) -> None:
        """Take the construction-time step."""
        # The optimizer has not stepped since this scheduler exists.
        setattr(self.optimizer, _STEP_COUNT_ATTR, 0)
        self._advance()

    # ------------------------------------------------------------- stepping
    def step(self) -> None:
        """Advance the schedule by one step (epoch or iteration)."""
        if not self._order_checked:
            self._order_checked = True
            self._warn_if_optimizer_not_stepped()
        self._advance()

    def _advance(self) -> None:
        groups = self._param_groups()
        if self.begin <= self._global_step < self.end:
            self.last_step += 1
            values = self._get_value()
            for i, (group, value) in enumerate(zip(groups, values)):
                group[self.param_name] = value
                if self.verbose:
                    self.print_value(True, i, value)
        self._global_step += 1
        self._last_value = [group[self.param_name] for group in groups]

    def _warn_if_optimizer_not_stepped(self) -> None:
        step = getattr(self.optimizer, 'step', None)
        if not getattr(step, '_counted_by_param_scheduler', False):
            warnings.warn(
                'Seems like `optimizer.step()` has been overridden after '
                'the parameter scheduler was built. Please make sure to call '
                '`optimizer.step()` before `scheduler.step()`. ' + _ORDER_DOC,
                UserWarning,
                stacklevel=3)
            return
        if getattr(self.optimizer, _STEP_COUNT_ATTR, 0) >= 1:
            return
        # An OptimWrapper accumulating gradients legitimately skips steps.
        inner_count = getattr(self.optimizer, 'inner_count', 0)
        if isinstance(inner_count, Integral) and inner_count > 0:
            return
        warnings.warn(
            'Detected call of `scheduler.step()` before `optimizer.step()`. '
            'Call `optimizer.step()` first, otherwise the first value of the '
            'schedule is never used by an optimizer step. ' + _ORDER_DOC,
            UserWarning,
            stacklevel=3)

    def get_last_value(self) -> List[Any]:
        """Values of ``param_name`` in every param group after the last
        step."""
        return self._last_value

    def print_value(self, is_verbose: bool, group: int, value: Any) -> None:
        """Log the new ``value`` of param group ``group`` if verbose."""
        if is_verbose:
            print_log(
                f'Adjusting parameter value of group {group} to '
                f'{value:.4e}.',
                logger='current')

    # --------------------------------------------------------------- state
    def state_dict(self) -> dict:
        """Everything but the optimizer, as plain Python types.

        With an ``OptimWrapper`` holding ``base_param_settings`` (several
        param groups), the current value there is saved too: the optimizer's
        own state dict does not hold it, and ``base_lr`` would be wrong after
        a resume otherwise.
        """
        state = {
            key: _to_plain(value)
            for key, value in self.__dict__.items() if key != 'optimizer'
        }
        base = _base_settings(self.optimizer, self.param_name)
        if base is not None:
            state[_BASE_VALUE_KEY] = _to_plain(base[self.param_name])
        return state

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore the state saved by :meth:`state_dict`.

        Raises:
            TypeError: ``state_dict`` is not a mapping.
            KeyError: a public attribute of this scheduler is missing, i.e.
                the state was saved from a different kind of scheduler.
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise TypeError(f'{name}.load_state_dict expects a dict, but got '
                            f'{type(state_dict).__name__}')
        state_dict = dict(state_dict)
        base_value = state_dict.pop(_BASE_VALUE_KEY, None)
        expected = set(self.__dict__) - {'optimizer'}
        missing = sorted(
            k for k in expected - set(state_dict) if not k.startswith('_'))
        if missing:
            raise KeyError(
                f'{name}.load_state_dict: keys {missing} are missing from the '
                'state dict (saved from another kind of scheduler?); got keys '
                f'{sorted(state_dict)}')
        unexpected = sorted(set(state_dict) - expected)
        if unexpected:
            warnings.warn(
                f'{name}.load_state_dict ignores unknown keys {unexpected}',
                stacklevel=2)
        self.__dict__.update({
            key: copy.deepcopy(value)
            for key, value in state_dict.items() if key in expected
        })
        base = _base_settings(self.optimizer, self.param_name)
        if base is not None and base_value is not None:
            base[self.param_name] = copy.deepcopy(base_value)

    # --------------------------------------------------------- conversion
    @classmethod
    def _init_signature(cls) -> inspect.Signature:
        """Signature of the arguments ``cls(...)`` accepts.

        ``LRSchedulerMixin``-style classes forward ``*args, **kwargs`` after
        fixing ``param_name``; their signature is the generic scheduler's
        without ``param_name``.
        """
        forwarded = False
        for klass in cls.__mro__:
            init = klass.__dict__.get('__init__')
            if init is None:
                continue
            if getattr(init, '_fixes_param_name', False):
                forwarded = True
                continue
            sig = inspect.signature(init)
            if forwarded:
                sig = sig.replace(parameters=[
                    p for n, p in sig.parameters.items() if n != 'param_name'
                ])
            return sig
        return inspect.signature(cls)  # pragma: no cover

    @classmethod
    def build_iter_from_epoch(cls,
                              *args,
                              begin: int = 0,
                              end: int = INF,
                              by_epoch: bool = True,
                              epoch_length: Optional[int] = None,
                              **kwargs) -> '_ParamScheduler':
        """Build an iteration-based scheduler from epoch-based arguments.

        ``begin``, ``end`` (unless ``INF``) and the class's epoch-counted
        arguments (``milestones``, ``step_size``, ``T_max``, ``periods``,
        ``total_steps``) are multiplied by ``epoch_length``.

        Args:
            *args: Positional arguments of the scheduler (``optimizer``, ...).
            begin (int): First epoch. Defaults to 0.
            end (int): Last epoch (exclusive). Defaults to ``INF``.
            by_epoch (bool): Must be True: the arguments are in epochs.
            epoch_length (int): Iterations per epoch.
            **kwargs: Other arguments of the scheduler.

        Returns:
            _ParamScheduler: A scheduler with ``by_epoch=False``.
        """
        if not by_epoch:
            raise ValueError(
                f'{cls.__name__}.build_iter_from_epoch: only epoch-based '
                'arguments (by_epoch=True) can be converted to iter-based, '
                'but got by_epoch=False')
        if (isinstance(epoch_length, bool)
                or not isinstance(epoch_length, Integral)
                or epoch_length <= 0):
            raise SchedulerArgumentError(
                f'{cls.__name__}.build_iter_from_epoch: `epoch_length` must '
                f'be a positive integer, but got {epoch_length!r}')
        # Checked in epochs (fractions allowed): an error about converted
        # values would confuse the user.
        where = f'{cls.__name__}.build_iter_from_epoch'
        _check_number(where, 'begin', begin)
        _check_number(where, 'end', end)
        if end <= begin:
            raise ValueError(f'{where}: end should be larger than begin, but '
                             f'got begin={begin}, end={end} (epochs)')
        sig = cls._init_signature()
        try:
            bound = sig.bind(None, *args, **kwargs)
        except TypeError as e:
            raise TypeError(f'{cls.__name__}.build_iter_from_epoch: {e}') \
                from None
        arguments = dict(bound.arguments)
        arguments.pop(next(iter(sig.parameters)))  # ``self``
        clash = [k for k in ('begin', 'end', 'by_epoch') if k in arguments]
        if clash:
            raise TypeError(
                f'{cls.__name__}.build_iter_from_epoch: pass {clash} by '
                'keyword, not positionally')
        for name, param in sig.parameters.items():
            if name not in arguments:
                continue
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                extra = dict(arguments.pop(name))
                for key in list(extra):
                    if key in cls._epoch_args:
                        extra[key] = _scale_epochs(extra[key], epoch_length)
                arguments.update(extra)
            elif name in cls._epoch_args and arguments[name] is not None:
                arguments[name] = _scale_epochs(arguments[name], epoch_length)
        positional = []
        for name, param in sig.parameters.items():
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                positional = list(arguments.pop(name, ()))
        if positional:  # their names are unknown, so they can't be scaled
            raise TypeError(
                f'{cls.__name__}.build_iter_from_epoch: cannot convert '
                'arguments of a scheduler whose __init__ takes *args; pass '
                'its arguments by keyword')
        # a fraction of an iteration is dropped, as in the original engine
        arguments['begin'] = int(_scale_epochs(begin, epoch_length))
        arguments['end'] = end if end == INF else int(
            _scale_epochs(end, epoch_length))
        arguments['by_epoch'] = False
        return cls(**arguments)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(param_name={self.param_name!r}, '
                f'begin={self.begin}, end={self.end}, '
                f'by_epoch={self.by_epoch}, last_step={self.last_step})')


def _to_plain(value: Any) -> Any:
    """Copy ``value`` as types ``torch.load(weights_only=True)`` accepts."""
    if isinstance(value, Counter):
        return dict(value)
    return copy.deepcopy(value)


def _format_per_group(scheduler: str, name: str, optimizer: Any,
                      param_name: str,
                      value: Union[Any, Sequence[Any]]) -> List[Any]:
    """One value per scheduled param group.

    A sequence must have one value per group of the torch optimizer; an
    ``OptimWrapper``'s base settings group reuses the last one.
    """
    raw = optimizer if isinstance(optimizer, Optimizer) else \
        optimizer.optimizer
    num_raw = len(raw.param_groups)
    num_all = len(_scheduled_groups(optimizer, param_name))
    if isinstance(value, (list, tuple)):
        if len(value) != num_raw:
            raise ValueError(
                f'{scheduler}: `{name}` has {len(value)} values but the '
                f'optimizer has {num_raw} param groups')
        return list(value) + [value[-1]] * (num_all - num_raw)
    return [value] * num_all


# The generic schedulers live in their own modules; keep them importable from
# here too (``from ...param_scheduler import LinearParamScheduler``).
_MOVED = {
    'ConstantParamScheduler': 'multiplicative_schedulers',
    'ExponentialParamScheduler': 'multiplicative_schedulers',
    'StepParamScheduler': 'multiplicative_schedulers',
    'MultiStepParamScheduler': 'multiplicative_schedulers',
    'LinearParamScheduler': 'multiplicative_schedulers',
    'CosineAnnealingParamScheduler': 'annealing_schedulers',
    'PolyParamScheduler': 'annealing_schedulers',
    'CosineRestartParamScheduler': 'annealing_schedulers',
    'OneCycleParamScheduler': 'annealing_schedulers',
    'ReduceOnPlateauParamScheduler': 'reduce_on_plateau',
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    return getattr(importlib.import_module(f'{__package__}.{module}'), name)
