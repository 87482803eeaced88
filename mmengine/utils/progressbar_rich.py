"""``track_progress_rich``: run tasks (optionally in parallel) under a rich
progress bar with a description."""
from collections.abc import Iterable, Sized
from functools import partial
from itertools import repeat
from typing import Any, Callable, List, Optional

from .progressbar import _make_progress


def _call(func: Callable, task: Any) -> Any:
    """Call ``func`` with a task: tuples are unpacked into arguments."""
    if isinstance(task, tuple):
        return func(*task)
    return func(task)


def track_progress_rich(func: Callable,
                        tasks: Optional[Iterable] = None,
                        task_num: Optional[int] = None,
                        nproc: int = 1,
                        chunksize: int = 1,
                        description: str = 'Processing',
                        color: str = 'blue') -> List[Any]:
    """Call ``func`` on every task while showing a rich progress bar.

    A task that is a tuple is unpacked into positional arguments
    (``func(*task)``), anything else is passed as the single argument.
    Without ``tasks``, ``func()`` is called ``task_num`` times.

    Args:
        func (callable): the function to run; with ``nproc > 1`` it must be
            picklable (defined at module level).
        tasks (Iterable, optional): the tasks. Defaults to None.
        task_num (int, optional): number of tasks; required when ``tasks``
            is None, and must match ``len(tasks)`` when both are given.
        nproc (int): number of worker processes; 1 runs in this process.
            Defaults to 1.
        chunksize (int): tasks sent to a worker at once. Defaults to 1.
        description (str): text in front of the bar.
            Defaults to 'Processing'.
        color (str): colour of the bar. Defaults to 'blue'.

    Returns:
        list: the results, in task order.

    Raises:
        TypeError: if ``func`` is not callable or ``tasks`` not iterable.
        ValueError: if ``nproc`` < 1, if neither ``tasks`` nor
            ``task_num`` is given, or if ``task_num`` != ``len(tasks)``.
    """
    if not callable(func):
        raise TypeError(f'func must be callable, got {type(func).__name__}')
    if not isinstance(nproc, int) or nproc <= 0:
        raise ValueError(f'nproc must be a positive int, got {nproc!r}')
    if tasks is None:
        if task_num is None:
            raise ValueError(
                'track_progress_rich needs "tasks" or "task_num"; both are '
                'None')
        tasks = repeat((), task_num)
    elif not isinstance(tasks, Iterable):
        raise TypeError(
            f'tasks must be an iterable, got {type(tasks).__name__}')
    elif isinstance(tasks, Sized):
        if task_num is None:
            task_num = len(tasks)
        elif task_num != len(tasks):
            raise ValueError(
                f'task_num ({task_num}) does not match the number of tasks '
                f'({len(tasks)})')
    if task_num is not None and (not isinstance(task_num, int)
                                 or task_num < 0):
        raise ValueError(
            f'task_num must be a non-negative int, got {task_num!r}')

    progress = _make_progress(
        None, bar_width=40, known_total=task_num is not None,
        description=True, color=color)
    worker = partial(_call, func)
    results = []
    with progress:
        task_id = progress.add_task(description, total=task_num)
        if nproc == 1:
            for task in tasks:
                results.append(worker(task))
                progress.advance(task_id)
        else:
            from multiprocessing import Pool
            with Pool(nproc) as pool:
                for result in pool.imap(worker, tasks, chunksize):
                    results.append(result)
                    progress.advance(task_id)
                pool.close()
                pool.join()
    return results
