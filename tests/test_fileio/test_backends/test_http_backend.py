"""HTTPBackend against a real http.server on 127.0.0.1."""
import functools
import os.path as osp
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mmengine import fileio
from mmengine.fileio import HTTPBackend, get_file_backend


class QuietHandler(SimpleHTTPRequestHandler):

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp('www')
    (root / 'a.txt').write_text('1.jpg\n2.jpg\n3.jpg')
    (root / 'data.json').write_text('{"x": [1, 2]}')
    (root / 'blob.bin').write_bytes(bytes(range(256)) * 10)
    (root / 'latin.txt').write_bytes(b'caf\xe9')
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={'poll_interval': 0.05},
        daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


def test_get_and_get_text(server):
    backend = HTTPBackend()
    assert backend.get(f'{server}/blob.bin') == bytes(range(256)) * 10
    assert backend.get_text(f'{server}/a.txt') == '1.jpg\n2.jpg\n3.jpg'
    with pytest.raises(UnicodeDecodeError, match='latin.txt.*utf-8'):
        backend.get_text(f'{server}/latin.txt')
    assert backend.get_text(f'{server}/latin.txt', 'latin-1') == 'caf\xe9'


def test_get_local_path(server):
    backend = HTTPBackend()
    with backend.get_local_path(f'{server}/blob.bin') as path:
        assert path.endswith('.bin')
        with open(path, 'rb') as f:
            assert f.read() == bytes(range(256)) * 10
    assert not osp.exists(path)
    with fileio.get_local_path(f'{server}/a.txt') as path:
        with open(path) as f:
            assert f.read().startswith('1.jpg')


def test_exists_join(server):
    backend = HTTPBackend()
    assert backend.exists(f'{server}/a.txt')
    assert backend.isfile(f'{server}/a.txt')
    assert not backend.exists(f'{server}/missing.txt')
    assert backend.join_path(f'{server}/', '/dir/', 'a.txt') == \
        f'{server}/dir/a.txt'


def test_missing_url_is_named(server):
    url = f'{server}/missing.txt'
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        HTTPBackend().get(url)
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        with HTTPBackend().get_local_path(url):
            pass


def test_unreachable_server_is_named():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port now
    url = f'http://127.0.0.1:{port}/a.txt'
    with pytest.raises(OSError, match=f'cannot reach.*{port}'):
        HTTPBackend(timeout=5).get(url)


def test_io_functions_through_http(server):
    assert isinstance(get_file_backend(server), HTTPBackend)
    assert fileio.load(f'{server}/data.json') == {'x': [1, 2]}
    assert fileio.list_from_file(f'{server}/a.txt', offset=1) == [
        '2.jpg', '3.jpg'
    ]
    assert fileio.get_text(f'{server}/a.txt').startswith('1.jpg')
    with pytest.raises(NotImplementedError,
                       match='HTTPBackend does not support put'):
        fileio.put(b'x', f'{server}/new.bin')
