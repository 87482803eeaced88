"""LocalBackend, including its atomic put/put_text."""
import os
import os.path as osp
import shutil
import stat
from pathlib import Path
from unittest import mock

import pytest

from mmengine.fileio import HardDiskBackend, LocalBackend


@pytest.fixture
def tree(tmp_path):
    """tmp/{text1.txt, text2.txt, dir1/text3.txt, dir2/img.jpg,
    dir2/dir3/text4.txt, .hidden}"""
    (tmp_path / 'text1.txt').write_text('text1')
    (tmp_path / 'text2.txt').write_text('text2')
    (tmp_path / '.hidden').write_text('h')
    (tmp_path / 'dir1').mkdir()
    (tmp_path / 'dir1' / 'text3.txt').write_text('text3')
    (tmp_path / 'dir2' / 'dir3').mkdir(parents=True)
    (tmp_path / 'dir2' / 'img.jpg').write_bytes(b'img')
    (tmp_path / 'dir2' / 'dir3' / 'text4.txt').write_text('text4')
    return tmp_path


@pytest.mark.parametrize('path_type', [str, Path])
def test_get_put(tmp_path, path_type):
    backend = LocalBackend()
    assert backend.name == 'LocalBackend' and backend.allow_symlink
    path = path_type(tmp_path / 'new_dir' / 'a.bin')
    backend.put(b'\x00\x01', path)
    assert backend.get(path) == b'\x00\x01'
    backend.put_text('héllo', path_type(tmp_path / 't.txt'))
    assert backend.get_text(path_type(tmp_path / 't.txt')) == 'héllo'
    backend.put_text('é', tmp_path / 'l1.txt', encoding='latin-1')
    assert (tmp_path / 'l1.txt').read_bytes() == b'\xe9'
    assert backend.get_text(tmp_path / 'l1.txt', encoding='latin-1') == 'é'


def test_put_type_errors(tmp_path):
    backend = LocalBackend()
    with pytest.raises(TypeError, match='put_text'):
        backend.put('text', tmp_path / 'a')
    with pytest.raises(TypeError, match='use put'):
        backend.put_text(b'bytes', tmp_path / 'a')
    with pytest.raises(IsADirectoryError, match='directory'):
        backend.put(b'x', tmp_path)


def test_put_is_atomic_when_the_write_fails(tmp_path):
    backend = LocalBackend()
    path = tmp_path / 'ckpt.pth'
    backend.put(b'old', path)
    with mock.patch('os.replace', side_effect=OSError('disk died')):
        with pytest.raises(OSError, match='disk died'):
            backend.put(b'new content', path)
    # the old file is intact and no temporary file is left behind
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth']


class _FailMidWrite:
    """Wraps a binary file: ``write`` stores only the first ``limit`` bytes
    and then raises ``error`` (a full disk, a Ctrl-C)."""

    def __init__(self, f, limit, error):
        self._f, self._limit, self._error = f, limit, error
        self.written = b''

    def write(self, data):
        self.written = bytes(data[:self._limit])
        self._f.write(self.written)
        self._f.flush()
        raise self._error

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


@pytest.mark.parametrize(
    'error', [OSError(28, 'No space left on device'),
              KeyboardInterrupt()])
def test_crash_mid_write_keeps_old_file_and_no_temp(tmp_path, error):
    from mmengine import fileio
    path = tmp_path / 'ckpt.json'
    fileio.dump({'epoch': 1}, path)
    real_fdopen = os.fdopen
    opened = []

    def fdopen(fd, *args, **kwargs):
        opened.append(_FailMidWrite(real_fdopen(fd, *args, **kwargs), 5,
                                    error))
        return opened[-1]

    with mock.patch('os.fdopen', fdopen):
        with pytest.raises(type(error)):
            fileio.dump({'epoch': 2, 'pad': 'x' * 100}, path)
        with pytest.raises(type(error)):
            fileio.put(b'new bytes that never land', path)
    # partial data really reached a file ...
    assert [f.written for f in opened] == [b'{"epo', b'new b']
    # ... but not the target, and the temp files are gone
    assert fileio.load(path) == {'epoch': 1}
    assert os.listdir(tmp_path) == ['ckpt.json']


def test_killed_process_leaves_old_file(tmp_path):
    """A process that dies (os._exit) after writing the data but before the
    rename leaves the old file complete; its hidden temp file is not listed
    by list_dir_or_file."""
    import subprocess
    import sys
    import textwrap
    path = tmp_path / 'last_checkpoint'
    path.write_text('old')
    code = textwrap.dedent(f"""
        import os
        from mmengine.fileio import put_text
        os.fsync = lambda fd: os._exit(3)  # die between write and rename
        put_text('new' * 1000, {str(path)!r})
    """)
    proc = subprocess.run([sys.executable, '-c', code])
    assert proc.returncode == 3
    assert path.read_text() == 'old'
    leftovers = [n for n in os.listdir(tmp_path) if n != path.name]
    assert all(n.startswith('.last_checkpoint.') for n in leftovers)
    assert list(LocalBackend().list_dir_or_file(tmp_path)) == [path.name]


def test_put_writes_temp_in_same_dir_then_replaces(tmp_path):
    backend = LocalBackend()
    path = tmp_path / 'out.txt'
    calls = []
    real_replace = os.replace
    real_fsync = os.fsync

    def spy_replace(src, dst):
        # the complete data is in a temp file beside the target
        calls.append(('replace', osp.dirname(src), Path(src).read_bytes()))
        assert not path.exists()
        real_replace(src, dst)

    def spy_fsync(fd):
        calls.append(('fsync', ))
        real_fsync(fd)

    with mock.patch('os.replace', spy_replace), \
            mock.patch('os.fsync', spy_fsync):
        backend.put_text('data', path)
    assert calls[0] == ('fsync', )
    assert calls[1] == ('replace', str(tmp_path), b'data')
    assert path.read_text() == 'data'


def test_put_keeps_permissions_and_symlinks(tmp_path):
    backend = LocalBackend()
    path = tmp_path / 'a.txt'
    backend.put_text('1', path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask
    os.chmod(path, 0o640)
    backend.put_text('2', path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    link = tmp_path / 'link.txt'
    os.symlink(path, link)
    backend.put_text('3', link)
    assert osp.islink(link) and path.read_text() == '3'


def test_exists_isdir_isfile_join(tmp_path):
    backend = LocalBackend()
    assert backend.exists(tmp_path) and backend.isdir(tmp_path)
    assert not backend.isfile(tmp_path)
    assert not backend.exists(tmp_path / 'x')
    assert backend.join_path(tmp_path, 'a', 'b') == osp.join(tmp_path, 'a',
                                                             'b')
    with backend.get_local_path(tmp_path / 'x') as p:
        assert p == tmp_path / 'x'


def test_copy_and_remove(tree):
    backend = LocalBackend()
    src = tree / 'text1.txt'
    assert backend.copyfile(src, tree / 'c.txt') == tree / 'c.txt'
    assert backend.copyfile(str(src), str(tree / 'dir1')) == osp.join(
        tree, 'dir1', 'text1.txt')
    with pytest.raises(shutil.SameFileError):
        backend.copyfile(src, src)
    assert backend.copytree(tree / 'dir2', tree / 'dir9') == tree / 'dir9'
    assert (tree / 'dir9' / 'dir3' / 'text4.txt').read_text() == 'text4'
    with pytest.raises(FileExistsError):
        backend.copytree(tree / 'dir2', tree / 'dir1')
    backend.remove(tree / 'c.txt')
    with pytest.raises(FileNotFoundError, match='c.txt'):
        backend.remove(tree / 'c.txt')
    with pytest.raises(IsADirectoryError, match='rmtree'):
        backend.remove(tree / 'dir9')
    backend.rmtree(tree / 'dir9')
    assert not backend.exists(tree / 'dir9')


def test_copy_if_symlink_fails(tree):
    backend = LocalBackend()
    assert backend.copy_if_symlink_fails(tree / 'text1.txt', tree / 'l.txt')
    assert osp.islink(tree / 'l.txt')
    with mock.patch('os.symlink', side_effect=OSError('no links')):
        assert not backend.copy_if_symlink_fails(tree / 'text1.txt',
                                                 tree / 'c.txt')
        assert not backend.copy_if_symlink_fails(tree / 'dir1', tree / 'dc')
    assert not osp.islink(tree / 'c.txt')
    assert (tree / 'c.txt').read_text() == 'text1'
    assert (tree / 'dc' / 'text3.txt').read_text() == 'text3'


def test_list_dir_or_file(tree):
    backend = LocalBackend()
    j = osp.join
    assert set(backend.list_dir_or_file(tree)) == {
        'dir1', 'dir2', 'text1.txt', 'text2.txt'
    }
    assert set(backend.list_dir_or_file(tree, recursive=True)) == {
        'dir1',
        j('dir1', 'text3.txt'), 'dir2',
        j('dir2', 'dir3'),
        j('dir2', 'dir3', 'text4.txt'),
        j('dir2', 'img.jpg'), 'text1.txt', 'text2.txt'
    }
    assert set(backend.list_dir_or_file(tree, list_file=False,
                                        recursive=True)) == {
                                            'dir1', 'dir2',
                                            j('dir2', 'dir3')
                                        }
    assert set(
        backend.list_dir_or_file(
            tree, list_dir=False, suffix=('.txt', '.jpg'),
            recursive=True)) == {
                j('dir1', 'text3.txt'),
                j('dir2', 'dir3', 'text4.txt'),
                j('dir2', 'img.jpg'), 'text1.txt', 'text2.txt'
            }
    # argument errors are raised at call time, not on iteration
    with pytest.raises(TypeError, match='`suffix` should be None'):
        backend.list_dir_or_file(tree, suffix='.txt')
    with pytest.raises(TypeError, match='must be a string or tuple'):
        backend.list_dir_or_file(tree, list_dir=False, suffix=['.txt'])
    with pytest.raises(FileNotFoundError, match='missing'):
        list(backend.list_dir_or_file(tree / 'missing'))


def test_hard_disk_backend_is_the_old_name(tmp_path):
    backend = HardDiskBackend()
    assert isinstance(backend, LocalBackend)
    assert backend.name == 'HardDiskBackend'
    backend.put(b'x', tmp_path / 'a')
    assert backend.get(tmp_path / 'a') == b'x'


def test_list_dir_or_file_closes_the_directory_when_stopped_early(tree):
    import gc
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        entries = LocalBackend().list_dir_or_file(tree, recursive=True)
        next(entries)
        entries.close()
        del entries
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.skipif(not osp.exists('/proc/self/status'), reason='Linux')
def test_put_reads_the_umask_without_changing_it(tmp_path, monkeypatch):
    # Setting the umask, even briefly, races with threads creating files.
    from mmengine.fileio.backends import local_backend
    monkeypatch.setattr(local_backend, '_umask', None)
    umask = os.umask(0o027)
    try:
        with mock.patch('os.umask', side_effect=AssertionError('umask set')):
            LocalBackend().put_text('x', tmp_path / 'a.txt')
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / 'a.txt').st_mode) == 0o640
