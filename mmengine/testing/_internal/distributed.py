"""A ``unittest.TestCase`` whose test methods run in several real processes.

Usage (the same contract as PyTorch's internal ``MultiProcessTestCase``)::

    class TestX(MultiProcessTestCase):
        def setUp(self):
            super().setUp()
            self._spawn_processes()

        def test_sum(self):
            torch.distributed.init_process_group(
                'gloo', rank=self.rank, world_size=self.world_size, ...)
            ...

In the parent, ``setUp`` starts ``world_size`` processes; each builds a
fresh instance of the class, sets ``self.rank`` and calls the test method
directly (``setUp``/``tearDown`` do not run there; override ``run_test`` to
prepare per-process state). The parent's test method waits for them, and
fails with the children's tracebacks if any of them failed, or after
``timeout`` seconds if they hang (then it kills them).
"""
import importlib
import importlib.util
import os
import sys
import tempfile
import time
import traceback
import types
import unittest
from functools import wraps
from typing import Any, Callable, Dict, List

import torch.multiprocessing as mp

# Exit codes a child uses to tell the parent what happened.
_SKIP_EXIT_CODE = 75
_ERROR_EXIT_CODE = 10


def _load_test_class(module_name: str, module_file: str, qualname: str):
    """Import the test class in a child process.

    Test runners may import test files under names that are not importable
    by a fresh interpreter (e.g. pytest's ``--import-mode=importlib``), so
    fall back to loading the file by path.
    """
    module = sys.modules.get(module_name)
    if module is None:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            if not module_file:
                raise
            spec = importlib.util.spec_from_file_location(
                module_name, module_file)
            if spec is None or spec.loader is None:
                raise
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    obj: Any = module
    for part in qualname.split('.'):
        obj = getattr(obj, part)
    return obj


def _exit_child(code: int) -> None:
    """Leave a child process without interpreter teardown.

    A process group left alive at teardown can abort the interpreter
    ("terminate called without an active exception") while its backend
    threads are destroyed, turning a passed test into a crash; so the
    group is destroyed first and the process exits at once.
    """
    try:
        import torch.distributed as torch_dist
        if torch_dist.is_available() and torch_dist.is_initialized():
            torch_dist.destroy_process_group()
    except Exception:  # a dead peer must not change the verdict
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _child_main(module_name: str, module_file: str, qualname: str, rank: int,
                test_name: str, file_name: str, pipe) -> None:
    """Entry point of every child process (importable, hence picklable)."""
    try:
        cls = _load_test_class(module_name, module_file, qualname)
    except BaseException:
        pipe.send(traceback.format_exc())
        pipe.close()
        sys.exit(_ERROR_EXIT_CODE)
    cls._run(rank, test_name, file_name, pipe)


class MultiProcessTestCase(unittest.TestCase):
    """Run every test method in ``world_size`` spawned processes.

    Attributes:
        rank (int): rank of the current process; ``MAIN_PROCESS_RANK`` (-1)
            in the parent.
        file_name (str): a temporary file shared by the processes of one
            test (usable with ``init_method='file://' + file_name``).
        timeout (float): seconds the parent waits for its children.
    """

    MAIN_PROCESS_RANK = -1
    TEST_ERROR_EXIT_CODE = _ERROR_EXIT_CODE
    timeout: float = 100

    @property
    def world_size(self) -> int:
        """Number of processes to start; override to change. Defaults to
        2."""
        return 2

    def __init__(self, method_name: str = 'runTest') -> None:
        super().__init__(method_name)
        fn = getattr(self, method_name, None)
        if fn is not None:  # unittest allows a missing default 'runTest'
            setattr(self, method_name, self._join_or_run(fn))
        self.rank = self.MAIN_PROCESS_RANK
        self.processes: List[Any] = []
        self.file_name = ''
        self.pid_to_pipe: Dict[int, Any] = {}
        self.skip_return_code_checks: List[Callable] = []

    def _join_or_run(self, fn: Callable) -> Callable:

        @wraps(fn)
        def wrapper(self):
            if self.rank == self.MAIN_PROCESS_RANK:
                self._join_processes(fn)
            else:
                fn()

        return types.MethodType(wrapper, self)

    # The PyTorch spelling, kept for subclasses that call it.
    join_or_run = _join_or_run

    def setUp(self) -> None:
        super().setUp()
        self.skip_return_code_checks = []
        self.processes = []
        self.rank = self.MAIN_PROCESS_RANK
        fd, self.file_name = tempfile.mkstemp(prefix='mmengine_mp_')
        os.close(fd)
        self.pid_to_pipe = {}

    def tearDown(self) -> None:
        super().tearDown()
        for p in self.processes:
            if p.is_alive():
                p.kill()
            p.join(timeout=5)
        self.processes = []
        if self.file_name and os.path.exists(self.file_name):
            os.remove(self.file_name)

    def _current_test_name(self) -> str:
        return self.id().split('.')[-1]

    def _start_processes(self, proc) -> None:
        self.processes = []
        cls = type(self)
        module = sys.modules.get(cls.__module__)
        module_file = getattr(module, '__file__', '') or ''
        for rank in range(int(self.world_size)):
            parent_conn, child_conn = mp.Pipe()
            process = proc(
                target=_child_main,
                name=f'process {rank}',
                args=(cls.__module__, module_file, cls.__qualname__, rank,
                      self._current_test_name(), self.file_name, child_conn))
            process.start()
            child_conn.close()
            self.pid_to_pipe[process.pid] = parent_conn
            self.processes.append(process)

    def _spawn_processes(self) -> None:
        """Start the children with the ``spawn`` method (clean
        interpreters)."""
        self._start_processes(mp.get_context('spawn').Process)

    def _fork_processes(self) -> None:
        """Start the children with ``fork`` (faster; POSIX only)."""
        self._start_processes(mp.get_context('fork').Process)

    @classmethod
    def _run(cls, rank: int, test_name: str, file_name: str, pipe) -> None:
        self = cls(test_name)
        self.rank = rank
        self.file_name = file_name
        self.run_test(test_name, pipe)

    def run_test(self, test_name: str, parent_pipe) -> None:
        """Run one test method in a child and report back through the
        pipe; the exit code tells success, skip or failure."""
        code = 0
        try:
            getattr(self, test_name)()
        except unittest.SkipTest as e:
            parent_pipe.send(f'skipped: {e}')
            code = _SKIP_EXIT_CODE
        except BaseException:
            parent_pipe.send(f'rank {self.rank}:\n{traceback.format_exc()}')
            code = _ERROR_EXIT_CODE
        parent_pipe.close()
        _exit_child(code)

    def _join_processes(self, fn: Callable) -> None:
        if not self.processes:
            # otherwise the test would pass without running anything
            raise RuntimeError(
                f'{type(self).__name__}: no child processes were started; '
                'call self._spawn_processes() in setUp.')
        start = time.time()
        timed_out = False
        messages: List[str] = []
        try:
            while True:
                # Read while waiting: a child blocks in ``send`` when its
                # traceback is larger than the pipe buffer.
                self._read_messages(messages)
                codes = [p.exitcode for p in self.processes]
                # Stop at the first failure: the other children would wait
                # for the failed one in a collective until their timeout.
                if any(c not in (None, 0, _SKIP_EXIT_CODE) for c in codes) \
                        or all(c is not None for c in codes):
                    break
                if time.time() - start > self.timeout:
                    timed_out = True
                    break
                time.sleep(0.05)
            self._kill_remaining()
            self._read_messages(messages)
            elapsed = time.time() - start
            if fn in self.skip_return_code_checks:
                self._check_no_test_errors(elapsed, timed_out)
            else:
                self._check_return_codes(elapsed, timed_out, messages)
        finally:
            for pipe in self.pid_to_pipe.values():
                pipe.close()

    def _kill_remaining(self) -> None:
        for p in self.processes:
            if p.exitcode is None:
                p.kill()
        for p in self.processes:
            p.join(timeout=5)

    def _read_messages(self, messages: List[str]) -> None:
        """Append what the children have sent so far to ``messages``."""
        for p in self.processes:
            pipe = self.pid_to_pipe.get(p.pid)
            try:
                while pipe is not None and pipe.poll():
                    messages.append(pipe.recv())
            except (EOFError, OSError):
                pass

    def _check_no_test_errors(self, elapsed: float,
                              timed_out: bool = False) -> None:
        if timed_out:
            raise RuntimeError(
                f'{self._current_test_name()}: the processes timed out '
                f'after {elapsed:.1f} seconds; they were killed.')
        for p in self.processes:
            self.assertNotEqual(self.TEST_ERROR_EXIT_CODE, p.exitcode)

    def _check_return_codes(self, elapsed: float, timed_out: bool,
                            messages: List[str]) -> None:
        errors = [m for m in messages if not m.startswith('skipped: ')]
        if errors:
            raise RuntimeError('Child process(es) failed:\n' +
                               '\n'.join(errors))
        if timed_out:
            raise RuntimeError(
                f'{self._current_test_name()}: the {self.world_size} '
                f'processes did not finish within {self.timeout} s '
                '(a collective probably hung); they were killed.')
        codes = [p.exitcode for p in self.processes]
        for i, code in enumerate(codes):
            if code not in (0, _SKIP_EXIT_CODE):
                raise RuntimeError(f'Process {i} exited with code {code} '
                                   f'after {elapsed:.1f} s without a '
                                   'Python traceback (crashed or killed).')
        if codes and all(c == _SKIP_EXIT_CODE for c in codes):
            skips = [m for m in messages if m.startswith('skipped: ')]
            raise unittest.SkipTest(skips[0][len('skipped: '):]
                                    if skips else 'skipped in children')
        if any(c == _SKIP_EXIT_CODE for c in codes):
            raise RuntimeError(f'Only some processes skipped the test: exit '
                               f'codes {codes}')
