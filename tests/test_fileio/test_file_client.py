"""The deprecated FileClient keeps working."""
import pytest

from mmengine.fileio import (BaseStorageBackend, FileClient, HardDiskBackend,
                             HTTPBackend, LocalBackend, PetrelBackend)

pytestmark = pytest.mark.filterwarnings('ignore::DeprecationWarning')


def test_default_is_disk_and_cached(tmp_path):
    with pytest.warns(DeprecationWarning, match='deprecated'):
        client = FileClient()
    assert isinstance(client.client, HardDiskBackend)
    assert isinstance(client.client, LocalBackend)
    assert client.name == 'HardDiskBackend' and client.allow_symlink
    assert FileClient('disk') is client
    path = tmp_path / 'a.txt'
    client.put_text('hello', path)
    assert client.get_text(path) == 'hello'
    assert client.get(path) == b'hello'
    client.put(b'x', tmp_path / 'b.bin')
    assert client.exists(path) and client.isfile(path)
    assert client.isdir(tmp_path)
    assert client.join_path(str(tmp_path), 'a.txt') == str(path)
    with client.get_local_path(path) as local:
        assert local == str(path)
    assert sorted(client.list_dir_or_file(tmp_path)) == ['a.txt', 'b.bin']
    client.remove(path)
    assert not client.exists(path)


def test_parse_uri_prefix():
    assert FileClient.parse_uri_prefix('/a/b') is None
    assert FileClient.parse_uri_prefix('s3://a/b') == 's3'
    assert FileClient.parse_uri_prefix('cluster:s3://a/b') == 's3'
    assert FileClient.parse_uri_prefix('https://a/b') == 'https'
    with pytest.raises(TypeError, match='uri should be a str'):
        FileClient.parse_uri_prefix(1)


def test_infer_client():
    assert isinstance(FileClient.infer_client(uri='/a').client, LocalBackend)
    assert isinstance(
        FileClient.infer_client(uri='http://h/a').client, HTTPBackend)
    assert isinstance(
        FileClient.infer_client({'backend': 'http'}).client, HTTPBackend)
    assert isinstance(
        FileClient.infer_client({'prefix': 'https'}).client, HTTPBackend)
    with pytest.raises(ValueError, match='needs file_client_args or uri'):
        FileClient.infer_client()


def test_unknown_backend_or_prefix():
    with pytest.raises(ValueError, match=r"'nope' is not supported.*disk"):
        FileClient('nope')
    with pytest.raises(ValueError, match=r"prefix 'nope'.*s3"):
        FileClient(prefix='nope')


def test_register_backend():

    class Example(BaseStorageBackend):

        def get(self, filepath):
            return b'ex'

        def get_text(self, filepath):
            return 'ex'

    FileClient.register_backend('fc_example', Example, prefixes='fcex')
    assert FileClient('fc_example').get('x') == b'ex'
    assert FileClient(prefix='fcex').get_text('x') == 'ex'
    assert FileClient._backends['fc_example'] is Example
    assert FileClient._prefix_to_backends['fcex'] is Example
    with pytest.raises(KeyError, match='already registered'):
        FileClient.register_backend('fc_example', Example)

    @FileClient.register_backend('fc_example', force=True)
    class Example2(Example):

        def get(self, filepath):
            return b'ex2'

    # the cached client of the replaced class is not reused
    assert FileClient('fc_example').get('x') == b'ex2'
    with pytest.raises(TypeError, match='not a subclass'):
        FileClient.register_backend('fc_bad', object)
    assert FileClient._prefix_to_backends['s3'] is PetrelBackend
