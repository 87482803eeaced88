"""The documented example programs of spec 10 §8 (EX-IO-01 … EX-IO-04),
written as a user would run them.

EX-IO-05 (``save_checkpoint``/``load_checkpoint``) belongs to
``mmengine.runner`` and is tested there.
"""
import json
import sys
import types

import pytest

from mmengine import (BaseFileHandler, dict_from_file, dump, list_from_file,
                      load, register_handler)
from mmengine.fileio import PetrelBackend, get_file_backend
from mmengine.fileio.handlers import file_handlers

data = {'name': 'mmengine', 'numbers': [1, 2.5, -3], 'nested': {'ok': True}}


@pytest.fixture
def restore_handlers():
    """Registrations made by a test do not leak into other tests."""
    saved = dict(file_handlers)
    yield
    file_handlers.clear()
    file_handlers.update(saved)


def test_ex_io_01_round_trips(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # dump to files, format from the suffix
    dump(data, 'test.json')
    dump(data, 'test.yaml')
    dump(data, 'test.pkl')
    assert load('test.json') == data
    assert load('test.yaml') == data
    assert load('test.pkl') == data
    # file objects need file_format
    with open('test.json') as f:
        assert load(f, file_format='json') == data
    with open('test.yaml') as f:
        assert load(f, file_format='yaml') == data
    with open('test.pkl', 'rb') as f:
        assert load(f, file_format='pkl') == data
    with open('test2.json', 'w') as f:
        dump(data, f, file_format='json')
    assert load('test2.json') == data
    with open('test2.pkl', 'wb') as f:
        dump(data, f, file_format='pickle')
    assert load('test2.pkl') == data
    # no file: the serialized data is returned
    text = dump(data, file_format='json')
    assert isinstance(text, str) and json.loads(text) == data
    assert isinstance(dump(data, file_format='yaml'), str)
    assert isinstance(dump(data, file_format='pkl'), bytes)


def test_ex_io_02_custom_handler(tmp_path, monkeypatch, restore_handlers):
    monkeypatch.chdir(tmp_path)

    # exactly the documented class: no **kwargs in its methods
    @register_handler('txt')
    class TxtHandler1(BaseFileHandler):

        def load_from_fileobj(self, file):
            return file.read()

        def dump_to_fileobj(self, obj, file):
            file.write(str(obj))

        def dump_to_str(self, obj, **kwargs):
            return str(obj)

    dump('hello', 'a.txt')
    assert load('a.txt') == 'hello'
    assert dump(123, file_format='txt') == '123'

    @register_handler(['txt', 'log'])
    class TxtHandler2(BaseFileHandler):

        def load_from_fileobj(self, file):
            return file.read().upper()

        def dump_to_fileobj(self, obj, file):
            file.write(str(obj))

        def dump_to_str(self, obj, **kwargs):
            return str(obj)

    dump('world', 'b.log')
    # the later registration overrides the earlier one for 'txt'
    assert load('a.txt') == 'HELLO'
    assert load('b.log') == 'WORLD'


def test_ex_io_03_list_and_dict_from_file(tmp_path):
    a = tmp_path / 'a.txt'
    a.write_text('a\nb\nc\nd\ne\n')
    assert list_from_file(a) == ['a', 'b', 'c', 'd', 'e']
    assert list_from_file(a, offset=2) == ['c', 'd', 'e']
    assert list_from_file(a, max_num=2) == ['a', 'b']
    assert list_from_file(a, prefix='/mnt/') == [
        '/mnt/a', '/mnt/b', '/mnt/c', '/mnt/d', '/mnt/e'
    ]
    b = tmp_path / 'b.txt'
    b.write_text('1 cat\n2 dog cow\n3 panda\n')
    assert dict_from_file(b) == {
        '1': 'cat',
        '2': ['dog', 'cow'],
        '3': 'panda'
    }
    assert dict_from_file(b, key_type=int) == {
        1: 'cat',
        2: ['dog', 'cow'],
        3: 'panda'
    }


class _ObjectStore:
    """Stand-in for ``petrel_client.client.Client``: a dict of objects."""

    objects: dict = {}

    def __init__(self, conf_path=None, enable_mc=True):
        pass

    def Get(self, path):
        return self.objects.get(path)

    def put(self, path, data):
        self.objects[path] = bytes(data)


def test_ex_io_04_remote_paths(monkeypatch):
    pkg = types.ModuleType('petrel_client')
    pkg.client = types.ModuleType('petrel_client.client')
    pkg.client.Client = _ObjectStore
    monkeypatch.setitem(sys.modules, 'petrel_client', pkg)
    monkeypatch.setitem(sys.modules, 'petrel_client.client', pkg.client)
    # no backend cached by another test may hold another client
    monkeypatch.setattr(sys.modules['mmengine.fileio.io'],
                        'backend_instances', {})
    monkeypatch.setattr(_ObjectStore, 'objects', {
        's3://bucket-name/test.json': b'{"a": [1, 2]}',
        's3://bucket-name/a.txt': b'a\nb\nc\nd\ne\n',
    })
    assert isinstance(
        get_file_backend('s3://bucket-name/test.json'), PetrelBackend)
    assert load('s3://bucket-name/test.json') == {'a': [1, 2]}
    dump(data, 's3://bucket-name/out.pkl')
    assert 's3://bucket-name/out.pkl' in _ObjectStore.objects
    assert load('s3://bucket-name/out.pkl') == data
    assert list_from_file(
        's3://bucket-name/a.txt', offset=2) == ['c', 'd', 'e']
    dump(data, 'petrel://bucket-name/out.yaml')  # petrel:// is s3://
    assert load('s3://bucket-name/out.yaml') == data
