"""``LoggerHook``: text log lines, scalar logs, and copying logs away."""
import logging
import os
import os.path as osp
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

from mmengine.fileio import dump, get_file_backend
from mmengine.registry import HOOKS
from mmengine.utils import is_tuple_of, scandir
from .hook import DATA_BATCH, Hook

SUFFIX_TYPE = Union[Sequence[str], str]


def _check_positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f'LoggerHook: {name} must be an int, but got '
                        f'{type(value).__name__}: {value!r}')
    if value <= 0:
        raise ValueError(f'LoggerHook: {name} must be greater than 0, but '
                         f'got {value}')


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f'LoggerHook: {name} must be a bool, but got '
                        f'{type(value).__name__}: {value!r}')


@HOOKS.register_module()
class LoggerHook(Hook):
    """Logs training/validation/test progress and metrics.

    Every ``interval`` iterations it asks ``runner.log_processor`` for the
    formatted line (``Epoch(train) [1][10/25]  lr: ...  loss: ...``) and its
    numeric ``tag`` dict, logs the line with ``runner.logger`` and, for
    training, sends the tag to ``runner.visualizer.add_scalars`` (step
    ``runner.iter + 1``), which the local backend appends as one JSON line
    to ``<log_dir>/vis_data/<timestamp>.json``. After each val/test epoch it
    logs the metrics line; val metrics are also sent to the visualizer with
    step = epoch (``log_metric_by_epoch=True``) or the current iteration.

    Args:
        interval (int): Logging interval, in iterations. Defaults to 10.
        ignore_last (bool): Skip the trailing iterations of an epoch that do
            not complete an ``interval`` (25 iterations, interval 10: only 10
            and 20 are logged). If the epoch is shorter than ``interval`` its
            last iteration is logged anyway. Defaults to True.
        interval_exp_name (int): Also log ``Exp name: <experiment_name>``
            every this many iterations (and at the end of each epoch).
            Defaults to 1000.
        out_dir (str or Path, optional): Copy the log files of the run
            (files of ``runner.log_dir`` ending with ``out_suffix``) to
            ``<out_dir>/<basename of work_dir>`` after the run. Any storage
            backend of :mod:`mmengine.fileio` works. Defaults to None.
        out_suffix (str or tuple[str]): Suffixes of the files copied to
            ``out_dir``. Defaults to ``('.json', '.log', '.py', 'yaml')``.
        keep_local (bool): Keep the local copies after copying them to
            ``out_dir``. Defaults to True.
        file_client_args (dict, optional): Deprecated, use ``backend_args``.
        log_metric_by_epoch (bool): Whether val metrics are written with the
            epoch (True) or the iteration (False) as step. Set it to False for
            iteration-based training. Defaults to True.
        backend_args (dict, optional): Arguments of the ``out_dir`` storage
            backend. Defaults to None.
        by_epoch (bool, optional): MMCV-era name of ``log_metric_by_epoch``,
            accepted with a ``DeprecationWarning`` (the line format follows
            ``log_processor=dict(by_epoch=...)``).
        reset_flag (bool, optional): MMCV-era argument without effect
            (the message hub keeps the history); accepted with a
            ``DeprecationWarning``.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self,
                 interval: int = 10,
                 ignore_last: bool = True,
                 interval_exp_name: int = 1000,
                 out_dir: Optional[Union[str, Path]] = None,
                 out_suffix: SUFFIX_TYPE = ('.json', '.log', '.py', 'yaml'),
                 keep_local: bool = True,
                 file_client_args: Optional[dict] = None,
                 log_metric_by_epoch: bool = True,
                 backend_args: Optional[dict] = None,
                 by_epoch: Optional[bool] = None,
                 reset_flag: Optional[bool] = None) -> None:
        if by_epoch is not None:
            _check_bool('by_epoch', by_epoch)
            warnings.warn(
                'LoggerHook(by_epoch=...) is the MMCV-era name of '
                '`log_metric_by_epoch` and is deprecated; the format of the '
                'log lines is set by `log_processor=dict(by_epoch=...)`.',
                DeprecationWarning,
                stacklevel=2)
            log_metric_by_epoch = by_epoch
        if reset_flag is not None:
            warnings.warn(
                'LoggerHook(reset_flag=...) has no effect in MMEngine (the '
                'log history lives in the message hub) and is deprecated.',
                DeprecationWarning,
                stacklevel=2)
        _check_positive_int('interval', interval)
        _check_bool('ignore_last', ignore_last)
        _check_positive_int('interval_exp_name', interval_exp_name)
        _check_bool('keep_local', keep_local)
        _check_bool('log_metric_by_epoch', log_metric_by_epoch)
        if out_dir is not None and not isinstance(out_dir, (str, Path)):
            raise TypeError('LoggerHook: out_dir must be a str or Path, but '
                            f'got {type(out_dir).__name__}')
        if not (isinstance(out_suffix, str) or is_tuple_of(out_suffix, str)
                or (isinstance(out_suffix, list)
                    and all(isinstance(s, str) for s in out_suffix))):
            raise TypeError('LoggerHook: out_suffix must be a str or a tuple '
                            f'of str, but got {out_suffix!r}')
        if out_dir is None and file_client_args is not None:
            raise ValueError('LoggerHook: file_client_args should be "None" '
                             'when `out_dir` is not specified.')
        if file_client_args is not None:
            warnings.warn(
                'LoggerHook(file_client_args=...) is deprecated, use '
                'backend_args instead.', DeprecationWarning)
            if backend_args is not None:
                raise ValueError('LoggerHook: "file_client_args" and '
                                 '"backend_args" cannot be set at the same '
                                 'time.')
            backend_args = file_client_args

        self.interval = interval
        self.ignore_last = ignore_last
        self.interval_exp_name = interval_exp_name
        self.out_suffix = out_suffix if isinstance(out_suffix, str) \
            else tuple(out_suffix)
        self.keep_local = keep_local
        self.file_client_args = file_client_args
        self.log_metric_by_epoch = log_metric_by_epoch
        self.backend_args = backend_args
        self.out_dir: Optional[str] = None
        # The argument, kept apart from the resolved self.out_dir so that a
        # second run (train, then test) does not nest the folder twice.
        self._out_dir_arg: Optional[str] = None
        self.file_backend = None
        if out_dir is not None:
            self.out_dir = self._out_dir_arg = str(out_dir)
            self.file_backend = get_file_backend(
                self.out_dir, backend_args=backend_args)
        self.json_log_path: Optional[str] = None
        self._len_of: Any = None  # the loader whose length is cached
        self._train_len = 0

    def before_run(self, runner) -> None:
        """Resolve ``out_dir`` and the name of the JSON scalar log."""
        if self._out_dir_arg is not None and self.file_backend is not None:
            # Logs go to <out_dir>/<last level of work_dir>.
            basename = osp.basename(str(runner.work_dir).rstrip(osp.sep))
            self.out_dir = self.file_backend.join_path(
                self._out_dir_arg, basename)
            runner.logger.info(f'Text logs will be saved to {self.out_dir} '
                               'after the training process.')
        self.json_log_path = f'{runner.timestamp}.json'
        self._len_of = None

    def before_train_epoch(self, runner) -> None:
        """Forget the cached loader length (the dataset may change)."""
        self._len_of = None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Log the training line every ``interval`` iterations."""
        # len(DataLoader) walks sampler objects; the length of the same
        # loader is looked up once, not every iteration.
        dataloader = runner.train_dataloader
        if dataloader is not self._len_of:
            self._len_of, self._train_len = dataloader, len(dataloader)
        end_of_epoch = batch_idx + 1 == self._train_len
        if end_of_epoch or self.every_n_train_iters(runner,
                                                    self.interval_exp_name):
            runner.logger.info(f'Exp name: {runner.experiment_name}')
        # The trailing iterations of an epoch are logged unless ignore_last,
        # and always when the whole epoch is shorter than the interval.
        log_tail = end_of_epoch and (not self.ignore_last
                                     or self._train_len <= self.interval)
        if self.every_n_inner_iters(batch_idx, self.interval) or log_tail:
            tag, log_str = runner.log_processor.get_log_after_iter(
                runner, batch_idx, 'train')
            runner.logger.info(log_str)
            runner.visualizer.add_scalars(
                tag, step=runner.iter + 1, file_path=self.json_log_path)

    def after_val_iter(self,
                       runner,
                       batch_idx: int,
                       data_batch: DATA_BATCH = None,
                       outputs: Optional[Sequence] = None) -> None:
        """Log the validation progress every ``interval`` iterations."""
        self._log_eval_iter(runner, batch_idx, 'val')

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: DATA_BATCH = None,
                        outputs: Optional[Sequence] = None) -> None:
        """Log the test progress every ``interval`` iterations."""
        self._log_eval_iter(runner, batch_idx, 'test')

    def _log_eval_iter(self, runner, batch_idx: int, mode: str) -> None:
        if self.every_n_inner_iters(batch_idx, self.interval):
            _, log_str = runner.log_processor.get_log_after_iter(
                runner, batch_idx, mode)
            runner.logger.info(log_str)

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Log the validation metrics and send them to the visualizer."""
        tag, log_str = runner.log_processor.get_log_after_epoch(
            runner, len(runner.val_dataloader), 'val')
        runner.logger.info(log_str)
        # Reading runner.epoch/iter would build the train loop of a
        # validation-only run, so use 0 when there is no built train loop.
        train_loop = getattr(runner, '_train_loop', None)
        if train_loop is None or isinstance(train_loop, dict):
            step = 0
        else:
            step = runner.epoch if self.log_metric_by_epoch else runner.iter
        runner.visualizer.add_scalars(
            tag, step=step, file_path=self.json_log_path)

    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        """Log the test metrics and dump them to ``<log_dir>/<ts>.json``."""
        tag, log_str = runner.log_processor.get_log_after_epoch(
            runner, len(runner.test_dataloader), 'test', with_non_scalar=True)
        runner.logger.info(log_str)
        json_name = self.json_log_path or f'{runner.timestamp}.json'
        dump(self._process_tags(tag), osp.join(runner.log_dir, json_name))

    @staticmethod
    def _process_tags(tags: dict) -> OrderedDict:
        """Keep only JSON-serialisable values (tensors/arrays as lists)."""

        def process(value):
            if isinstance(value, (list, tuple)):
                items = (process(item) for item in value)
                return [item for item in items if item is not _DROP]
            if isinstance(value, dict):
                pairs = ((k, process(v)) for k, v in value.items())
                return {k: v for k, v in pairs if v is not _DROP}
            if value is None or isinstance(value, (str, int, float, bool)):
                return value
            tolist = getattr(value, 'tolist', None)  # tensors, numpy values
            if callable(tolist):
                return tolist()
            return _DROP

        processed = OrderedDict()
        for key, value in tags.items():
            value = process(value)
            if value is not _DROP:
                processed[key] = value
        return processed

    def after_run(self, runner) -> None:
        """Close the visualizer and copy the logs to ``out_dir``."""
        runner.visualizer.close()
        if self.out_dir is None or self.file_backend is None:
            return
        removed = []
        for filename in scandir(runner.log_dir, self.out_suffix, True):
            local_path = osp.join(runner.log_dir, filename)
            out_path = self.file_backend.join_path(self.out_dir, filename)
            with open(local_path, 'rb') as f:
                self.file_backend.put(f.read(), out_path)
            removed.append(local_path)
            runner.logger.info(
                f'The file {local_path} has been uploaded to {out_path}.')
            if not self.keep_local:
                runner.logger.info(
                    f'{local_path} will be removed because keep_local=False'
                    f'; the copy is at {out_path}.')
        if not self.keep_local:
            # Close file handlers first: an open log file cannot be removed
            # on Windows.
            for handler in runner.logger.handlers:
                if isinstance(handler, logging.FileHandler):
                    handler.close()
            for path in removed:
                os.remove(path)


class _Drop:
    """Marker for values ``_process_tags`` leaves out."""


_DROP = _Drop()

