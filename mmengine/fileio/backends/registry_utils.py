"""The table of storage backends, by name and by URI prefix."""
import inspect
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Type, Union

from .base import BaseStorageBackend
from .http_backend import HTTPBackend
from .lmdb_backend import LmdbBackend
from .local_backend import LocalBackend
from .memcached_backend import MemcachedBackend
from .petrel_backend import PetrelBackend

#: backend name -> backend class (``backend_args=dict(backend=NAME)``)
backends: Dict[str, Type[BaseStorageBackend]] = {}
#: URI prefix -> backend class (``'s3'`` for ``s3://...``; ``''`` = local)
prefix_to_backends: Dict[str, Type[BaseStorageBackend]] = {}


def parse_uri_prefix(uri: Union[str, Path]) -> str:
    """Return the prefix of ``uri`` (``'s3'`` for ``s3://b/k``, also for
    ``cluster:s3://b/k``), or ``''`` for a local path."""
    uri = str(uri)
    if '://' not in uri:
        return ''
    prefix = uri.split('://', 1)[0]
    # e.g. 'clusterName:s3' -> 's3'
    return prefix.rsplit(':', 1)[-1]


def check_backend(name: str, backend: Any) -> None:
    """Check the arguments of a backend registration.

    Raises:
        TypeError: if ``name`` is no str or ``backend`` is no subclass of
            :class:`BaseStorageBackend`.
    """
    if not isinstance(name, str):
        raise TypeError(
            f'name should be a string, but got {type(name).__name__}: '
            f'{name!r}')
    if not inspect.isclass(backend):
        raise TypeError(
            f'backend should be a class, but got {type(backend).__name__}: '
            f'{backend!r}')
    if not issubclass(backend, BaseStorageBackend):
        raise TypeError(
            f'backend {backend} is not a subclass of BaseStorageBackend')


def _register_backend(name: str,
                      backend: Type[BaseStorageBackend],
                      force: bool = False,
                      prefixes: Union[str, List[str], None] = None) -> None:
    """Validate everything first, then register (all or nothing)."""
    check_backend(name, backend)
    if name in backends and not force:
        raise ValueError(
            f'{name} is already registered as {backends[name].__name__}; '
            'pass force=True to override it')
    if prefixes is None:
        prefix_list: List[str] = []
    elif isinstance(prefixes, str):
        prefix_list = [prefixes]
    else:
        # AssertionError is the type the reference raises here.
        if not (isinstance(prefixes, (list, tuple))
                and all(isinstance(p, str) for p in prefixes)):
            raise AssertionError(
                'prefixes should be a str or a list/tuple of str, but got '
                f'{type(prefixes).__name__}: {prefixes!r}')
        prefix_list = list(prefixes)
    if not force:
        for prefix in prefix_list:
            if prefix in prefix_to_backends:
                raise ValueError(
                    f'{prefix} is already registered as '
                    f'{prefix_to_backends[prefix].__name__}; pass force=True '
                    'to override it')
    backends[name] = backend
    for prefix in prefix_list:
        prefix_to_backends[prefix] = backend


def register_backend(name: str,
                     backend: Optional[Type[BaseStorageBackend]] = None,
                     force: bool = False,
                     prefixes: Union[str, List[str], None] = None
                     ) -> Union[Type[BaseStorageBackend], Callable]:
    """Register a storage backend class under ``name``.

    Usable directly or as a class decorator. A registered backend is chosen
    by :func:`mmengine.fileio.get_file_backend` either by name
    (``backend_args=dict(backend=name)``) or by a URI prefix listed in
    ``prefixes``.

    Args:
        name (str): the backend name.
        backend (type, optional): a subclass of :class:`BaseStorageBackend`;
            omit it to use this function as a decorator.
        force (bool): override an existing backend with the same name or
            prefix. Defaults to False.
        prefixes (str | list[str] | tuple[str], optional): URI prefixes
            (the part before ``://``) served by this backend.

    Raises:
        TypeError: if ``name`` is no str or ``backend`` is no subclass of
            :class:`BaseStorageBackend`.
        ValueError: if the name or a prefix is taken and not ``force``.

    Examples:
        >>> @register_backend('foo', prefixes='foo')
        ... class FooBackend(BaseStorageBackend):
        ...     def get(self, filepath): ...
        ...     def get_text(self, filepath): ...
        >>> register_backend('bar', FooBackend, prefixes=['bar', 'baz'])
    """
    if not isinstance(name, str):
        raise TypeError(
            f'name should be a string, but got {type(name).__name__}: '
            f'{name!r}')
    if backend is not None:
        _register_backend(name, backend, force=force, prefixes=prefixes)
        return backend

    def _register(backend_cls):
        _register_backend(name, backend_cls, force=force, prefixes=prefixes)
        return backend_cls

    return _register


register_backend('local', LocalBackend, prefixes='')
register_backend('memcached', MemcachedBackend)
register_backend('lmdb', LmdbBackend)
register_backend('petrel', PetrelBackend, prefixes=['petrel', 's3'])
register_backend('http', HTTPBackend, prefixes=['http', 'https'])
