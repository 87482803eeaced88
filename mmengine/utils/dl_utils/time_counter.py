"""``TimeCounter``: average run time of a function or a code block."""
import time
from functools import wraps
from typing import Callable, Dict, Optional, Union

import torch


class TimeCounter:
    """Log the average time per run of a function or a ``with`` block.

    Counters are shared by ``tag``: every ``TimeCounter(tag='x')`` returns
    the same object, so a ``with`` block inside a loop accumulates. The
    first ``warmup_interval - 1`` runs are not timed; every
    ``log_interval`` runs the average so far is logged.

    Args:
        log_interval (int): log every this many runs. Defaults to 1.
        warmup_interval (int): runs before timing starts (>= 1).
            Defaults to 1.
        with_sync (bool): synchronise CUDA before reading the clock, so
            that asynchronous kernels are counted. Defaults to True.
        tag (str, optional): name shown in the log; required for the
            context-manager form, the function name by default for the
            decorator form.
        logger (str, optional): logger for ``mmengine.logging.print_log``;
            None prints to stdout.

    Examples:
        >>> @TimeCounter()
        ... def fun():
        ...     pass
        >>> with TimeCounter(tag='block'):
        ...     pass
    """
    instance_dict: Dict[str, 'TimeCounter'] = dict()

    log_interval: int
    warmup_interval: int
    logger: Optional[str]
    tag: Optional[str]
    with_sync: bool

    def __new__(cls,
                log_interval: int = 1,
                warmup_interval: int = 1,
                with_sync: bool = True,
                tag: Optional[str] = None,
                logger: Optional[str] = None):
        assert isinstance(warmup_interval, int) and warmup_interval >= 1, \
            f'warmup_interval must be an int >= 1, got {warmup_interval!r}'
        assert isinstance(log_interval, int) and log_interval >= 1, \
            f'log_interval must be an int >= 1, got {log_interval!r}'
        if tag is not None and tag in cls.instance_dict:
            return cls.instance_dict[tag]

        instance = super().__new__(cls)
        instance.log_interval = log_interval
        instance.warmup_interval = warmup_interval
        instance.with_sync = with_sync
        instance.tag = tag
        instance.logger = logger
        instance._count = 0
        instance._pure_inf_time = 0.0
        instance._start_time = 0.0
        if tag is not None:
            cls.instance_dict[tag] = instance
        return instance

    def __call__(self, fn: Callable) -> Callable:
        if self.tag is None:
            self.tag = fn.__name__

        @wraps(fn)
        def wrapper(*args, **kwargs):
            self._count += 1
            self._sync()
            start_time = time.perf_counter()
            result = fn(*args, **kwargs)
            self._sync()
            self.print_time(time.perf_counter() - start_time)
            return result

        return wrapper

    def __enter__(self) -> 'TimeCounter':
        assert self.tag is not None, (
            'In order to clearly distinguish printing information in '
            'different contexts, please specify the tag parameter')
        self._count += 1
        self._sync()
        self._start_time = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        self._sync()
        self.print_time(time.perf_counter() - self._start_time)

    def _sync(self) -> None:
        if self.with_sync and torch.cuda.is_available():
            torch.cuda.synchronize()

    def print_time(self, elapsed: Union[int, float]) -> None:
        """Add one timed run and log the average when it is due.

        Args:
            elapsed (int | float): seconds the run took.
        """
        if self._count >= self.warmup_interval:
            self._pure_inf_time += elapsed
            if self._count % self.log_interval == 0:
                timed_runs = self._count - self.warmup_interval + 1
                ms_per_run = 1000 * self._pure_inf_time / timed_runs
                # Imported here: logging sits above utils in the layering.
                from mmengine.logging import print_log
                print_log(
                    f'[{self.tag}]-time per run averaged in the past '
                    f'{self._count} runs: {ms_per_run:.1f} ms', self.logger)
