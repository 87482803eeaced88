"""Process-level settings for data loading workers."""
import multiprocessing as mp
import os
import sys
import platform
import warnings


def set_multi_processing(mp_start_method: str = 'fork',
                         opencv_num_threads: int = 0,
                         distributed: bool = False) -> None:
    """Set the multiprocessing start method and limit thread pools.

    - sets the ``multiprocessing`` start method (not on Windows), warning
      when it replaces a different one;
    - when OpenCV is installed (it is never required), sets its thread
      count, since its own pool oversubscribes CPUs inside data workers;
    - when ``distributed``, sets ``OMP_NUM_THREADS`` and
      ``MKL_NUM_THREADS`` to 1 unless the user set them.

    Args:
        mp_start_method (str): ``'fork'``, ``'spawn'`` or ``'forkserver'``.
            Defaults to ``'fork'``.
        opencv_num_threads (int): OpenCV threads; 0 disables its pool.
            Defaults to 0.
        distributed (bool): whether this is a distributed run.
            Defaults to False.

    Raises:
        ValueError: if ``mp_start_method`` is not a start method of this
            platform.
    """
    if platform.system() != 'Windows':
        methods = mp.get_all_start_methods()
        if mp_start_method not in methods:
            raise ValueError(
                f'mp_start_method must be one of {methods}, got '
                f'{mp_start_method!r}')
        current_method = mp.get_start_method(allow_none=True)
        if current_method is not None and current_method != mp_start_method:
            warnings.warn(
                f'Multi-processing start method `{mp_start_method}` is '
                f'different from the previous setting `{current_method}`. '
                f'It will be force set to `{mp_start_method}`. You can '
                'change this behavior by changing `mp_start_method` in your '
                'config.')
        mp.set_start_method(mp_start_method, force=True)

    # OpenCV is never a dependency: configure it only when the user's own
    # code (e.g. a data pipeline) has already imported it.
    cv2 = sys.modules.get('cv2')
    if cv2 is not None:
        cv2.setNumThreads(opencv_num_threads)

    # Each data worker would otherwise start one OpenMP/MKL thread per core.
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        if var not in os.environ and distributed:
            warnings.warn(
                f'Setting {var} environment variable for each process to be '
                '1 in default, to avoid your system being overloaded, please '
                'further tune the variable for optimal performance in your '
                'application as needed.')
            os.environ[var] = '1'
