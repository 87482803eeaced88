"""register_backend and the backend tables."""
import pytest

from mmengine.fileio import get_file_backend
from mmengine.fileio.backends import (BaseStorageBackend, LocalBackend,
                                      backends, prefix_to_backends,
                                      register_backend)


def _make(name):

    class Backend(BaseStorageBackend):

        def get(self, filepath):
            return name.encode()

        def get_text(self, filepath):
            return name

    Backend.__name__ = name
    return Backend


def test_defaults():
    assert backends['local'] is LocalBackend
    assert prefix_to_backends[''] is LocalBackend
    assert {'local', 'http', 'petrel', 'lmdb', 'memcached'} <= set(backends)
    assert {'s3', 'petrel', 'http', 'https'} <= set(prefix_to_backends)


def test_base_is_abstract():
    with pytest.raises(TypeError, match="Can't instantiate abstract class"):
        BaseStorageBackend()


def test_register_directly_and_as_decorator():
    a = _make('RegA')
    assert register_backend('reg_a', a, prefixes=['rega', 'regaa']) is a
    assert prefix_to_backends['rega'] is prefix_to_backends['regaa'] is a
    assert get_file_backend('rega://x').get_text('x') == 'RegA'

    @register_backend('reg_b', prefixes='regb')
    class RegB(_make('RegB')):
        pass

    assert backends['reg_b'] is RegB
    assert get_file_backend(backend_args={'backend': 'reg_b'}).get('x') == \
        b'RegB'


def test_register_errors():
    c = _make('RegC')
    register_backend('reg_c', c, prefixes='regc')
    with pytest.raises(TypeError, match='name should be a string'):
        register_backend(1, c)
    with pytest.raises(TypeError, match='backend should be a class'):
        register_backend('reg_x', lambda: None)
    with pytest.raises(TypeError, match='not a subclass of BaseStorage'):
        register_backend('reg_x', object)
    with pytest.raises(ValueError, match='reg_c is already registered'):
        register_backend('reg_c', c)
    with pytest.raises(AssertionError, match='prefixes should be'):
        register_backend('reg_x', c, prefixes=1)
    with pytest.raises(ValueError, match='regc is already registered'):
        register_backend('reg_x', c, prefixes='regc')
    # a failed registration registers nothing
    assert 'reg_x' not in backends
    d = _make('RegD')
    register_backend('reg_c', d, prefixes='regc', force=True)
    assert backends['reg_c'] is d and prefix_to_backends['regc'] is d


def test_singleton_follows_re_registration():
    e, f = _make('RegE'), _make('RegF')
    register_backend('reg_e', e, prefixes='rege')
    first = get_file_backend('rege://x', enable_singleton=True)
    assert get_file_backend('rege://y', enable_singleton=True) is first
    register_backend('reg_e', f, prefixes='rege', force=True)
    assert isinstance(get_file_backend('rege://x', enable_singleton=True), f)
