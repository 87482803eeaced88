"""``LogProcessor``: turns the message hub's scalars into log lines.

``LoggerHook`` calls it at log intervals; it picks the statistic of every
``train/``, ``val/`` or ``test/`` scalar (mean over a window for losses and
times, the latest value for the rest, or what ``custom_cfg`` asks for) and
formats the console line, e.g.::

    Epoch(train) [1][10/25]  lr: 1.0000e-02  eta: 0:00:03  time: 0.1414  data_time: 0.0077  loss: 0.5346
"""  # noqa: E501
import datetime
import functools
import logging
import re
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

import mmengine.device as device_utils  # attribute access: patchable
from mmengine.logging import print_log
from mmengine.registry import LOG_PROCESSORS

__all__ = ['LogProcessor']

_MODES = ('train', 'val', 'test')
_WINDOW_NAMES = ('epoch', 'global')


@functools.lru_cache(maxsize=1024)
def _is_averaged(mean_pattern: str, key: str) -> bool:
    """Whether ``key`` is averaged by default (cached: asked every log)."""
    return re.search(mean_pattern, key) is not None


def _to_number(value: Any) -> Any:
    """numpy scalars → Python numbers (for formatting and JSON backends)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


@LOG_PROCESSORS.register_module()
class LogProcessor:
    """Compute the statistics to log and format the log lines.

    Default statistics: keys matching ``mean_pattern`` (losses, ``time``,
    ``data_time``, ``grad_norm``) are averaged over the last ``window_size``
    iterations; every other key (``lr``, custom scalars) shows its latest
    value. ``custom_cfg`` changes this per key.

    Args:
        window_size (int): window of the default means. Defaults to 10.
        by_epoch (bool): epoch-style (``Epoch(train) [e][i/n]``) or
            iteration-style (``Iter(train) [i/n]``) prefixes; must match the
            train loop. Defaults to True.
        custom_cfg (list[dict], optional): one dict per statistic with
            ``data_src`` (scalar name without the ``train/`` etc. prefix),
            ``method_name`` (``'mean'``, ``'max'``, ``'min'``, ``'current'``
            or a statistic registered on ``HistoryBuffer``), optional
            ``log_name`` (shown name; without it the result replaces the
            default statistic of ``data_src``), optional ``window_size`` (an
            int, ``'epoch'`` = since the epoch started, ``'global'`` = the
            whole history) and further arguments of the statistic.
        num_digits (int): digits after the point (``lr`` uses ``e``
            notation). Defaults to 4.
        log_with_hierarchy (bool): keep the ``train/``... prefix in the
            returned tag (for visualization backends). Defaults to False.
        mean_pattern (str): regex of the keys averaged by default.

    Examples:
        >>> log_processor = dict(
        ...     window_size=10,
        ...     custom_cfg=[
        ...         dict(data_src='loss', method_name='mean',
        ...              window_size='global'),
        ...         dict(data_src='loss', log_name='loss_max',
        ...              method_name='max', window_size=10)])
    """

    # Class-level defaults keep subclasses that skip ``__init__`` working.
    window_size: int = 10
    by_epoch: bool = True
    custom_cfg: List[dict] = []
    num_digits: int = 4
    log_with_hierarchy: bool = False
    mean_pattern: str = r'.*(loss|time|data_time|grad_norm).*'
    _loop_checked: bool = False

    def __init__(self,
                 window_size: int = 10,
                 by_epoch: bool = True,
                 custom_cfg: Optional[List[dict]] = None,
                 num_digits: int = 4,
                 log_with_hierarchy: bool = False,
                 mean_pattern: str = r'.*(loss|time|data_time|grad_norm).*'):
        if isinstance(window_size, bool) or not isinstance(
                window_size, int) or window_size < 1:
            raise ValueError('LogProcessor: window_size must be a positive '
                             f'int, but got {window_size!r}')
        if isinstance(num_digits, bool) or not isinstance(
                num_digits, int) or num_digits < 0:
            raise ValueError('LogProcessor: num_digits must be an int >= 0, '
                             f'but got {num_digits!r}')
        try:
            re.compile(mean_pattern)
        except (re.error, TypeError) as e:
            raise ValueError('LogProcessor: mean_pattern must be a valid '
                             f'regular expression, got {mean_pattern!r} '
                             f'({e})') from e
        self.window_size = window_size
        self.by_epoch = by_epoch
        if custom_cfg is not None and not isinstance(custom_cfg,
                                                     (list, tuple)):
            raise TypeError('LogProcessor: custom_cfg must be a list of '
                            f'dicts, but got {type(custom_cfg).__name__}')
        self.custom_cfg = list(custom_cfg) if custom_cfg else []
        self.num_digits = num_digits
        self.log_with_hierarchy = log_with_hierarchy
        self.mean_pattern = mean_pattern
        self._check_custom_cfg()

    # ------------------------------------------------------------------
    # configuration checks
    def _check_custom_cfg(self) -> None:
        """Validate ``custom_cfg``.

        Raises:
            TypeError: if ``custom_cfg`` or an entry has the wrong type.
            ValueError: if ``data_src`` is missing, a ``window_size`` is
                invalid (``'epoch'`` needs ``by_epoch=True``), or two
                entries would show under the same name.
        """
        if not isinstance(self.custom_cfg, (list, tuple)):
            raise TypeError('LogProcessor: custom_cfg must be a list of '
                            f'dicts, but got {type(self.custom_cfg).__name__}')
        shown = set()
        for i, cfg in enumerate(self.custom_cfg):
            where = f'LogProcessor custom_cfg[{i}]'
            if not isinstance(cfg, dict):
                raise TypeError(f'{where} must be a dict, but got '
                                f'{type(cfg).__name__}')
            if 'data_src' not in cfg:
                raise ValueError(f'{where} = {cfg} has no "data_src" (the '
                                 'scalar to compute the statistic of)')
            if not isinstance(cfg.get('method_name', 'mean'), str):
                raise TypeError(f'{where}: method_name must be a str, got '
                                f'{type(cfg["method_name"]).__name__}')
            window = cfg.get('window_size')
            if window is not None:
                valid_int = isinstance(window, int) and not isinstance(
                    window, bool) and window >= 1
                if not valid_int and window not in _WINDOW_NAMES:
                    raise ValueError(
                        f"{where}: window_size must be a positive int, "
                        f"'epoch' or 'global', but got {window!r}")
                if window == 'epoch' and not self.by_epoch:
                    raise ValueError(
                        f"{where}: window_size cannot be 'epoch' when "
                        'by_epoch is False (there are no epochs)')
            log_name = cfg.get('log_name', cfg['data_src'])
            if log_name in shown:
                raise ValueError(
                    f'{where}: found duplicate log name {log_name!r} for '
                    f'data_src {cfg["data_src"]!r}. Each data_src may be '
                    'overridden (no log_name) only once, and every log_name '
                    'must be unique.')
            shown.add(log_name)

    def _check_loop_type(self, runner: Any) -> None:
        """Warn once if ``by_epoch`` disagrees with the built-in train loop
        (the lines would show e.g. ``[1][30/25]``)."""
        self._loop_checked = True
        from .loops import EpochBasedTrainLoop, IterBasedTrainLoop
        loop = getattr(runner, 'train_loop', None)
        loop_by_epoch = {IterBasedTrainLoop: False, EpochBasedTrainLoop: True}
        expected = next((by_epoch for cls, by_epoch in loop_by_epoch.items()
                         if isinstance(loop, cls)), self.by_epoch)
        if expected == self.by_epoch:
            return
        print_log(
            f'LogProcessor(by_epoch={self.by_epoch}) does not match the '
            f'train loop {type(loop).__name__} (train_cfg by_epoch='
            f'{expected}): the log lines count iterations differently from '
            f'the loop. Set log_processor=dict(by_epoch={expected}).',
            logger='current',
            level=logging.WARNING)

    # ------------------------------------------------------------------
    # public API
    def get_log_after_iter(self, runner: Any, batch_idx: int,
                           mode: str) -> Tuple[dict, str]:
        """Statistics and log line after an iteration.

        Args:
            runner: the runner (uses ``message_hub``, ``iter``, ``epoch``,
                ``max_iters``, ``max_epochs`` and the current loop's
                ``dataloader``).
            batch_idx (int): index of the iteration in the current epoch
                (or dataloader pass).
            mode (str): ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            tuple[dict, str]: the tag (numbers for visualization backends,
            including ``epoch``/``iter``) and the log line.
        """
        self._check_mode(mode, ('train', 'val', 'test'))
        if mode == 'train' and not self._loop_checked:
            self._check_loop_type(runner)
        stats = self._collect_scalars(
            self._parse_windows_size(runner, batch_idx), runner, mode)
        tag = self._with_prefix(stats, mode)
        train_loop_built = self._train_loop_built(runner)

        # Header.
        if self.by_epoch:
            total = self._get_dataloader_size(runner, mode)
            cur = str(self._get_iter(runner, batch_idx)).rjust(
                len(str(total)))
            if mode == 'test':
                header = f'Epoch({mode}) [{cur}/{total}]'
            else:
                epoch = self._get_epoch(runner, mode)
                tag['epoch'] = epoch
                epoch_str = f'[{epoch}]'
                if train_loop_built:
                    # Right-align to the widest epoch: '[', ']' and a space.
                    epoch_str = epoch_str.rjust(
                        len(str(runner.max_epochs)) + 3)
                else:
                    epoch_str = ' ' + epoch_str
                header = f'Epoch({mode}){epoch_str}[{cur}/{total}]'
        elif mode == 'train':
            total = runner.max_iters
            cur = str(self._get_iter(runner)).rjust(len(str(total)))
            header = f'Iter({mode}) [{cur}/{total}]'
        else:
            total = self._get_dataloader_size(runner, mode)
            cur = str(batch_idx + 1).rjust(len(str(total)))
            header = f'Iter({mode}) [{cur}/{total}]'
        tag['iter'] = runner.iter + 1 if train_loop_built else 0

        # Body: lr, eta/time/data_time, memory, then the other scalars.
        rest = OrderedDict(stats)
        lr_items = [
            f'{key}: {rest.pop(key):.{self.num_digits}e}'
            for key in [k for k in stats if k.endswith('lr')]
        ]
        items = []
        if 'time' in rest:
            eta = self._get_eta(runner, batch_idx, mode, rest['time'])
            items.append(f'eta: {datetime.timedelta(seconds=int(eta))}')
            items.append(f'time: {rest.pop("time"):.{self.num_digits}f}')
            if 'data_time' in rest:
                items.append('data_time: '
                             f'{rest.pop("data_time"):.{self.num_digits}f}')
        memory = self._get_max_memory(runner)
        if memory is not None:
            items.append(f'memory: {memory}')
            tag['memory'] = memory
        if mode == 'train':
            items.extend(
                f'{name}: {self._format(value)}'
                for name, value in rest.items())
        # An empty lr part still takes its separator (reference format:
        # 'Epoch(val) [1][10/313]    eta: ...').
        log_str = f'{header}  {"  ".join(lr_items)}  {"  ".join(items)}'
        return tag, log_str.rstrip()

    def get_log_after_epoch(self,
                            runner: Any,
                            batch_idx: int,
                            mode: str,
                            with_non_scalar: bool = False
                            ) -> Tuple[dict, str]:
        """Statistics and summary line after a val/test epoch.

        Shows the metrics (scalars in the message hub under ``val/`` or
        ``test/``), non-scalar metrics (runtime info under the same
        prefix), then the epoch means of ``data_time`` and ``time``.

        Args:
            runner: the runner.
            batch_idx (int): kept for API compatibility (the epoch length
                is read from the dataloader).
            mode (str): ``'val'`` or ``'test'``.
            with_non_scalar (bool): also return non-scalar metrics in the
                tag. Defaults to False.

        Returns:
            tuple[dict, str]: the tag and the log line.
        """
        self._check_mode(mode, ('val', 'test'))
        total = self._get_dataloader_size(runner, mode)
        if not self.by_epoch:
            header = f'Iter({mode}) [{total}/{total}]'
        elif mode == 'val':
            header = (f'Epoch({mode}) [{self._get_epoch(runner, mode)}]'
                      f'[{total}/{total}]')
        else:
            header = f'Epoch({mode}) [{total}/{total}]'

        custom = list(self.custom_cfg)
        sources = {cfg['data_src'] for cfg in custom}
        for key in ('time', 'data_time'):
            if key not in sources:  # per-epoch means at the end of the line
                custom.append(
                    dict(data_src=key, method_name='mean',
                         window_size='epoch'))
        stats = self._collect_scalars(
            self._parse_windows_size(runner, total - 1, custom), runner,
            mode)
        times = OrderedDict(
            (k, stats.pop(k)) for k in ('data_time', 'time') if k in stats)
        non_scalars = self._collect_non_scalars(runner, mode)

        items = [
            f'{name}: {self._format(value)}'
            for name, value in (*stats.items(), *non_scalars.items(),
                                *times.items())
        ]
        log_str = f'{header}  {"  ".join(items)}'.rstrip()
        tag = self._with_prefix(stats, mode)
        if with_non_scalar:
            tag.update(self._with_prefix(non_scalars, mode))
        tag.update(self._with_prefix(times, mode))
        return tag, log_str

    # ------------------------------------------------------------------
    # statistics
    def _parse_windows_size(self,
                            runner: Any,
                            batch_idx: int,
                            custom_cfg: Optional[List[dict]] = None
                            ) -> List[dict]:
        """Copies of the custom configs with ``'epoch'``/``'global'``
        windows replaced by numbers (``None`` = whole history)."""
        parsed = []
        for cfg in (self.custom_cfg if custom_cfg is None else custom_cfg):
            cfg = dict(cfg)
            window = cfg.get('window_size')
            if window == 'epoch':
                cfg['window_size'] = batch_idx + 1
            elif window == 'global':
                cfg['window_size'] = None
            elif window is not None and (isinstance(window, bool)
                                         or not isinstance(window, int)):
                raise ValueError(
                    "window_size must be a positive int, 'epoch' or "
                    f"'global', but got {window!r}")
            parsed.append(cfg)
        return parsed

    def _collect_scalars(self, custom_cfg: List[dict], runner: Any,
                         mode: str) -> 'OrderedDict[str, Any]':
        """``{name without mode prefix: statistic}`` for the mode's
        scalars: default statistics first, then ``custom_cfg``."""
        # Runs at every log interval: one pass over the hub, no copies of
        # the histories (each statistic reads only its window).
        prefix = f'{mode}/'
        start = len(prefix)
        window = self.window_size
        pattern = self.mean_pattern
        buffers = {}
        stats: 'OrderedDict[str, Any]' = OrderedDict()
        for key, buf in runner.message_hub.log_scalars.items():
            if not key.startswith(prefix) or not len(buf._log_history):
                continue  # another mode, or nothing logged yet
            name = key[start:]
            buffers[name] = buf
            if _is_averaged(pattern, name):
                stats[name] = _to_number(buf.mean(window))
            else:
                stats[name] = _to_number(buf.current())
        for cfg in custom_cfg:
            args = dict(cfg)
            data_src = args.pop('data_src')
            log_name = args.pop('log_name', data_src)
            method = args.pop('method_name', 'mean')
            if data_src not in buffers:
                continue  # e.g. a train-only scalar while validating
            try:
                value = buffers[data_src].statistics(method, **args)
            except (KeyError, TypeError) as e:
                # An unknown method_name or a misspelt argument: name the
                # entry (the user's, with its original window_size).
                entry = next((c for c in self.custom_cfg
                              if c.get('log_name', c['data_src']) == log_name),
                             cfg)
                reason = e.args[0] if len(e.args) == 1 else e
                # ValueError for an unknown name: KeyError would show the
                # message as a quoted repr.
                raise (ValueError if isinstance(e, KeyError) else TypeError)(
                    f'LogProcessor custom_cfg entry {entry} failed for '
                    f'{prefix}{data_src}: {reason}') from e
            stats[log_name] = _to_number(value)
        return stats

    def _collect_non_scalars(self, runner: Any,
                             mode: str) -> 'OrderedDict[str, Any]':
        """Runtime-info entries under ``<mode>/`` (non-scalar metrics)."""
        prefix = f'{mode}/'
        return OrderedDict(
            (key[len(prefix):], value)
            for key, value in runner.message_hub.runtime_info.items()
            if key.startswith(prefix))

    # ------------------------------------------------------------------
    # helpers
    @staticmethod
    def _check_mode(mode: str, allowed: Tuple[str, ...]) -> None:
        if mode not in allowed:
            raise ValueError(f'mode must be one of {allowed}, but got '
                             f'{mode!r}')

    def _with_prefix(self, stats: Dict[str, Any],
                     mode: str) -> 'OrderedDict[str, Any]':
        if not self.log_with_hierarchy:
            return OrderedDict(stats)
        return OrderedDict((f'{mode}/{k}', v) for k, v in stats.items())

    def _format(self, value: Any) -> str:
        value = _to_number(value)
        if isinstance(value, float):
            return f'{value:.{self.num_digits}f}'
        if type(value).__module__ in ('torch', 'numpy') and hasattr(
                value, 'shape'):
            return f'\n{value}\n'  # tensors and arrays on their own lines
        return str(value)

    @staticmethod
    def _train_loop_built(runner: Any) -> bool:
        loop = getattr(runner, '_train_loop', None)
        return loop is not None and not isinstance(loop, dict)

    @staticmethod
    def _get_cur_loop(runner: Any, mode: str) -> Any:
        return getattr(runner, f'{mode}_loop')

    def _get_dataloader_size(self, runner: Any, mode: str) -> int:
        return len(self._get_cur_loop(runner, mode).dataloader)

    def _get_iter(self, runner: Any, batch_idx: Optional[int] = None) -> int:
        """1-based iteration shown in the header."""
        if self.by_epoch and batch_idx is not None:
            return batch_idx + 1
        return runner.iter + 1

    def _get_epoch(self, runner: Any, mode: str) -> int:
        """1-based epoch being trained, or the epoch just trained (val)."""
        if mode == 'train':
            return runner.epoch + 1
        # Validation runs after the epoch counter moved on; standalone
        # validation (no train loop) is shown as epoch 0.
        return runner.epoch if self._train_loop_built(runner) else 0

    def _get_eta(self, runner: Any, batch_idx: int, mode: str,
                 time: float) -> float:
        """Seconds left: the ``eta`` runtime info (``IterTimerHook``), or
        the mean iteration time times the iterations left."""
        eta = runner.message_hub.get_info('eta')
        if eta is not None:
            return eta
        if mode == 'train':
            left = runner.max_iters - runner.iter - 1
        else:
            left = self._get_dataloader_size(runner, mode) - batch_idx - 1
        return max(left, 0) * time

    def _get_max_memory(self, runner: Any) -> Optional[int]:
        """Peak accelerator memory (MB) since the last call; None on CPU."""
        if device_utils.is_cuda_available():
            return device_utils.get_max_cuda_memory(
                getattr(runner.model, 'output_device', None))
        if device_utils.is_musa_available():
            return device_utils.get_max_musa_memory(
                getattr(runner.model, 'output_device', None))
        return None

    @staticmethod
    def _remove_prefix(string: str, prefix: str) -> str:
        return string[len(prefix):] if string.startswith(prefix) else string

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(window_size={self.window_size}, '
                f'by_epoch={self.by_epoch}, custom_cfg={self.custom_cfg}, '
                f'num_digits={self.num_digits}, '
                f'log_with_hierarchy={self.log_with_hierarchy})')

