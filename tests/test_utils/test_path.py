import os
import os.path as osp
from pathlib import Path

import pytest

from mmengine.utils import (check_file_exist, find_vcs_root, fopen, is_abs,
                            is_filepath, mkdir_or_exist, scandir, symlink)


def test_is_filepath_and_is_abs():
    assert is_filepath('a') and is_filepath(Path('a'))
    assert not is_filepath(1)
    assert is_abs('/a/b') and is_abs('s3://bucket/x')
    assert not is_abs('a/b')


def test_fopen(tmp_path):
    f = tmp_path / 'x.txt'
    with fopen(str(f), 'w') as fh:
        fh.write('hi')
    with fopen(f) as fh:
        assert fh.read() == 'hi'
    with pytest.raises(ValueError, match='int'):
        fopen(1)


def test_check_file_exist(tmp_path):
    f = tmp_path / 'a.txt'
    f.write_text('1')
    check_file_exist(str(f))
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        check_file_exist(str(tmp_path / 'missing.txt'))


def test_mkdir_or_exist(tmp_path):
    d = tmp_path / 'a' / 'b'
    mkdir_or_exist(str(d))
    mkdir_or_exist(d)  # exists already: no error
    assert d.is_dir()
    mkdir_or_exist('')


def test_symlink(tmp_path):
    src = tmp_path / 'src.txt'
    src.write_text('x')
    other = tmp_path / 'other.txt'
    other.write_text('y')
    dst = str(tmp_path / 'link')
    symlink(str(src), dst)
    assert os.readlink(dst) == str(src)
    symlink(str(other), dst)  # overwrite
    assert os.readlink(dst) == str(other)
    with pytest.raises(FileExistsError):
        symlink(str(src), dst, overwrite=False)


def test_scandir(tmp_path):
    (tmp_path / 'a.py').write_text('')
    (tmp_path / 'b.TXT').write_text('')
    (tmp_path / '.hidden.py').write_text('')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'c.py').write_text('')
    assert sorted(scandir(tmp_path)) == ['a.py', 'b.TXT']
    assert sorted(scandir(str(tmp_path), '.py')) == ['a.py']
    assert sorted(scandir(tmp_path, '.py', recursive=True)) == [
        'a.py', osp.join('sub', 'c.py')
    ]
    assert sorted(scandir(tmp_path, ('.py', '.txt'),
                          case_sensitive=False)) == ['a.py', 'b.TXT']
    with pytest.raises(TypeError, match='dir_path'):
        list(scandir(1))
    with pytest.raises(TypeError, match='suffix'):
        list(scandir(tmp_path, suffix=1))


def test_find_vcs_root(tmp_path):
    (tmp_path / '.git').mkdir()
    (tmp_path / 'x' / 'y').mkdir(parents=True)
    assert find_vcs_root(str(tmp_path / 'x' / 'y')) == str(tmp_path)
    assert find_vcs_root(str(tmp_path / 'x'), markers=('.nope', )) is None


def test_is_abs_accepts_path_objects():
    assert is_abs(Path('/a/b'))
    assert not is_abs(Path('a/b'))


def test_scandir_closes_the_directory_when_stopped_early(tmp_path):
    import gc
    import warnings
    for name in ('a.txt', 'b.txt'):
        (tmp_path / name).write_text('x')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        files = scandir(tmp_path)
        next(files)
        files.close()
        del files
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
