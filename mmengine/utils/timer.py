"""Wall-clock timers: ``Timer`` and the ``check_time`` shortcut."""
from time import perf_counter
from typing import Dict, Hashable, Optional


class TimerError(Exception):
    """Raised when a stopped :class:`Timer` is asked for a duration."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class Timer:
    """A wall-clock timer that can be read repeatedly.

    Used as a context manager it prints the seconds spent inside the
    ``with`` block when leaving it.

    Args:
        start (bool): start the timer right away. Defaults to True.
        print_tmpl (str, optional): ``str.format`` template used by the
            context manager; defaults to ``'{:.3f}'``.

    Example:
        >>> timer = Timer()
        >>> # ... do some work ...
        >>> elapsed = timer.since_start()
        >>> with Timer(print_tmpl='it takes {:.1f} seconds'):
        ...     pass
        it takes 0.0 seconds
    """

    def __init__(self, start: bool = True, print_tmpl: Optional[str] = None):
        self._is_running = False
        self._t_start = 0.0
        self._t_last = 0.0
        self.print_tmpl = print_tmpl if print_tmpl else '{:.3f}'
        if start:
            self.start()

    @property
    def is_running(self) -> bool:
        """bool: whether the timer is running."""
        return self._is_running

    def __enter__(self) -> 'Timer':
        self.start()
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        print(self.print_tmpl.format(self.since_last_check()))
        self._is_running = False

    def start(self) -> None:
        """Start the timer; a running timer keeps its start time."""
        if not self._is_running:
            self._t_start = perf_counter()
            self._is_running = True
        self._t_last = perf_counter()

    def _check_running(self) -> None:
        if not self._is_running:
            raise TimerError('timer is not running; call Timer.start() '
                             'or create it with start=True first')

    def since_start(self) -> float:
        """Seconds since the timer started; also counts as a check.

        Raises:
            TimerError: if the timer is not running.
        """
        self._check_running()
        self._t_last = perf_counter()
        return self._t_last - self._t_start

    def since_last_check(self) -> float:
        """Seconds since the last check (or the start).

        Raises:
            TimerError: if the timer is not running.
        """
        self._check_running()
        now = perf_counter()
        duration = now - self._t_last
        self._t_last = now
        return duration


_g_timers: Dict[Hashable, Timer] = {}


def check_time(timer_id: Hashable) -> float:
    """Seconds since the previous call with the same ``timer_id``.

    The first call for an id starts a timer and returns 0.

    Args:
        timer_id (Hashable): identifier of the timer.

    Example:
        >>> for i in range(3):
        ...     elapsed = check_time('loop')  # 0 at i == 0
    """
    if timer_id not in _g_timers:
        _g_timers[timer_id] = Timer()
        return 0.0
    return _g_timers[timer_id].since_last_check()
