"""MultiProcessTestCase (mmengine.testing._internal): children run the test
method with their own rank, and the parent reports their failures, skips,
crashes and hangs. Forked children keep these checks fast; the spawn path
is exercised by test_dist.py."""
import os
import time
import unittest
from unittest.mock import patch

import pytest

from mmengine.testing._internal import MultiProcessTestCase

pytestmark = pytest.mark.skipif(
    not hasattr(os, 'fork'), reason='fork start method needed')


class _Cases(MultiProcessTestCase):
    """Run explicitly by the tests below, not collected on its own."""
    __test__ = False
    timeout = 60

    def setUp(self):
        super().setUp()
        self._fork_processes()

    def case_ok(self):
        assert self.rank in (0, 1) and self.world_size == 2
        assert os.path.exists(self.file_name)
        out = os.path.join(os.environ['MP_CASE_DIR'], f'rank{self.rank}')
        with open(out, 'w') as f:
            f.write(str(os.getpid()))

    def case_fail(self):
        if self.rank == 1:
            raise AssertionError('boom from rank one')
        time.sleep(60)  # must be killed once rank 1 failed

    def case_skip(self):
        raise unittest.SkipTest('no accelerator here')

    def case_hang(self):
        time.sleep(60)

    def case_crash(self):
        os._exit(3)

    def case_big_failure(self):
        # a traceback larger than the pipe's buffer
        raise AssertionError(f'rank {self.rank} ' + 'x' * 4_000_000)


def _run(name, **attrs):
    case = _Cases(name)
    for key, value in attrs.items():
        setattr(case, key, value)
    result = unittest.TestResult()
    start = time.time()
    case.run(result)
    return result, time.time() - start, case


def test_every_rank_runs_the_method(tmp_path):
    with patch.dict(os.environ, MP_CASE_DIR=str(tmp_path)):
        result, _, case = _run('case_ok')
    assert result.wasSuccessful(), result.errors + result.failures
    pids = {(tmp_path / f'rank{r}').read_text() for r in (0, 1)}
    assert len(pids) == 2 and str(os.getpid()) not in pids
    # the parent cleaned up its shared file
    assert not os.path.exists(case.file_name)


def test_child_failure_is_reported_and_others_stopped():
    result, elapsed, _ = _run('case_fail')
    assert len(result.errors) == 1
    message = result.errors[0][1]
    assert 'rank 1' in message and 'boom from rank one' in message
    assert elapsed < 30  # rank 0 was killed, not waited for


def test_skip_in_children_skips_the_test():
    result, _, _ = _run('case_skip')
    assert result.wasSuccessful()
    assert [reason for _, reason in result.skipped] == ['no accelerator here']


def test_hanging_children_are_killed_after_timeout():
    result, elapsed, case = _run('case_hang', timeout=1)
    assert len(result.errors) == 1
    assert 'did not finish within 1 s' in result.errors[0][1]
    assert elapsed < 30
    assert not any(p.is_alive() for p in case.processes)


def test_crash_without_traceback_is_reported():
    result, _, _ = _run('case_crash')
    assert len(result.errors) == 1
    assert 'exited with code 3' in result.errors[0][1]


def test_large_tracebacks_are_reported_without_waiting_for_timeout():
    # the parent reads the pipes while it waits, so a child is never stuck
    # sending a traceback bigger than the pipe buffer
    result, elapsed, _ = _run('case_big_failure', timeout=30)
    assert len(result.errors) == 1
    assert 'did not finish' not in result.errors[0][1]
    assert 'x' * 1000 in result.errors[0][1]
    assert elapsed < 25


class _UncheckedCodes(_Cases):
    __test__ = False
    timeout = 1

    def setUp(self):
        super().setUp()
        # the PyTorch idiom: exit codes of this test are not checked
        self.skip_return_code_checks = [self.case_hang.__wrapped__]


def test_timeout_is_reported_when_return_codes_are_not_checked():
    result = unittest.TestResult()
    _UncheckedCodes('case_hang').run(result)
    assert len(result.errors) == 1, result.errors + result.failures
    assert 'timed out' in result.errors[0][1]


class _NoSpawn(MultiProcessTestCase):
    __test__ = False

    def case(self):
        pass


def test_forgetting_to_spawn_fails_loudly():
    result = unittest.TestResult()
    _NoSpawn('case').run(result)
    assert len(result.errors) == 1
    assert '_spawn_processes' in result.errors[0][1]


def test_default_runtest_name_is_accepted():
    # unittest builds TestCase() with 'runTest' even when it does not exist
    case = _Cases()
    assert case.rank == MultiProcessTestCase.MAIN_PROCESS_RANK
