"""Progress bars for loops and (parallel) task lists, drawn with rich.

rich is imported only when a bar is created, so that ``import mmengine.utils``
stays light. On a terminal the bar is redrawn in place; on a file or a pipe
(log files, CI) rich prints only the final state, once.
"""
import sys
from collections.abc import Iterable, Sized
from typing import Any, Callable, Iterator, List, Optional, TextIO, Tuple


def _make_progress(file: Optional[TextIO], bar_width: int, known_total: bool,
                   description: bool = False, color: str = 'blue'):
    """Build a (not yet started) ``rich.progress.Progress`` writing to
    ``file``."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                               TaskProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    columns: list = []
    if description:
        columns.append(TextColumn('{task.description}'))
    if known_total:
        columns += [
            BarColumn(bar_width=bar_width, complete_style=color),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn('elapsed:'),
            TimeElapsedColumn(),
            TextColumn('ETA:'),
            TimeRemainingColumn(),
        ]
    else:
        columns += [
            TextColumn('completed: {task.completed}'),
            TextColumn('elapsed:'),
            TimeElapsedColumn(),
        ]
    console = Console(file=file if file is not None else sys.stdout)
    # Redirection of stdout/stderr is off: a bar that is never finished
    # must not leave sys.stdout replaced.
    return Progress(
        *columns,
        console=console,
        redirect_stdout=False,
        redirect_stderr=False)


class ProgressBar:
    """A progress bar with completed count, elapsed time and ETA.

    The bar stops by itself once ``task_num`` tasks are completed; with an
    unknown total (``task_num=0``) call :meth:`finish` or use it as a
    context manager.

    Args:
        task_num (int): total number of tasks; 0 when unknown.
            Defaults to 0.
        bar_width (int): width of the bar in characters. Defaults to 50.
        start (bool): start drawing right away. Defaults to True.
        file (TextIO, optional): where to draw; the current
            ``sys.stdout`` when None.

    Example:
        >>> bar = ProgressBar(3)
        >>> for _ in range(3):
        ...     bar.update()
    """

    def __init__(self,
                 task_num: int = 0,
                 bar_width: int = 50,
                 start: bool = True,
                 file: Optional[TextIO] = None):
        if not isinstance(task_num, int) or task_num < 0:
            raise ValueError(
                f'task_num must be a non-negative int, got {task_num!r}')
        if not isinstance(bar_width, int) or bar_width <= 0:
            raise ValueError(
                f'bar_width must be a positive int, got {bar_width!r}')
        self.task_num = task_num
        self.bar_width = bar_width
        self.file = file
        self.completed = 0
        self._progress = None
        self._task_id = None
        if start:
            self.start()

    @property
    def is_running(self) -> bool:
        """bool: whether the bar is currently drawn."""
        return self._progress is not None

    def start(self) -> None:
        """Start (or restart) drawing the bar from zero completed tasks."""
        if self._progress is not None:
            self.finish()
        self.completed = 0
        self._progress = _make_progress(
            self.file, self.bar_width, known_total=self.task_num > 0)
        self._progress.start()
        self._task_id = self._progress.add_task(
            '', total=self.task_num if self.task_num > 0 else None)

    def update(self, num_tasks: int = 1) -> None:
        """Mark ``num_tasks`` more tasks as completed.

        Raises:
            ValueError: if ``num_tasks`` is not a positive int.
            RuntimeError: if the bar was not started.
        """
        if not isinstance(num_tasks, int) or num_tasks <= 0:
            raise ValueError(
                f'num_tasks must be a positive int, got {num_tasks!r}')
        if self._progress is None:
            raise RuntimeError(
                'ProgressBar is not running; call start() before update()')
        self.completed += num_tasks
        self._progress.update(self._task_id, completed=self.completed)
        if self.task_num > 0 and self.completed >= self.task_num:
            self.finish()

    def finish(self) -> None:
        """Draw the final state and stop; a no-op when not running."""
        if self._progress is not None:
            progress, self._progress = self._progress, None
            progress.stop()

    def __enter__(self) -> 'ProgressBar':
        if self._progress is None:
            self.start()
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self.finish()


def _split_tasks(tasks: Any) -> Tuple[Iterable, int]:
    """Accept a sized iterable or an ``(iterable, task_num)`` tuple."""
    if (isinstance(tasks, tuple) and len(tasks) == 2
            and isinstance(tasks[0], Iterable)
            and isinstance(tasks[1], int)):
        return tasks[0], tasks[1]
    if isinstance(tasks, Iterable) and isinstance(tasks, Sized):
        return tasks, len(tasks)
    raise TypeError(
        '"tasks" must be a sized iterable (e.g. a list) or a tuple of '
        f'(iterable, task_num), got {type(tasks).__name__}')


def track_progress(func: Callable,
                   tasks: Any,
                   bar_width: int = 50,
                   file: Optional[TextIO] = None,
                   **kwargs) -> List[Any]:
    """Call ``func`` on every task while showing a progress bar.

    Args:
        func (callable): called as ``func(task, **kwargs)``.
        tasks (Sized iterable | tuple): the tasks, or ``(iterable,
            task_num)`` for an iterable without ``len``.
        bar_width (int): width of the bar. Defaults to 50.
        file (TextIO, optional): where to draw; ``sys.stdout`` when None.
        **kwargs: passed to ``func``.

    Returns:
        list: the results, in task order.
    """
    if not callable(func):
        raise TypeError(f'func must be callable, got {type(func).__name__}')
    tasks, task_num = _split_tasks(tasks)
    results = []
    with ProgressBar(task_num, bar_width, file=file) as bar:
        for task in tasks:
            results.append(func(task, **kwargs))
            bar.update()
    return results


def track_iter_progress(tasks: Any,
                        bar_width: int = 50,
                        file: Optional[TextIO] = None) -> Iterator[Any]:
    """Yield the tasks one by one while showing a progress bar.

    Args:
        tasks (Sized iterable | tuple): the tasks, or ``(iterable,
            task_num)`` for an iterable without ``len``.
        bar_width (int): width of the bar. Defaults to 50.
        file (TextIO, optional): where to draw; ``sys.stdout`` when None.

    Example:
        >>> for x in track_iter_progress([1, 2, 3]):
        ...     pass
    """
    tasks, task_num = _split_tasks(tasks)
    with ProgressBar(task_num, bar_width, file=file) as bar:
        for task in tasks:
            yield task
            bar.update()


def init_pool(process_num: int,
              initializer: Optional[Callable] = None,
              initargs: Optional[tuple] = None):
    """Create a ``multiprocessing.Pool`` with an optional initializer."""
    from multiprocessing import Pool
    if initializer is None:
        return Pool(process_num)
    if initargs is None:
        return Pool(process_num, initializer)
    if not isinstance(initargs, tuple):
        raise TypeError(
            f'"initargs" must be a tuple, got {type(initargs).__name__}')
    return Pool(process_num, initializer, initargs)


def track_parallel_progress(func: Callable,
                            tasks: Any,
                            nproc: int,
                            initializer: Optional[Callable] = None,
                            initargs: Optional[tuple] = None,
                            bar_width: int = 50,
                            chunksize: int = 1,
                            skip_first: bool = False,
                            keep_order: bool = True,
                            file: Optional[TextIO] = None) -> List[Any]:
    """Run ``func`` on every task in a process pool with a progress bar.

    Args:
        func (callable): called as ``func(task)`` in a worker; must be
            picklable (defined at module level).
        tasks (Sized iterable | tuple): the tasks, or ``(iterable,
            task_num)``.
        nproc (int): number of worker processes.
        initializer (callable, optional): worker initializer.
        initargs (tuple, optional): arguments of ``initializer``.
        bar_width (int): width of the bar. Defaults to 50.
        chunksize (int): tasks sent to a worker at once. Defaults to 1.
        skip_first (bool): leave the first ``nproc * chunksize`` results
            out of the bar, so that worker start-up does not distort the
            speed estimate. Defaults to False.
        keep_order (bool): return results in task order (``imap``) rather
            than completion order (``imap_unordered``). Defaults to True.
        file (TextIO, optional): where to draw; ``sys.stdout`` when None.

    Returns:
        list: the results.
    """
    if not callable(func):
        raise TypeError(f'func must be callable, got {type(func).__name__}')
    if not isinstance(nproc, int) or nproc <= 0:
        raise ValueError(f'nproc must be a positive int, got {nproc!r}')
    tasks, task_num = _split_tasks(tasks)
    skipped = min(nproc * chunksize, task_num) if skip_first else 0
    results = []
    with init_pool(nproc, initializer, initargs) as pool:
        if keep_order:
            gen = pool.imap(func, tasks, chunksize)
        else:
            gen = pool.imap_unordered(func, tasks, chunksize)
        bar = ProgressBar(task_num - skipped, bar_width, start=not skipped,
                          file=file)
        try:
            for result in gen:
                results.append(result)
                if len(results) <= skipped:
                    if len(results) == skipped:
                        bar.start()
                    continue
                bar.update()
        finally:
            bar.finish()
        pool.close()
        pool.join()
    return results
