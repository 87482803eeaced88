import multiprocessing as mp
import os
import platform
import warnings

import pytest

from mmengine.utils.dl_utils import set_multi_processing


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.delenv('MKL_NUM_THREADS', raising=False)
    method = mp.get_start_method(allow_none=True)
    yield
    if method is not None:
        mp.set_start_method(method, force=True)


def test_distributed_sets_thread_vars(clean_env):
    with pytest.warns(UserWarning) as record:
        set_multi_processing(distributed=True)
    messages = ' '.join(str(r.message) for r in record)
    assert 'OMP_NUM_THREADS' in messages and 'MKL_NUM_THREADS' in messages
    assert os.environ['OMP_NUM_THREADS'] == '1'
    assert os.environ['MKL_NUM_THREADS'] == '1'
    if platform.system() != 'Windows':
        assert mp.get_start_method() == 'fork'


def test_non_distributed_leaves_env(clean_env):
    set_multi_processing(distributed=False)
    assert 'OMP_NUM_THREADS' not in os.environ
    assert 'MKL_NUM_THREADS' not in os.environ


def test_user_setting_kept(clean_env, monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '4')
    with pytest.warns(UserWarning, match='MKL_NUM_THREADS'):
        set_multi_processing(distributed=True)
    assert os.environ['OMP_NUM_THREADS'] == '4'
    assert os.environ['MKL_NUM_THREADS'] == '1'


@pytest.mark.skipif(platform.system() == 'Windows', reason='posix only')
def test_start_method(clean_env):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # may differ from the current one
        set_multi_processing(mp_start_method='spawn')
    assert mp.get_start_method() == 'spawn'
    with pytest.warns(UserWarning, match='fork'):
        set_multi_processing(mp_start_method='fork')
    assert mp.get_start_method() == 'fork'
    with pytest.raises(ValueError, match='bogus'):
        set_multi_processing(mp_start_method='bogus')


def test_opencv_threads_set_only_when_installed(clean_env, monkeypatch):
    import importlib.machinery
    import sys
    import types
    calls = []
    fake_cv2 = types.ModuleType('cv2')
    fake_cv2.__spec__ = importlib.machinery.ModuleSpec('cv2', None)
    fake_cv2.setNumThreads = calls.append
    monkeypatch.setitem(sys.modules, 'cv2', fake_cv2)
    set_multi_processing(opencv_num_threads=4)
    set_multi_processing()
    assert calls == [4, 0]
