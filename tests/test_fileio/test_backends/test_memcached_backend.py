"""MemcachedBackend with a stand-in ``mc`` client module."""
import sys
import types

import pytest

from mmengine.fileio import MemcachedBackend


class _Buffer:
    content = b''


class _Client:
    """Behaves like mc.MemcachedClient: Get fills a buffer."""

    store = {'key/a.jpg': b'abc'}

    @classmethod
    def GetInstance(cls, server_list_cfg, client_cfg):
        client = cls()
        client.cfg = (server_list_cfg, client_cfg)
        return client

    def Get(self, key, buffer):
        buffer.content = self.store[key]


@pytest.fixture
def fake_mc(monkeypatch):
    module = types.ModuleType('mc')
    module.MemcachedClient = _Client
    module.pyvector = _Buffer
    module.ConvertBuffer = lambda buf: buf.content
    monkeypatch.setitem(sys.modules, 'mc', module)
    return module


def test_get(fake_mc):
    backend = MemcachedBackend('servers.conf', 'client.conf')
    assert backend._client.cfg == ('servers.conf', 'client.conf')
    assert backend.get('key/a.jpg') == b'abc'
    with pytest.raises(NotImplementedError, match='use get'):
        backend.get_text('key/a.jpg')


def test_missing_client_is_named(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, 'mc', None)
    with pytest.raises(ImportError, match='"mc".*sys_path'):
        MemcachedBackend('s', 'c')
    from mmengine.fileio import get_file_backend
    with pytest.raises(ImportError, match='"mc"'):
        get_file_backend(backend_args=dict(
            backend='memcached', server_list_cfg='s', client_cfg='c'))


def test_sys_path_is_used(monkeypatch, tmp_path):
    (tmp_path / 'mc.py').write_text(
        'class MemcachedClient:\n'
        '    @staticmethod\n'
        '    def GetInstance(a, b):\n'
        '        return None\n'
        'def pyvector():\n'
        '    return []\n')
    monkeypatch.delitem(sys.modules, 'mc', raising=False)
    monkeypatch.setattr(sys, 'path', list(sys.path))
    backend = MemcachedBackend('s', 'c', sys_path=str(tmp_path))
    assert str(tmp_path) in sys.path
    assert backend._mc.__file__.startswith(str(tmp_path))
    monkeypatch.delitem(sys.modules, 'mc', raising=False)
