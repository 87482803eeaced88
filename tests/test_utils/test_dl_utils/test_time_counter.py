import pytest

from mmengine.utils.dl_utils import TimeCounter


def test_decorator_logs_average(capsys):

    @TimeCounter(with_sync=False)
    def demo_fun_for_counter():
        return 3

    assert demo_fun_for_counter() == 3
    out = capsys.readouterr().out
    assert '[demo_fun_for_counter]-time per run averaged in the past 1 runs' \
        in out


def test_log_interval_and_warmup(capsys):

    @TimeCounter(log_interval=2, warmup_interval=2, with_sync=False,
                 tag='tc_interval')
    def fun():
        pass

    fun()  # warm-up run, not timed
    assert capsys.readouterr().out == ''
    fun()  # count 2: timed and logged
    assert 'past 2 runs' in capsys.readouterr().out
    fun()
    assert capsys.readouterr().out == ''
    fun()
    assert 'past 4 runs' in capsys.readouterr().out


def test_context_manager_shared_by_tag(capsys):
    for _ in range(4):
        with TimeCounter(log_interval=2, with_sync=False, tag='tc_block'):
            pass
    out = capsys.readouterr().out
    assert out.count('[tc_block]') == 2
    assert 'past 4 runs' in out
    assert TimeCounter(tag='tc_block') is TimeCounter(tag='tc_block')


def test_errors():
    with pytest.raises(AssertionError, match='tag'):
        with TimeCounter():
            pass
    with pytest.raises(AssertionError, match='warmup_interval'):
        TimeCounter(warmup_interval=0, tag='tc_bad')
    with pytest.raises(AssertionError, match='log_interval'):
        TimeCounter(log_interval=0)
