"""``FileClient``: the deprecated, pre-``get_file_backend`` entry point."""
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generator, Iterator, Optional, Tuple, Union

from mmengine.utils import is_filepath
from .backends import (HardDiskBackend, HTTPBackend, LmdbBackend,
                       MemcachedBackend, PetrelBackend)
from .backends.base import read_text
from .backends.registry_utils import check_backend, parse_uri_prefix


class FileClient:
    """A general file client to access files in different backends.

    Deprecated: use :func:`mmengine.fileio.get_file_backend` or the
    functions of :mod:`mmengine.fileio` (``get``, ``put``, ...) instead.
    It keeps working for configs that still pass
    ``file_client_args=dict(backend='disk')``.

    The backend is chosen by name (``backend``: ``'disk'``, ``'memcached'``,
    ``'lmdb'``, ``'petrel'``, ``'http'``) or by URI prefix (``prefix``:
    ``'s3'``, ``'petrel'``, ``'http'``, ``'https'``); ``backend`` wins when
    both are given and ``'disk'`` is the default. Instances are cached per
    arguments, so ``FileClient(backend='disk')`` returns one shared object.

    Args:
        backend (str, optional): backend name.
        prefix (str, optional): URI prefix.
        **kwargs: arguments of the backend's constructor.

    Attributes:
        client (BaseStorageBackend): the backend doing the work.

    Raises:
        ValueError: naming the supported backends/prefixes for unknown ones.

    Examples:
        >>> file_client = FileClient(prefix='s3')
        >>> file_client.get('s3://bucket/file')
    """

    _backends = {
        'disk': HardDiskBackend,
        'memcached': MemcachedBackend,
        'lmdb': LmdbBackend,
        'petrel': PetrelBackend,
        'http': HTTPBackend,
    }

    _prefix_to_backends: dict = {
        's3': PetrelBackend,
        'petrel': PetrelBackend,
        'http': HTTPBackend,
        'https': HTTPBackend,
    }

    _instances: dict = {}

    client: Any

    def __new__(cls, backend: Optional[str] = None,
                prefix: Optional[str] = None, **kwargs):
        warnings.warn(
            '"FileClient" is deprecated; use mmengine.fileio.get_file_backend '
            'or the io functions of mmengine.fileio instead',
            DeprecationWarning, stacklevel=2)
        if backend is None and prefix is None:
            backend = 'disk'
        if backend is not None and backend not in cls._backends:
            raise ValueError(
                f'Backend {backend!r} is not supported; supported backends: '
                f'{sorted(cls._backends)}')
        if prefix is not None and prefix not in cls._prefix_to_backends:
            raise ValueError(
                f'prefix {prefix!r} is not supported; supported prefixes: '
                f'{sorted(cls._prefix_to_backends)}')

        backend_cls = (cls._backends[backend] if backend is not None else
                       cls._prefix_to_backends[prefix])
        arg_key = f'{backend}:{prefix}'
        for key, value in kwargs.items():
            arg_key += f':{key}:{value}'
        cached = cls._instances.get(arg_key)
        # A backend re-registered with force=True replaces the cached one.
        if cached is not None and isinstance(cached.client, backend_cls):
            return cached
        instance = super().__new__(cls)
        instance.client = backend_cls(**kwargs)
        cls._instances[arg_key] = instance
        return instance

    @property
    def name(self) -> str:
        """str: the name of the backend class."""
        return self.client.name

    @property
    def allow_symlink(self) -> bool:
        """bool: whether the backend supports symbolic links."""
        return self.client.allow_symlink

    @staticmethod
    def parse_uri_prefix(uri: Union[str, Path]) -> Optional[str]:
        """Return the prefix of ``uri`` (``'s3'`` for ``s3://b/k`` and
        ``cluster:s3://b/k``), or None for a local path.

        Raises:
            TypeError: if ``uri`` is neither a str nor a Path.
        """
        if not is_filepath(uri):
            raise TypeError(
                f'uri should be a str or pathlib.Path, got {type(uri)}')
        uri = str(uri)
        return parse_uri_prefix(uri) if '://' in uri else None

    @classmethod
    def infer_client(cls,
                     file_client_args: Optional[dict] = None,
                     uri: Optional[Union[str, Path]] = None) -> 'FileClient':
        """Build a client from ``file_client_args`` or, if None, from the
        prefix of ``uri``.

        Examples:
            >>> FileClient.infer_client(uri='s3://path/of/your/file')
            >>> FileClient.infer_client({'backend': 'petrel'})
        """
        if file_client_args is None and uri is None:
            raise ValueError(
                'infer_client needs file_client_args or uri, got neither')
        if file_client_args is None:
            return cls(prefix=cls.parse_uri_prefix(uri))  # type: ignore
        return cls(**file_client_args)

    @classmethod
    def _register_backend(cls, name, backend, force=False, prefixes=None):
        check_backend(name, backend)
        if not force and name in cls._backends:
            raise KeyError(
                f'{name} is already registered as a storage backend, add '
                '"force=True" if you want to override it')
        if prefixes is not None:
            if isinstance(prefixes, str):
                prefixes = [prefixes]
            elif not isinstance(prefixes, (list, tuple)):
                raise TypeError('prefixes should be a str or a list/tuple of '
                                f'str, got {type(prefixes)}')
            if not force:
                for prefix in prefixes:
                    if prefix in cls._prefix_to_backends:
                        raise KeyError(
                            f'{prefix} is already registered as a storage '
                            'backend, add "force=True" if you want to '
                            'override it')
        if name in cls._backends and force:
            # drop cached clients of the replaced class
            for key, inst in list(cls._instances.items()):
                if isinstance(inst.client, cls._backends[name]):
                    cls._instances.pop(key)
        cls._backends[name] = backend
        for prefix in prefixes or []:
            cls._prefix_to_backends[prefix] = backend

    @classmethod
    def register_backend(cls, name, backend=None, force=False, prefixes=None):
        """Register a backend class for :class:`FileClient` (directly or as
        a decorator).

        Args:
            name (str): the backend name.
            backend (type, optional): a :class:`BaseStorageBackend`
                subclass; omit it to decorate a class.
            force (bool): override an existing registration.
            prefixes (str | list[str] | tuple[str], optional): URI prefixes
                served by the backend.
        """
        if backend is not None:
            cls._register_backend(
                name, backend, force=force, prefixes=prefixes)
            return backend

        def _register(backend_cls):
            cls._register_backend(
                name, backend_cls, force=force, prefixes=prefixes)
            return backend_cls

        return _register

    # -- delegation to the backend ----------------------------------------
    def get(self, filepath: Union[str, Path]) -> bytes:
        """Read bytes from ``filepath``."""
        return self.client.get(filepath)

    def get_text(self, filepath: Union[str, Path], encoding='utf-8') -> str:
        """Read text from ``filepath``."""
        return read_text(self.client, filepath, encoding)

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath``."""
        self.client.put(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path]) -> None:
        """Write text to ``filepath``."""
        self.client.put_text(obj, filepath)

    def remove(self, filepath: Union[str, Path]) -> None:
        """Remove the file ``filepath``."""
        self.client.remove(filepath)

    def exists(self, filepath: Union[str, Path]) -> bool:
        """Whether ``filepath`` exists."""
        return self.client.exists(filepath)

    def isdir(self, filepath: Union[str, Path]) -> bool:
        """Whether ``filepath`` is a directory."""
        return self.client.isdir(filepath)

    def isfile(self, filepath: Union[str, Path]) -> bool:
        """Whether ``filepath`` is a file."""
        return self.client.isfile(filepath)

    def join_path(self, filepath: Union[str, Path],
                  *filepaths: Union[str, Path]) -> str:
        """Join path components in the backend's style."""
        return self.client.join_path(filepath, *filepaths)

    @contextmanager
    def get_local_path(
            self,
            filepath: Union[str, Path]) -> Generator[Union[str, Path], None,
                                                     None]:
        """Yield a local path holding the data of ``filepath``."""
        with self.client.get_local_path(str(filepath)) as local_path:
            yield local_path

    def list_dir_or_file(self,
                         dir_path: Union[str, Path],
                         list_dir: bool = True,
                         list_file: bool = True,
                         suffix: Optional[Union[str, Tuple[str]]] = None,
                         recursive: bool = False) -> Iterator[str]:
        """Yield directories and/or files under ``dir_path``."""
        return self.client.list_dir_or_file(dir_path, list_dir, list_file,
                                            suffix, recursive)
