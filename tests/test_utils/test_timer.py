import pytest

import mmengine.utils.timer as timer_module
from mmengine.utils import Timer, TimerError, check_time


class FakeClock:

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(timer_module, 'perf_counter', fake)
    return fake


def test_start_and_durations(clock):
    timer = Timer(start=False)
    assert not timer.is_running
    timer.start()
    assert timer.is_running
    clock.now += 1.5
    assert timer.since_start() == pytest.approx(1.5)
    clock.now += 2.0
    assert timer.since_last_check() == pytest.approx(2.0)
    assert timer.since_start() == pytest.approx(3.5)
    # since_start also counts as a check
    clock.now += 0.5
    assert timer.since_last_check() == pytest.approx(0.5)


def test_restart_keeps_start_time(clock):
    timer = Timer()
    clock.now += 1
    timer.start()
    clock.now += 1
    assert timer.since_start() == pytest.approx(2)


def test_not_running_raises():
    timer = Timer(start=False)
    with pytest.raises(TimerError, match='not running'):
        timer.since_start()
    with pytest.raises(TimerError, match='not running'):
        timer.since_last_check()
    assert isinstance(TimerError('x'), Exception)
    assert TimerError('msg').message == 'msg'


def test_context_manager_prints(clock, capsys):
    with Timer() as timer:
        clock.now += 1.25
    assert capsys.readouterr().out == '1.250\n'
    assert not timer.is_running
    with Timer(print_tmpl='took {:.1f}s'):
        clock.now += 2
    assert capsys.readouterr().out == 'took 2.0s\n'


def test_check_time(clock):
    assert check_time('test_timer_check') == 0
    clock.now += 3
    assert check_time('test_timer_check') == pytest.approx(3)
    clock.now += 1
    assert check_time('test_timer_check') == pytest.approx(1)


def test_top_level_export():
    import mmengine
    assert mmengine.Timer is Timer
