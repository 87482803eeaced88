"""``CheckInvalidLossHook``: detect NaN/Inf losses; stop or skip updates."""
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from mmengine.registry import HOOKS
from .hook import DATA_BATCH, Hook

# Recorded losses are read at the latest after this many entries, so that
# a very long interval does not keep an unbounded list of tensors.
_MAX_PENDING = 1024


def _finite_flags(values: List[Any]) -> List[bool]:
    """Whether each number/tensor of ``values`` is entirely finite.

    One-element tensors of a device are stacked and read with a single
    copy to the host, i.e. one synchronisation per device.
    """
    flags: List[Optional[bool]] = [None] * len(values)
    groups: Dict[Any, List[int]] = {}
    for i, value in enumerate(values):
        if isinstance(value, torch.Tensor):
            scalar = value.numel() == 1
            groups.setdefault((value.device, scalar), []).append(i)
        else:
            flags[i] = math.isfinite(value)
    for (_, scalar), indexes in groups.items():
        if scalar:
            stacked = torch.stack([values[i].reshape(()) for i in indexes])
            finite = torch.isfinite(stacked)
        else:
            finite = torch.stack(
                [torch.isfinite(values[i]).all() for i in indexes])
        for i, ok in zip(indexes, finite.tolist()):
            flags[i] = bool(ok)
    return flags  # type: ignore


class InvalidLossError(AssertionError, FloatingPointError):
    """A training loss became NaN or infinite.

    Subclasses ``FloatingPointError`` (what it is) and ``AssertionError``
    (what the assert-based hook of downstream code bases raised), so either
    ``except`` clause catches it.
    """


@HOOKS.register_module()
class CheckInvalidLossHook(Hook):
    """Detects NaN/Inf losses and stops training or skips the bad updates.

    The checked values are the entries of the training step's outputs whose
    key contains ``'loss'`` (or the keys in ``loss_keys``).

    ``policy='stop'`` (default): every iteration the hook only keeps a
    reference to each (detached) loss, with no host-device synchronisation;
    every ``interval`` iterations (and when training ends, or once 1024
    losses are waiting) it reads them all at once, one copy per device.
    If a loss was invalid it raises :class:`InvalidLossError` naming the
    first bad iteration (1-based) and the loss keys, so no NaN can slip
    through between two checks.

    ``policy='skip'``: the hook guards ``update_params`` of the runner's
    optimizer wrapper(s) during training; a non-finite loss is not
    back-propagated, so the parameters are left untouched, and the hook logs
    a warning with the iteration and the invalid keys. This needs one
    synchronisation per iteration (reading the loss), the price of being
    able to skip. With gradient accumulation the skipped iteration still
    counts towards the accumulation window. A ``train_step`` that does not
    call ``optim_wrapper.update_params`` cannot be guarded; invalid losses
    are then reported like with ``'stop'`` but not skipped.

    Args:
        interval (int): Check every ``interval`` training iterations (policy
            ``'stop'``). Defaults to 50.
        policy (str): ``'stop'`` or ``'skip'``. Defaults to ``'stop'``.
        loss_keys (sequence of str, optional): Keys of the outputs to check.
            Defaults to every key containing ``'loss'``.
    """

    priority = 'NORMAL'
    _policies = ('stop', 'skip')

    def __init__(self,
                 interval: int = 50,
                 policy: str = 'stop',
                 loss_keys: Optional[Sequence[str]] = None) -> None:
        if not isinstance(interval, int) or isinstance(interval, bool) or \
                interval <= 0:
            raise ValueError('CheckInvalidLossHook: interval must be a '
                             f'positive int, but got {interval!r}')
        if policy not in self._policies:
            raise ValueError('CheckInvalidLossHook: policy must be one of '
                             f'{self._policies}, but got {policy!r}')
        if loss_keys is not None:
            if isinstance(loss_keys, str) or not all(
                    isinstance(k, str) for k in loss_keys):
                raise TypeError('CheckInvalidLossHook: loss_keys must be a '
                                f'sequence of str, but got {loss_keys!r}')
            loss_keys = list(loss_keys)
        self.interval = interval
        self.policy = policy
        self.loss_keys = loss_keys
        self.num_skipped = 0
        self._reset_flags()
        self._guarded: List[Any] = []
        self._skip_pending = False
        self._guard_calls = 0

    # ------------------------------------------------------------------
    # detection without synchronisation
    def _reset_flags(self) -> None:
        # (0-based iteration, key, detached tensor or number) of the losses
        # recorded since the last check.
        self._pending: List[Tuple[int, str, Any]] = []

    def _keys(self, outputs: dict) -> List[str]:
        if self.loss_keys is not None:
            missing = [k for k in self.loss_keys if k not in outputs]
            if missing:
                raise KeyError(
                    f'CheckInvalidLossHook: loss_keys {missing} are not in '
                    f'the training outputs, which have keys {list(outputs)}')
            return self.loss_keys
        return [k for k in outputs if 'loss' in k]

    def _accumulate(self, outputs: dict, iteration: int) -> None:
        """Remember the losses of ``iteration``; nothing is read yet."""
        pending = self._pending
        for key in self._keys(outputs):
            value = outputs[key]
            if isinstance(value, torch.Tensor):
                pending.append((iteration, key, value.detach()))
            elif isinstance(value, (int, float)):
                pending.append((iteration, key, value))
            else:
                raise TypeError(
                    f'CheckInvalidLossHook: outputs[{key!r}] must be a '
                    f'number or tensor, but got {type(value).__name__}')
        # Bounds memory when the interval is very long.
        if len(pending) >= _MAX_PENDING:
            self._check()

    def _check(self) -> None:
        """Read the recorded losses (one read per device) and raise if one
        was invalid."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        finite = _finite_flags([value for _, _, value in pending])
        bad = [(it, key) for (it, key, _), ok in zip(pending, finite)
               if not ok]
        if bad:
            first = bad[0][0]
            invalid = list(dict.fromkeys(key for _, key in bad))
            raise InvalidLossError(
                f'Loss became infinite or NaN at iteration {first + 1} '
                f'(invalid keys: {invalid}); training is stopped '
                f'(CheckInvalidLossHook policy="stop").')

    # ------------------------------------------------------------------
    # skipping
    def before_train(self, runner) -> None:
        """Guard the optimizer wrapper(s) with ``policy='skip'``."""
        self._reset_flags()
        if self.policy != 'skip':
            return
        optim_wrapper = runner.optim_wrapper
        wrappers = list(optim_wrapper.values()) if hasattr(
            optim_wrapper, 'values') else [optim_wrapper]
        for wrapper in wrappers:
            self._guard(wrapper)

    def _guard(self, wrapper) -> None:
        original = wrapper.update_params
        hook = self

        def update_params(loss: torch.Tensor,
                          step_kwargs: Optional[dict] = None,
                          zero_kwargs: Optional[dict] = None) -> None:
            hook._guard_calls += 1
            if bool(torch.isfinite(loss.detach()).all()):
                return original(loss, step_kwargs, zero_kwargs)
            hook._skip_pending = True
            hook.num_skipped += 1
            # Keep accumulation windows aligned: the skipped iteration still
            # counts, and a window it closes is applied without it.
            if getattr(wrapper, '_accumulative_counts', 1) > 1 and hasattr(
                    wrapper, '_inner_count'):
                wrapper._inner_count += 1
                if wrapper.should_update():
                    wrapper.step(**(step_kwargs or {}))
                    wrapper.zero_grad(**(zero_kwargs or {}))

        wrapper.update_params = update_params
        self._guarded.append(wrapper)

    def after_train(self, runner) -> None:
        """Remove the guards; final check with ``policy='stop'``."""
        for wrapper in self._guarded:
            if 'update_params' in vars(wrapper):
                del wrapper.update_params
        self._guarded = []
        self._check()

    # ------------------------------------------------------------------
    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Record (stop) or report (skip) invalid losses."""
        if outputs is None:
            return
        if self.policy == 'skip' and self._guard_calls:
            self._guard_calls = 0
            if self._skip_pending:
                self._skip_pending = False
                invalid = [
                    key for key in self._keys(outputs)
                    if not bool(torch.isfinite(
                        torch.as_tensor(outputs[key])).all())
                ]
                runner.logger.warning(
                    f'Loss is infinite or NaN at iteration {runner.iter + 1} '
                    f'(invalid keys: {invalid or ["loss"]}); the parameter '
                    f'update of this iteration is skipped ({self.num_skipped}'
                    ' skipped so far).')
            return
        self._accumulate(outputs, runner.iter)
        if self.every_n_train_iters(runner, self.interval):
            self._check()
