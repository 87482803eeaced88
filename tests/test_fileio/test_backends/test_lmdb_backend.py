"""LmdbBackend against a real LMDB database made in the test."""
import pickle
import sys
from pathlib import Path

import pytest

from mmengine.fileio import LmdbBackend, get_file_backend

lmdb = pytest.importorskip('lmdb')


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / 'demo.lmdb'
    env = lmdb.open(str(path), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b'baboon', b'\x89PNG-bytes')
        txn.put('ключ'.encode(), b'unicode key')
    env.close()
    return path


@pytest.mark.parametrize('path_type', [str, Path])
def test_get(db_path, path_type):
    backend = LmdbBackend(path_type(db_path))
    assert backend.get('baboon') == b'\x89PNG-bytes'
    assert backend.get(Path('ключ')) == b'unicode key'


def test_missing_key_is_named(db_path):
    backend = LmdbBackend(db_path)
    with pytest.raises(KeyError, match=r"'nope'.*demo.lmdb"):
        backend.get('nope')


def test_get_text_is_refused(db_path):
    with pytest.raises(NotImplementedError, match='use get'):
        LmdbBackend(db_path).get_text('baboon')


def test_opened_lazily_and_picklable(db_path):
    backend = LmdbBackend(db_path)
    assert backend._client is None
    backend.get('baboon')
    clone = pickle.loads(pickle.dumps(backend))  # e.g. sent to a worker
    assert clone._client is None  # the open handle is not copied
    # (LMDB allows one handle per process: close ours, as a worker would
    # not have it)
    backend._client.close()
    assert clone.get('baboon') == b'\x89PNG-bytes'
    clone._client.close()


def test_selected_by_backend_args(db_path):
    backend = get_file_backend(
        backend_args={
            'backend': 'lmdb',
            'db_path': str(db_path)
        })
    assert isinstance(backend, LmdbBackend)
    assert backend.get('baboon') == b'\x89PNG-bytes'


def test_missing_package_is_named(monkeypatch, db_path):
    monkeypatch.setitem(sys.modules, 'lmdb', None)  # import lmdb fails
    message = r"pip install lmdb.*pip install 'mmengine\[lmdb\]'"
    with pytest.raises(ImportError, match=message):
        LmdbBackend(db_path)
    # the same message through the public functions
    from mmengine import fileio
    with pytest.raises(ImportError, match=message):
        fileio.get('baboon', backend_args=dict(backend='lmdb',
                                               db_path=db_path))
