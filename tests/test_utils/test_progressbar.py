import io

import pytest

from mmengine.utils import (ProgressBar, track_iter_progress,
                            track_parallel_progress, track_progress)


def double(x):
    return 2 * x


def init_worker(value):
    global _WORKER_VALUE
    _WORKER_VALUE = value


def read_worker_value(x):
    return _WORKER_VALUE + x


def test_progressbar_known_total_finishes_itself():
    out = io.StringIO()
    bar = ProgressBar(4, file=out)
    assert bar.is_running and bar.completed == 0
    bar.update()
    bar.update(3)
    assert bar.completed == 4
    assert not bar.is_running  # stopped once all tasks are done
    text = out.getvalue()
    assert '4/4' in text and '100%' in text
    assert text.count('\n') == 1  # a file gets the final state once


def test_progressbar_unknown_total():
    out = io.StringIO()
    with ProgressBar(file=out) as bar:
        for _ in range(5):
            bar.update()
    assert not bar.is_running
    assert 'completed: 5' in out.getvalue()


def test_progressbar_start_later_and_errors():
    out = io.StringIO()
    bar = ProgressBar(2, start=False, file=out)
    assert not bar.is_running
    with pytest.raises(RuntimeError, match='start'):
        bar.update()
    bar.start()
    with pytest.raises(ValueError, match='num_tasks'):
        bar.update(0)
    bar.finish()
    bar.finish()  # idempotent
    with pytest.raises(ValueError, match='task_num'):
        ProgressBar(-1)
    with pytest.raises(ValueError, match='bar_width'):
        ProgressBar(3, bar_width=0)


def test_progressbar_default_file_is_current_stdout(capsys):
    bar = ProgressBar(1)
    bar.update()
    assert '1/1' in capsys.readouterr().out


def test_track_progress():
    out = io.StringIO()
    assert track_progress(double, [1, 2, 3], file=out) == [2, 4, 6]
    assert '3/3' in out.getvalue()
    # (iterable, task_num) for an iterator without len
    out = io.StringIO()
    assert track_progress(double, (iter([1, 2]), 2), file=out) == [2, 4]
    # extra kwargs go to func
    assert track_progress(
        lambda x, k: x + k, [1, 2], file=io.StringIO(), k=10) == [11, 12]


def test_track_progress_errors():
    with pytest.raises(TypeError, match='tasks'):
        track_progress(double, iter([1, 2]), file=io.StringIO())
    with pytest.raises(TypeError, match='tasks'):
        track_progress(double, 3, file=io.StringIO())
    with pytest.raises(TypeError, match='callable'):
        track_progress(3, [1], file=io.StringIO())


def test_track_progress_stops_bar_on_error():
    out = io.StringIO()

    def fail(x):
        raise KeyError(x)

    with pytest.raises(KeyError):
        track_progress(fail, [1, 2], file=out)


def test_track_iter_progress():
    out = io.StringIO()
    seen = [x for x in track_iter_progress([3, 4, 5], file=out)]
    assert seen == [3, 4, 5]
    assert '3/3' in out.getvalue()
    seen = list(track_iter_progress((iter('ab'), 2), file=io.StringIO()))
    assert seen == ['a', 'b']
    with pytest.raises(TypeError):
        list(track_iter_progress(iter([1]), file=io.StringIO()))


def test_track_parallel_progress():
    out = io.StringIO()
    results = track_parallel_progress(double, list(range(8)), 2, file=out)
    assert results == [2 * i for i in range(8)]
    assert '8/8' in out.getvalue()
    results = track_parallel_progress(
        double, list(range(8)), 2, keep_order=False, file=io.StringIO())
    assert sorted(results) == [2 * i for i in range(8)]
    out = io.StringIO()
    results = track_parallel_progress(
        double, (iter(range(6)), 6), 2, skip_first=True, file=out)
    assert results == [2 * i for i in range(6)]
    assert '4/4' in out.getvalue()  # first nproc * chunksize not counted
    results = track_parallel_progress(
        read_worker_value, [1, 2], 2, initializer=init_worker,
        initargs=(100, ), file=io.StringIO())
    assert results == [101, 102]


def fail_on_three(x):
    if x == 3:
        raise ValueError(f'bad task {x}')
    return x


def test_track_parallel_progress_worker_error_propagates():
    out = io.StringIO()
    with pytest.raises(ValueError, match='bad task 3'):
        track_parallel_progress(fail_on_three, list(range(6)), 2, file=out)


def test_track_parallel_progress_errors():
    with pytest.raises(ValueError, match='nproc'):
        track_parallel_progress(double, [1], 0)
    with pytest.raises(TypeError, match='callable'):
        track_parallel_progress(None, [1], 1)
    with pytest.raises(TypeError, match='initargs'):
        track_parallel_progress(
            double, [1], 1, initializer=init_worker, initargs=[1])


_SCRIPT = '''
import multiprocessing as mp
import sys
from mmengine.utils import track_parallel_progress, track_progress


def square(x):
    return x * x


if __name__ == '__main__':
    mp.set_start_method(sys.argv[1])
    print('start', flush=True)
    assert track_parallel_progress(square, list(range(12)), 3) == [
        x * x for x in range(12)]
    print('between', flush=True)
    assert track_progress(square, [1, 2, 3]) == [1, 4, 9]
    print('end', flush=True)
'''


@pytest.mark.parametrize('start_method', ['fork', 'spawn'])
def test_real_processes_print_once_to_a_pipe(tmp_path, start_method):
    """A user script run with its stdout piped (CI, ``| tee``): real worker
    processes, each bar printed once in its final state, no escape codes,
    nothing on stderr."""
    import subprocess
    import sys
    script = tmp_path / 'job.py'
    script.write_text(_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), start_method],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ''
    lines = proc.stdout.splitlines()
    assert lines[0] == 'start' and lines[2] == 'between' and \
        lines[4] == 'end' and len(lines) == 5
    assert '12/12 100%' in lines[1] and '3/3 100%' in lines[3]
    assert '\x1b' not in proc.stdout and '\r' not in proc.stdout
