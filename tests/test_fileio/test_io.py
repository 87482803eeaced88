"""load/dump, handlers and path-based io functions of mmengine.fileio."""
import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import mmengine
from mmengine import fileio
from mmengine.fileio import (BaseFileHandler, BaseStorageBackend,
                             LocalBackend, dump, get_file_backend, load,
                             register_backend, register_handler)

DATA = {'a': [1, 2.5, 'x'], 'b': {'c': None, 'd': True}}


class MemoryBackend(BaseStorageBackend):
    """A real (in-memory) backend registered for the ``memtest://`` prefix,
    used to check that paths with a URI prefix are routed to backends."""

    store: dict = {}

    def get(self, filepath):
        try:
            return self.store[str(filepath)]
        except KeyError:
            raise FileNotFoundError(str(filepath)) from None

    def get_text(self, filepath, encoding='utf-8'):
        return self.get(filepath).decode(encoding)

    def put(self, obj, filepath):
        self.store[str(filepath)] = bytes(obj)

    def put_text(self, obj, filepath, encoding='utf-8'):
        self.put(obj.encode(encoding), filepath)

    def exists(self, filepath):
        return str(filepath) in self.store


register_backend('memtest', MemoryBackend, prefixes='memtest', force=True)


@pytest.mark.parametrize('fmt', ['json', 'yaml', 'yml', 'pickle', 'pkl'])
def test_round_trip_by_suffix_str_and_path(tmp_path, fmt):
    path = tmp_path / f'data.{fmt}'
    dump(DATA, str(path))
    assert load(str(path)) == DATA
    path2 = tmp_path / f'data2.{fmt}'
    dump(DATA, path2)  # pathlib.Path
    assert load(path2) == DATA


@pytest.mark.parametrize('fmt,mode', [('json', 'r+'), ('yaml', 'r+'),
                                      ('pickle', 'rb+')])
def test_round_trip_file_objects(tmp_path, fmt, mode):
    path = tmp_path / 'noext'
    path.touch()
    with open(path, mode) as f:
        dump(DATA, f, file_format=fmt)
    with open(path, mode[0] + ('b' if 'b' in mode else '')) as f:
        assert load(f, file_format=fmt) == DATA
    # explicit file_format wins over a missing suffix
    dump(DATA, str(path), file_format=fmt)
    assert load(str(path), file_format=fmt) == DATA


def test_dump_to_str():
    assert dump([1, 'a'], file_format='json') == '[1, "a"]'
    assert yaml.safe_load(dump(DATA, file_format='yaml')) == DATA
    data = dump(DATA, file_format='pkl')
    assert isinstance(data, bytes) and pickle.loads(data) == DATA


def test_kwargs_are_passed_to_handler(tmp_path):
    assert dump({'a': 1}, file_format='json', indent=2) == '{\n  "a": 1\n}'
    path = tmp_path / 'x.pkl'
    dump(DATA, path, protocol=4)
    assert path.read_bytes()[:2] == b'\x80\x04'
    dump(DATA, path)  # default protocol is 2
    assert path.read_bytes()[:2] == b'\x80\x02'


def test_json_converts_numpy_and_sets():
    out = json.loads(
        dump({
            'arr': np.arange(3),
            'f': np.float32(1.5),
            'i': np.int64(3),
            's': {2},
            'r': range(2)
        },
             file_format='json'))
    assert out == {'arr': [0, 1, 2], 'f': 1.5, 'i': 3, 's': [2], 'r': [0, 1]}
    with pytest.raises(TypeError, match='object'):
        dump({'x': object()}, file_format='json')


def test_yaml_is_safe_and_plain(tmp_path):
    # tuples, dict subclasses and numpy values are dumped as plain data
    from collections import OrderedDict
    text = dump(
        OrderedDict(t=(1, 2), n=np.float64(0.5), a=np.zeros(2)),
        file_format='yaml')
    assert '!!python' not in text
    assert yaml.safe_load(text) == {'t': [1, 2], 'n': 0.5, 'a': [0.0, 0.0]}
    # a python object tag is refused when loading
    path = tmp_path / 'evil.yaml'
    path.write_text('!!python/object/apply:os.system ["echo hi"]\n')
    with pytest.raises(yaml.YAMLError):
        load(path)


def test_malformed_files_name_the_file(tmp_path):
    bad_json = tmp_path / 'bad.json'
    bad_json.write_text('{"a": 1,,}')
    with pytest.raises(json.JSONDecodeError, match='bad.json'):
        load(bad_json)
    with open(bad_json) as f:
        with pytest.raises(json.JSONDecodeError, match='bad.json'):
            load(f, file_format='json')
    bad_yaml = tmp_path / 'bad.yaml'
    bad_yaml.write_text('a: [1, 2\nb: 3\n')
    with pytest.raises(yaml.YAMLError, match='bad.yaml'):
        load(bad_yaml)
    bad_pkl = tmp_path / 'bad.pkl'
    bad_pkl.write_bytes(b'not a pickle')
    with pytest.raises(pickle.UnpicklingError, match='bad.pkl'):
        load(bad_pkl)


def test_undecodable_text_names_the_file(tmp_path):
    latin = tmp_path / 'latin.json'
    latin.write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(UnicodeDecodeError, match='latin.json.*utf-8'):
        load(latin)
    with pytest.raises(UnicodeDecodeError, match='latin.json'):
        fileio.list_from_file(latin)
    assert fileio.get_text(latin, encoding='latin-1') == '{"a": "\xe9"}'


def test_unrepresentable_objects_name_their_type():
    class Opaque:
        pass

    with pytest.raises(yaml.YAMLError, match='type .*Opaque to YAML'):
        dump({'k': Opaque()}, file_format='yaml')
    with pytest.raises(TypeError, match='Opaque'):
        dump({'k': Opaque()}, file_format='json')


def test_unknown_format_lists_supported(tmp_path):
    with pytest.raises(TypeError, match=r"Unsupported format: 'xyz'.*json"):
        load(tmp_path / 'a.xyz')
    with pytest.raises(TypeError, match=r'Unsupported format.*yaml'):
        dump(DATA, tmp_path / 'a.xyz')
    with pytest.raises(TypeError, match=r'Unsupported format.*pickle'):
        dump(DATA, file_format='xyz')
    with pytest.raises(TypeError, match='cannot infer the format'):
        load(tmp_path / 'no_suffix')


def test_missing_format_and_bad_file_argument():
    with pytest.raises(ValueError, match='file_format must be specified'):
        dump(DATA)
    with pytest.raises(ValueError, match='file_format must be given'):
        load(io.StringIO('{}'))
    with pytest.raises(TypeError, match='must be a filepath'):
        load(123, file_format='json')
    with pytest.raises(TypeError, match='must be a filepath'):
        dump(DATA, 123, file_format='json')


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / 'missing.json'
    with pytest.raises(FileNotFoundError, match='missing.json'):
        load(missing)


def test_register_handler(tmp_path):

    @register_handler(['mmtxt', 'mmlog'])
    class TxtHandler(BaseFileHandler):

        def load_from_fileobj(self, file, **kwargs):
            return file.read()

        def dump_to_fileobj(self, obj, file, **kwargs):
            file.write(str(obj))

        def dump_to_str(self, obj, **kwargs):
            return str(obj)

    for ext in ('mmtxt', 'mmlog'):
        path = tmp_path / f'a.{ext}'
        dump('hello', path)
        assert load(path) == 'hello'

    # a later registration overrides the earlier one
    @register_handler('mmtxt')
    class UpperHandler(TxtHandler):

        def load_from_fileobj(self, file, **kwargs):
            return file.read().upper()

    assert load(tmp_path / 'a.mmtxt') == 'HELLO'
    assert load(tmp_path / 'a.mmlog') == 'hello'

    with pytest.raises(TypeError, match='BaseFileHandler'):

        @register_handler('mmbad')
        class NotAHandler:
            pass

    with pytest.raises(TypeError, match='file_formats'):
        register_handler(1)(TxtHandler)


def test_handler_paths(tmp_path):
    handler = fileio.PickleHandler()
    assert not handler.str_like and fileio.JsonHandler.str_like
    path = tmp_path / 'h.pkl'
    handler.dump_to_path(DATA, path)
    assert handler.load_from_path(path) == DATA
    jhandler = fileio.JsonHandler()
    jhandler.dump_to_path(DATA, tmp_path / 'h.json')
    assert jhandler.load_from_path(tmp_path / 'h.json') == DATA


def test_uri_paths_go_through_the_backend():
    dump(DATA, 'memtest://bucket/out.json')
    assert json.loads(MemoryBackend.store['memtest://bucket/out.json']) == DATA
    assert load('memtest://bucket/out.json') == DATA
    dump(DATA, 'memtest://bucket/out.pkl')
    assert load('memtest://bucket/out.pkl') == DATA
    assert fileio.exists('memtest://bucket/out.pkl')
    assert fileio.get('memtest://bucket/out.pkl') == pickle.dumps(
        DATA, protocol=2)
    with pytest.raises(NotImplementedError,
                       match='MemoryBackend does not support isdir'):
        fileio.isdir('memtest://bucket')


def test_backend_args_and_file_client_args(tmp_path):
    path = tmp_path / 'a.json'
    dump(DATA, path, backend_args={'backend': 'local'})
    assert load(path, backend_args={'backend': 'local'}) == DATA
    with pytest.warns(DeprecationWarning):
        assert load(path, file_client_args={'backend': 'disk'}) == DATA
    with pytest.raises(ValueError, match='cannot be set at the same time'):
        load(path, file_client_args={}, backend_args={})


def test_get_file_backend_selection_and_errors():
    assert isinstance(get_file_backend('/tmp/a'), LocalBackend)
    assert isinstance(get_file_backend(Path('/tmp/a')), LocalBackend)
    assert isinstance(get_file_backend('http://h/a'), fileio.HTTPBackend)
    assert isinstance(get_file_backend('https://h/a'), fileio.HTTPBackend)
    assert isinstance(
        get_file_backend(backend_args={'backend': 'local'}), LocalBackend)
    assert isinstance(
        get_file_backend(backend_args={'backend': 'disk'}), LocalBackend)
    with pytest.raises(ValueError, match=r"prefix 'nope'.*'http'.*'s3'"):
        get_file_backend('nope://a/b')
    with pytest.raises(ValueError, match=r"unknown storage backend 'nope'"):
        get_file_backend(backend_args={'backend': 'nope'})
    with pytest.raises(ValueError, match='uri should not be None'):
        get_file_backend()
    with pytest.raises(TypeError, match=r"LocalBackend.*\['bogus'\]"):
        get_file_backend('/a', backend_args={'bogus': 1})
    with pytest.raises(TypeError, match='backend_args should be a dict'):
        get_file_backend('/a', backend_args='local')
    # unknown prefix through load names the registered backends
    with pytest.raises(ValueError, match='registered backends'):
        load('nope://a/b.json')


def test_get_file_backend_singleton():
    args = {'backend': 'local'}
    a = get_file_backend(backend_args=args, enable_singleton=True)
    b = get_file_backend(backend_args=dict(args), enable_singleton=True)
    c = get_file_backend(backend_args=args)
    assert a is b and a is not c
    assert args == {'backend': 'local'}  # the caller's dict is not changed


def test_module_level_functions_local(tmp_path):
    f = tmp_path / 'sub' / 'a.txt'
    fileio.put_text('hi', f)
    fileio.put(b'bytes', tmp_path / 'b.bin')
    assert fileio.get_text(f) == 'hi'
    assert fileio.get(tmp_path / 'b.bin') == b'bytes'
    assert fileio.exists(f) and fileio.isfile(f)
    assert fileio.isdir(tmp_path / 'sub') and not fileio.isfile(tmp_path)
    assert fileio.join_path(str(tmp_path), 'sub', 'a.txt') == str(f)
    with fileio.get_local_path(f) as local:
        assert Path(local) == f
    dst = fileio.copyfile(f, tmp_path / 'c.txt')
    assert Path(dst).read_text() == 'hi'
    fileio.copyfile_from_local(f, tmp_path / 'd.txt')
    fileio.copyfile_to_local(f, tmp_path / 'e.txt')
    assert (tmp_path / 'd.txt').read_text() == 'hi'
    assert (tmp_path / 'e.txt').read_text() == 'hi'
    fileio.copytree(tmp_path / 'sub', tmp_path / 'sub2')
    fileio.copytree_from_local(tmp_path / 'sub', tmp_path / 'sub3')
    fileio.copytree_to_local(tmp_path / 'sub', tmp_path / 'sub4')
    for d in ('sub2', 'sub3', 'sub4'):
        assert (tmp_path / d / 'a.txt').read_text() == 'hi'
    assert sorted(fileio.list_dir_or_file(tmp_path, list_dir=False)) == [
        'b.bin', 'c.txt', 'd.txt', 'e.txt'
    ]
    assert sorted(
        fileio.list_dir_or_file(
            tmp_path, list_dir=False, suffix='.txt',
            recursive=True)) == sorted([
                'c.txt', 'd.txt', 'e.txt', 'sub/a.txt', 'sub2/a.txt',
                'sub3/a.txt', 'sub4/a.txt'
            ])
    assert fileio.copy_if_symlink_fails(f, tmp_path / 'link.txt') in (True,
                                                                     False)
    assert (tmp_path / 'link.txt').read_text() == 'hi'
    fileio.remove(tmp_path / 'c.txt')
    assert not fileio.exists(tmp_path / 'c.txt')
    fileio.rmtree(tmp_path / 'sub2')
    assert not fileio.exists(tmp_path / 'sub2')
    with pytest.raises(FileNotFoundError, match='nothere'):
        fileio.get(tmp_path / 'nothere')
    with pytest.raises(FileNotFoundError, match='nothere'):
        fileio.remove(tmp_path / 'nothere')
    with pytest.raises(NotImplementedError,
                       match='does not support generate_presigned_url'):
        fileio.generate_presigned_url(str(f))


def test_top_level_exports():
    for name in ('load', 'dump', 'register_handler', 'BaseFileHandler',
                 'list_from_file', 'dict_from_file', 'JsonHandler',
                 'YamlHandler', 'PickleHandler', 'FileClient',
                 'get_file_backend'):
        assert getattr(mmengine, name) is getattr(fileio, name)
    assert not hasattr(fileio, 'error_obj')


def test_import_is_light():
    code = ('import sys, mmengine.fileio; '
            "print(sorted(m for m in ('yaml', 'lmdb', 'requests', 'numpy', "
            "'torch', 'urllib.request', 'petrel_client', 'mc') "
            'if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True,
                         env={
                             **os.environ, 'PYTHONPATH':
                             str(Path(mmengine.__file__).parents[1])
                         })
    assert out.stdout.strip() == '[]'


def test_dump_to_a_read_only_backend_names_backend_and_path():
    for path in ('http://example.invalid/a.json',
                 'http://example.invalid/a.pkl'):
        with pytest.raises(NotImplementedError,
                           match=rf"HTTPBackend does not support put.*{path}"):
            dump(DATA, path)
