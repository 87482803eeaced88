"""PetrelBackend over an in-memory stand-in for ``petrel_client``."""
import os.path as osp
import sys
import types
from shutil import SameFileError

import pytest

from mmengine import fileio
from mmengine.fileio import PetrelBackend, get_file_backend


class FakePetrelClient:
    """An in-memory object store with petrel_client's Client interface
    (keys are full ``s3://`` paths)."""

    def __init__(self, conf_path=None, enable_mc=True):
        self.conf_path = conf_path
        self.enable_mc = enable_mc
        self.store = {}
        self.calls = []

    def Get(self, path):
        self.calls.append(('Get', path))
        return self.store.get(path)

    def put(self, path, data):
        self.calls.append(('put', path))
        self.store[path] = bytes(data)

    def contains(self, path):
        return path in self.store

    def isdir(self, path):
        prefix = path.rstrip('/') + '/'
        return any(k.startswith(prefix) for k in self.store)

    def delete(self, path):
        del self.store[path]

    def list(self, path):
        prefix = path if path.endswith('/') else path + '/'
        seen = set()
        for key in sorted(self.store):
            if key.startswith(prefix):
                head, sep, _ = key[len(prefix):].partition('/')
                name = head + sep
                if name not in seen:
                    seen.add(name)
                    yield name

    def generate_presigned_url(self, path, method, expires):
        return f'https://signed/{path}?m={method}&e={expires}'


@pytest.fixture
def petrel(monkeypatch):
    pkg = types.ModuleType('petrel_client')
    client_mod = types.ModuleType('petrel_client.client')
    client_mod.Client = FakePetrelClient
    pkg.client = client_mod
    monkeypatch.setitem(sys.modules, 'petrel_client', pkg)
    monkeypatch.setitem(sys.modules, 'petrel_client.client', client_mod)
    # no cached backend from another test may hold an older fake client
    monkeypatch.setattr(sys.modules['mmengine.fileio.io'],
                        'backend_instances', {})
    backend = PetrelBackend(conf_path='~/petreloss.conf', enable_mc=False)
    store = backend._client.store
    for key, value in {
            'text1.txt': b'text1',
            'text2.txt': b'text2',
            'dir1/text3.txt': b'text3',
            'dir2/img.jpg': b'img',
            'dir2/dir3/text4.txt': b'text4',
    }.items():
        store[f's3://bucket/data/{key}'] = value
    return backend


def test_missing_client_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, 'petrel_client', None)
    monkeypatch.setitem(sys.modules, 'petrel_client.client', None)
    with pytest.raises(ImportError, match='install petrel_client'):
        PetrelBackend()
    # the same message when a user just loads an s3:// path
    monkeypatch.setattr(sys.modules['mmengine.fileio.io'],
                        'backend_instances', {})
    with pytest.raises(ImportError, match='install petrel_client'):
        fileio.load('s3://bucket/a.json')


def test_client_args_and_name(petrel):
    assert petrel.name == 'PetrelBackend' and not petrel.allow_symlink
    assert petrel._client.conf_path == '~/petreloss.conf'
    assert petrel._client.enable_mc is False
    with pytest.raises(TypeError, match='path_mapping'):
        PetrelBackend(path_mapping=['a'])


def test_path_processing(petrel):
    assert petrel._map_path('petrel://a/b') == 'petrel://a/b'
    mapped = PetrelBackend(path_mapping={'data/': 'petrel://bucket/data/'})
    assert mapped._map_path('data/x.jpg') == 'petrel://bucket/data/x.jpg'
    assert petrel._format_path('petrel://a\\b\\\\c.jpg') == \
        'petrel://a/b/c.jpg'
    assert petrel._replace_prefix('petrel://a/b') == 's3://a/b'
    assert petrel._replace_prefix('s3://a/petrel://b') == 's3://a/petrel://b'
    assert petrel.join_path('petrel://a/', '/b/', 'c') == 'petrel://a/b/c'
    assert petrel.join_path('petrel://a', 'c') == 'petrel://a/c'
    # a mapped path reaches the client with the mapping applied
    mapped._client.store['s3://bucket/data/x.jpg'] = b'x'
    assert mapped.get('data/x.jpg') == b'x'


def test_get_put_text(petrel):
    assert petrel.get('petrel://bucket/data/dir2/img.jpg') == b'img'
    assert petrel.get_text('s3://bucket/data/text1.txt') == 'text1'
    petrel.put(b'new', 'petrel://bucket/data/new.bin')
    assert petrel._client.store['s3://bucket/data/new.bin'] == b'new'
    petrel.put_text('é', 'petrel://bucket/data/t.txt', encoding='latin-1')
    assert petrel._client.store['s3://bucket/data/t.txt'] == b'\xe9'
    assert petrel.get_text('s3://bucket/data/t.txt', 'latin-1') == 'é'
    with pytest.raises(UnicodeDecodeError, match='data/t.txt.*utf-8'):
        petrel.get_text('petrel://bucket/data/t.txt')
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        petrel.get('s3://bucket/data/nope.txt')


def test_exists_isdir_isfile(petrel):
    assert petrel.exists('petrel://bucket/data/dir2')
    assert petrel.exists('petrel://bucket/data/dir2/img.jpg')
    assert not petrel.exists('petrel://bucket/data/nope')
    assert petrel.isdir('s3://bucket/data/dir2')
    assert not petrel.isdir('s3://bucket/data/dir2/img.jpg')
    assert petrel.isfile('s3://bucket/data/dir2/img.jpg')
    assert not petrel.isfile('s3://bucket/data/dir2')


def test_old_client_without_methods(petrel, monkeypatch):
    monkeypatch.delattr(FakePetrelClient, 'contains')
    monkeypatch.delattr(FakePetrelClient, 'list')
    with pytest.raises(NotImplementedError, match='`contains`'):
        petrel.exists('s3://bucket/data')
    with pytest.raises(NotImplementedError, match='`list`'):
        list(petrel.list_dir_or_file('s3://bucket/data'))


def test_get_local_path(petrel):
    with petrel.get_local_path('petrel://bucket/data/dir2/img.jpg') as path:
        assert path.endswith('.jpg')
        with open(path, 'rb') as f:
            assert f.read() == b'img'
    assert not osp.exists(path)
    with pytest.raises(FileNotFoundError, match='nope.jpg'):
        with petrel.get_local_path('s3://bucket/data/nope.jpg'):
            pass


def test_copy_remove(petrel, tmp_path):
    src = 'petrel://bucket/data/dir2/img.jpg'
    assert petrel.copyfile(src, 'petrel://bucket/data/c.jpg') == \
        'petrel://bucket/data/c.jpg'
    assert petrel.copyfile(src, 'petrel://bucket/data/dir1') == \
        'petrel://bucket/data/dir1/img.jpg'
    assert petrel.isfile('s3://bucket/data/dir1/img.jpg')
    with pytest.raises(SameFileError):
        petrel.copyfile(src, 's3://bucket/data/dir2/img.jpg')
    assert petrel.copytree('s3://bucket/data/dir2', 's3://bucket/data/d9') \
        == 's3://bucket/data/d9'
    assert petrel.get('s3://bucket/data/d9/dir3/text4.txt') == b'text4'
    with pytest.raises(FileExistsError):
        petrel.copytree('s3://bucket/data/dir2', 's3://bucket/data/d9')
    petrel.remove('s3://bucket/data/c.jpg')
    assert not petrel.exists('s3://bucket/data/c.jpg')
    with pytest.raises(FileNotFoundError, match='c.jpg'):
        petrel.remove('s3://bucket/data/c.jpg')
    with pytest.raises(IsADirectoryError, match='rmtree'):
        petrel.remove('s3://bucket/data/d9')
    petrel.rmtree('s3://bucket/data/d9')
    assert not petrel.exists('s3://bucket/data/d9')
    assert not petrel.copy_if_symlink_fails(src, 's3://bucket/data/l.jpg')
    assert petrel.isfile('s3://bucket/data/l.jpg')


def test_copy_between_local_and_petrel(petrel, tmp_path):
    local = tmp_path / 'up'
    (local / 'sub').mkdir(parents=True)
    (local / 'a.txt').write_text('a')
    (local / 'sub' / 'b.txt').write_text('b')
    assert petrel.copyfile_from_local(local / 'a.txt',
                                      's3://bucket/data/dir1') == \
        's3://bucket/data/dir1/a.txt'
    petrel.copytree_from_local(local, 's3://bucket/up')
    assert petrel.get('s3://bucket/up/sub/b.txt') == b'b'
    with pytest.raises(FileExistsError):
        petrel.copytree_from_local(local, 's3://bucket/up')
    down = tmp_path / 'down'
    down.mkdir()
    assert petrel.copyfile_to_local('s3://bucket/data/text1.txt',
                                    down) == down / 'text1.txt'
    assert petrel.copyfile_to_local('s3://bucket/data/text1.txt',
                                    str(down / 'x.txt')) == str(down / 'x.txt')
    assert (down / 'x.txt').read_text() == 'text1'
    petrel.copytree_to_local('s3://bucket/data', tmp_path / 'tree')
    assert (tmp_path / 'tree' / 'dir2' / 'dir3' / 'text4.txt').read_text() \
        == 'text4'


def test_list_dir_or_file(petrel):
    root = 'petrel://bucket/data'
    assert set(petrel.list_dir_or_file(root)) == {
        'dir1', 'dir2', 'text1.txt', 'text2.txt'
    }
    assert set(petrel.list_dir_or_file(root, recursive=True)) == {
        'dir1', 'dir1/text3.txt', 'dir2', 'dir2/dir3', 'dir2/dir3/text4.txt',
        'dir2/img.jpg', 'text1.txt', 'text2.txt'
    }
    assert set(petrel.list_dir_or_file(root, list_file=False,
                                       recursive=True)) == {
                                           'dir1', 'dir2', 'dir2/dir3'
                                       }
    assert set(
        petrel.list_dir_or_file(
            root + '/', list_dir=False, suffix='.txt', recursive=True)) == {
                'dir1/text3.txt', 'dir2/dir3/text4.txt', 'text1.txt',
                'text2.txt'
            }
    with pytest.raises(TypeError, match='`list_dir` should be False'):
        petrel.list_dir_or_file(root, suffix='.txt')
    with pytest.raises(TypeError, match='string or tuple of strings'):
        petrel.list_dir_or_file(root, list_dir=False, suffix=['.txt'])


def test_io_functions_route_s3_and_petrel(petrel):
    backend = get_file_backend('s3://bucket/x', enable_singleton=True)
    assert isinstance(backend, PetrelBackend)
    assert get_file_backend('petrel://bucket/x', enable_singleton=True) is \
        backend
    # module-level functions share the singleton instance
    fileio.dump({'a': 1}, 's3://bucket/out.json')
    assert fileio.load('petrel://bucket/out.json') == {'a': 1}
    fileio.dump([1, 2], 's3://bucket/out.pkl')
    assert fileio.load('s3://bucket/out.pkl') == [1, 2]
    fileio.put_text('l1\nl2\nl3', 's3://bucket/list.txt')
    assert fileio.list_from_file('s3://bucket/list.txt', offset=2) == ['l3']
    assert fileio.generate_presigned_url(
        's3://bucket/out.json', expires_in=60) == \
        'https://signed/s3://bucket/out.json?m=get_object&e=60'
    assert fileio.exists('s3://bucket/out.pkl')
    fileio.remove('s3://bucket/out.pkl')
    assert not fileio.isfile('s3://bucket/out.pkl')


def test_failed_download_keeps_local_files(petrel, tmp_path, monkeypatch):
    existing = tmp_path / 'text1.txt'
    existing.write_text('keep me')

    def broken_get(path):
        raise OSError(f'network down while reading {path}')

    monkeypatch.setattr(petrel._client, 'Get', broken_get)
    with pytest.raises(OSError, match='network down'):
        petrel.copyfile_to_local('s3://bucket/data/text1.txt', tmp_path)
    assert existing.read_text() == 'keep me'
    # no temp file is left behind by get_local_path either
    monkeypatch.setattr('tempfile.tempdir', str(tmp_path / 'tmp'))
    (tmp_path / 'tmp').mkdir()
    with pytest.raises(OSError, match='network down'):
        with petrel.get_local_path('s3://bucket/data/text1.txt'):
            pass
    assert list((tmp_path / 'tmp').iterdir()) == []
