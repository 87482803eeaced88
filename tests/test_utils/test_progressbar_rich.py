import pytest

from mmengine.utils import track_progress_rich


def constant():
    return 1


def identity(x):
    return x


def pair(x, y):
    return x, y


@pytest.mark.parametrize('nproc', [1, 2])
def test_results_in_order(nproc, capsys):
    assert track_progress_rich(constant, task_num=4, nproc=nproc) == [1] * 4
    tasks = list(range(6))
    assert track_progress_rich(identity, tasks, nproc=nproc) == tasks
    assert track_progress_rich(identity, iter(tasks), nproc=nproc) == tasks
    pairs = [(i, i + 1) for i in range(5)]
    assert track_progress_rich(pair, pairs, nproc=nproc) == pairs
    assert track_progress_rich(
        pair, iter(pairs), nproc=nproc, chunksize=2) == pairs
    out = capsys.readouterr().out
    assert 'Processing' in out


def test_description_shown(capsys):
    track_progress_rich(identity, [1, 2], description='Converting')
    assert 'Converting' in capsys.readouterr().out


def test_errors():
    with pytest.raises(TypeError, match='callable'):
        track_progress_rich(1, [1, 2])
    with pytest.raises(TypeError, match='iterable'):
        track_progress_rich(identity, 1)
    with pytest.raises(ValueError, match=r'task_num \(9\).*\(10\)'):
        track_progress_rich(identity, [1] * 10, task_num=9)
    with pytest.raises(ValueError, match='nproc'):
        track_progress_rich(identity, [1], nproc=0)
    with pytest.raises(ValueError, match='tasks'):
        track_progress_rich(identity)
    with pytest.raises(ValueError, match='task_num'):
        track_progress_rich(identity, iter([1]), task_num=-1)


def test_worker_exception_propagates():

    def boom(x):
        raise ValueError(f'bad task {x}')

    with pytest.raises(ValueError, match='bad task 1'):
        track_progress_rich(boom, [1])
