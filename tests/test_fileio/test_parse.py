"""list_from_file and dict_from_file."""
import pytest

from mmengine.fileio import (BaseStorageBackend, dict_from_file,
                             list_from_file, register_backend)


class TextBackend(BaseStorageBackend):
    """Serves fixed text for ``parsetest://`` paths (a real backend)."""

    files = {
        'parsetest://b/a.txt': 'a\nb\nc\nd\ne',
        'parsetest://b/m.txt': '1 cat\n2 dog cow\n3 panda\n',
    }

    def get(self, filepath):
        return self.get_text(filepath).encode()

    def get_text(self, filepath, encoding='utf-8'):
        return self.files[str(filepath)]


register_backend('parsetest', TextBackend, prefixes='parsetest', force=True)


@pytest.fixture
def a_txt(tmp_path):
    path = tmp_path / 'a.txt'
    path.write_text('a\nb\nc\nd\ne\n')
    return path


def test_list_from_file(a_txt):
    assert list_from_file(a_txt) == ['a', 'b', 'c', 'd', 'e']
    assert list_from_file(str(a_txt), offset=2) == ['c', 'd', 'e']
    assert list_from_file(a_txt, max_num=2) == ['a', 'b']
    assert list_from_file(a_txt, offset=3, max_num=3) == ['d', 'e']
    assert list_from_file(a_txt, offset=9) == []
    assert list_from_file(a_txt, prefix='/mnt/')[:2] == ['/mnt/a', '/mnt/b']


def test_list_from_file_crlf_and_encoding(tmp_path):
    path = tmp_path / 'w.txt'
    path.write_bytes('é\r\nü\r\n'.encode('latin-1'))
    assert list_from_file(path, encoding='latin-1') == ['é', 'ü']


def test_dict_from_file(tmp_path):
    path = tmp_path / 'b.txt'
    path.write_text('1 cat\n2 dog cow\n\n3 panda\n')
    expected = {'1': 'cat', '2': ['dog', 'cow'], '3': 'panda'}
    assert dict_from_file(path) == expected
    assert dict_from_file(path, key_type=int) == {
        1: 'cat',
        2: ['dog', 'cow'],
        3: 'panda'
    }


def test_dict_from_file_errors_name_file_and_line(tmp_path):
    path = tmp_path / 'bad.txt'
    path.write_text('1 cat\nlonely\n')
    with pytest.raises(ValueError, match=r'bad.txt, line 2.*lonely'):
        dict_from_file(path)
    path.write_text('x cat\n')
    with pytest.raises(ValueError, match=r"bad.txt, line 1.*'x'"):
        dict_from_file(path, key_type=int)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        list_from_file(tmp_path / 'nope.txt')
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        dict_from_file(tmp_path / 'nope.txt')


def test_readers_route_uris_through_backends():
    assert list_from_file('parsetest://b/a.txt', offset=2) == ['c', 'd', 'e']
    assert dict_from_file('parsetest://b/m.txt') == {
        '1': 'cat',
        '2': ['dog', 'cow'],
        '3': 'panda'
    }
    assert list_from_file(
        'parsetest://b/a.txt', backend_args={'backend':
                                             'parsetest'})[-1] == 'e'
    with pytest.raises(ValueError, match="prefix 'zz'"):
        list_from_file('zz://b/a.txt')
