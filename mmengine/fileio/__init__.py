"""File I/O: ``load``/``dump`` with pluggable format handlers, line/dict
readers, and storage backends chosen from the path (local disk, HTTP,
Petrel/S3, Memcached, LMDB).

Nothing heavy is imported here: PyYAML, lmdb, urllib and the optional
clients are imported when first used.
"""
from .backends import (BaseStorageBackend, HardDiskBackend, HTTPBackend,
                       LmdbBackend, LocalBackend, MemcachedBackend,
                       PetrelBackend, register_backend)
from .file_client import FileClient
from .handlers import (BaseFileHandler, JsonHandler, PickleHandler,
                       YamlHandler, register_handler)
from .io import (copy_if_symlink_fails, copyfile, copyfile_from_local,
                 copyfile_to_local, copytree, copytree_from_local,
                 copytree_to_local, dump, exists, generate_presigned_url, get,
                 get_file_backend, get_local_path, get_text, isdir, isfile,
                 join_path, list_dir_or_file, load, put, put_text, remove,
                 rmtree)
from .parse import dict_from_file, list_from_file

__all__ = [
    'BaseStorageBackend', 'FileClient', 'HardDiskBackend', 'HTTPBackend',
    'LmdbBackend', 'LocalBackend', 'MemcachedBackend', 'PetrelBackend',
    'register_backend', 'BaseFileHandler', 'JsonHandler', 'PickleHandler',
    'YamlHandler', 'register_handler', 'load', 'dump', 'list_from_file',
    'dict_from_file', 'get_file_backend', 'get', 'get_text', 'put',
    'put_text', 'exists', 'isdir', 'isfile', 'join_path', 'get_local_path',
    'copyfile', 'copytree', 'copyfile_from_local', 'copytree_from_local',
    'copyfile_to_local', 'copytree_to_local', 'remove', 'rmtree',
    'list_dir_or_file', 'generate_presigned_url', 'copy_if_symlink_fails'
]
