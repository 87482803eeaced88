"""``load``/``dump`` and path-based storage functions.

Every function here picks a storage backend from the path's URI prefix
(``s3://``, ``http://``, ... ; none means the local disk) or from
``backend_args=dict(backend=NAME, ...)``, and delegates to it.
"""
import inspect
import json
import os.path as osp
from contextlib import contextmanager
from io import BytesIO, StringIO
from pathlib import Path
from typing import (Any, Dict, Generator, Iterator, Optional, Tuple, Type,
                    Union)

from mmengine.utils import is_str
from .backends import BaseStorageBackend, backends, prefix_to_backends
from .backends.base import read_text
from .backends.registry_utils import parse_uri_prefix
from .file_client import FileClient
from .handlers import file_handlers

# cache of backend instances for ``enable_singleton=True``
backend_instances: Dict[Tuple[Type, str], BaseStorageBackend] = {}


def _args_key(backend_args: dict) -> str:
    try:
        return json.dumps(backend_args, sort_keys=True)
    except (TypeError, ValueError):
        return repr(sorted(backend_args.items(), key=lambda kv: kv[0]))


def _select_backend_class(uri: Optional[Union[str, Path]],
                          backend_args: dict) -> Tuple[Type, dict]:
    """Return the backend class and its constructor arguments."""
    args = dict(backend_args)
    if 'backend' in args:
        name = args.pop('backend')
        if name not in backends and name == 'disk':
            name = 'local'  # the FileClient-era name of the local backend
        if name not in backends:
            raise ValueError(
                f'unknown storage backend {name!r} in backend_args; '
                f'registered backends: {sorted(backends)}')
        return backends[name], args
    if uri is None:
        raise ValueError(
            'uri should not be None when "backend" is not in backend_args: '
            'pass a path or backend_args=dict(backend=NAME)')
    prefix = parse_uri_prefix(uri)
    if prefix not in prefix_to_backends:
        known = sorted(p for p in prefix_to_backends if p)
        raise ValueError(
            f'no storage backend is registered for the prefix {prefix!r} of '
            f'{str(uri)!r}; registered prefixes: {known} (a path without a '
            f'prefix uses the local disk); registered backends: '
            f'{sorted(backends)}. Use register_backend() to add one')
    return prefix_to_backends[prefix], args


def get_file_backend(uri: Optional[Union[str, Path]] = None,
                     *,
                     backend_args: Optional[dict] = None,
                     enable_singleton: bool = False) -> BaseStorageBackend:
    """Return a storage backend for ``uri`` or ``backend_args``.

    ``backend_args['backend']`` (a registered name such as ``'local'``,
    ``'petrel'``, ``'lmdb'``) wins; otherwise the URI prefix decides
    (``s3``/``petrel`` -> :class:`PetrelBackend`, ``http``/``https`` ->
    :class:`HTTPBackend`, none -> :class:`LocalBackend`). The other
    entries of ``backend_args`` are passed to the backend's constructor.

    Args:
        uri (str | Path, optional): a path whose prefix selects the backend.
        backend_args (dict, optional): backend name and constructor args.
        enable_singleton (bool): reuse one instance per (class, arguments)
            pair. Defaults to False.

    Returns:
        BaseStorageBackend: the backend instance.

    Raises:
        ValueError: naming the registered backends/prefixes when neither
            the name nor the prefix is known, or when both ``uri`` and
            ``backend_args['backend']`` are missing.

    Examples:
        >>> get_file_backend('s3://bucket/key')  # PetrelBackend
        >>> get_file_backend(backend_args=dict(backend='lmdb', db_path='x'))
    """
    backend_args = {} if backend_args is None else backend_args
    if not isinstance(backend_args, dict):
        raise TypeError('backend_args should be a dict or None, but got '
                        f'{type(backend_args).__name__}')
    backend_cls, args = _select_backend_class(uri, backend_args)
    if not enable_singleton:
        return _build(backend_cls, args)
    key = (backend_cls, _args_key(args))
    instance = backend_instances.get(key)
    if instance is None:
        instance = _build(backend_cls, args)
        backend_instances[key] = instance
    return instance


def _build(backend_cls: Type, args: dict) -> BaseStorageBackend:
    try:
        inspect.signature(backend_cls).bind(**args)
    except TypeError as e:
        raise TypeError(
            f'invalid backend_args for {backend_cls.__name__}: {e} (got '
            f'{sorted(args)})') from None
    except ValueError:  # no signature available: let the call decide
        pass
    return backend_cls(**args)


def _backend(filepath, backend_args: Optional[dict]) -> BaseStorageBackend:
    return get_file_backend(
        filepath, backend_args=backend_args, enable_singleton=True)


def _method(backend: Any, name: str, filepath) -> Any:
    """``getattr(backend, name)`` with an error naming backend and path."""
    method = getattr(backend, name, None)
    if method is None:
        raise NotImplementedError(
            f'{type(backend).__name__} does not support {name}() '
            f'(path: {str(filepath)!r})')
    return method


def get(filepath: Union[str, Path],
        backend_args: Optional[dict] = None) -> bytes:
    """Read bytes from ``filepath``.

    Examples:
        >>> get('/path/of/file')
        >>> get('s3://bucket/file')
    """
    return _backend(filepath, backend_args).get(filepath)


def get_text(filepath: Union[str, Path],
             encoding: str = 'utf-8',
             backend_args: Optional[dict] = None) -> str:
    """Read text from ``filepath`` decoded with ``encoding``."""
    return read_text(_backend(filepath, backend_args), filepath, encoding)


def put(obj: bytes,
        filepath: Union[str, Path],
        backend_args: Optional[dict] = None) -> None:
    """Write bytes ``obj`` to ``filepath`` (atomically on the local disk;
    missing parent directories are created)."""
    backend = _backend(filepath, backend_args)
    _method(backend, 'put', filepath)(obj, filepath)


def put_text(obj: str,
             filepath: Union[str, Path],
             backend_args: Optional[dict] = None) -> None:
    """Write str ``obj`` to ``filepath`` (atomically on the local disk;
    missing parent directories are created)."""
    backend = _backend(filepath, backend_args)
    _method(backend, 'put_text', filepath)(obj, filepath)


def exists(filepath: Union[str, Path],
           backend_args: Optional[dict] = None) -> bool:
    """Whether ``filepath`` exists."""
    backend = _backend(filepath, backend_args)
    return _method(backend, 'exists', filepath)(filepath)


def isdir(filepath: Union[str, Path],
          backend_args: Optional[dict] = None) -> bool:
    """Whether ``filepath`` is a directory."""
    backend = _backend(filepath, backend_args)
    return _method(backend, 'isdir', filepath)(filepath)


def isfile(filepath: Union[str, Path],
           backend_args: Optional[dict] = None) -> bool:
    """Whether ``filepath`` is a file."""
    backend = _backend(filepath, backend_args)
    return _method(backend, 'isfile', filepath)(filepath)


def join_path(filepath: Union[str, Path],
              *filepaths: Union[str, Path],
              backend_args: Optional[dict] = None) -> Union[str, Path]:
    """Join path components in the style of ``filepath``'s backend
    (``os.path.join`` locally, ``/`` for URLs)."""
    backend = _backend(filepath, backend_args)
    return _method(backend, 'join_path', filepath)(filepath, *filepaths)


@contextmanager
def get_local_path(
        filepath: Union[str, Path],
        backend_args: Optional[dict] = None
) -> Generator[Union[str, Path], None, None]:
    """Yield a local path holding the data of ``filepath``.

    A local file is yielded as is; a remote one is downloaded to a
    temporary file that is deleted when the ``with`` block exits.

    Examples:
        >>> with get_local_path('s3://bucket/abc.jpg') as path:
        ...     # do something with path
    """
    backend = _backend(filepath, backend_args)
    with _method(backend, 'get_local_path', filepath)(filepath) as path:
        yield path


def copyfile(src: Union[str, Path],
             dst: Union[str, Path],
             backend_args: Optional[dict] = None) -> Union[str, Path]:
    """Copy the file ``src`` to ``dst`` (same backend, chosen by ``src``);
    return the destination (inside ``dst`` if it is a directory)."""
    backend = _backend(src, backend_args)
    return _method(backend, 'copyfile', src)(src, dst)


def copytree(src: Union[str, Path],
             dst: Union[str, Path],
             backend_args: Optional[dict] = None) -> Union[str, Path]:
    """Recursively copy the directory ``src`` to ``dst``, which must not
    exist; return ``dst``."""
    backend = _backend(src, backend_args)
    return _method(backend, 'copytree', src)(src, dst)


def copyfile_from_local(src: Union[str, Path],
                        dst: Union[str, Path],
                        backend_args: Optional[dict] = None
                        ) -> Union[str, Path]:
    """Upload the local file ``src`` to ``dst`` (backend chosen by
    ``dst``); return the destination."""
    backend = _backend(dst, backend_args)
    return _method(backend, 'copyfile_from_local', dst)(src, dst)


def copytree_from_local(src: Union[str, Path],
                        dst: Union[str, Path],
                        backend_args: Optional[dict] = None
                        ) -> Union[str, Path]:
    """Upload the local directory ``src`` to ``dst`` (backend chosen by
    ``dst``); return ``dst``."""
    backend = _backend(dst, backend_args)
    return _method(backend, 'copytree_from_local', dst)(src, dst)


def copyfile_to_local(src: Union[str, Path],
                      dst: Union[str, Path],
                      backend_args: Optional[dict] = None) -> Union[str, Path]:
    """Download the file ``src`` (backend chosen by ``src``) to the local
    ``dst``; return the local destination."""
    backend = _backend(src, backend_args)
    return _method(backend, 'copyfile_to_local', src)(src, dst)


def copytree_to_local(src: Union[str, Path],
                      dst: Union[str, Path],
                      backend_args: Optional[dict] = None) -> Union[str, Path]:
    """Download the directory ``src`` (backend chosen by ``src``) into the
    local ``dst``; return ``dst``."""
    backend = _backend(src, backend_args)
    return _method(backend, 'copytree_to_local', src)(src, dst)


def remove(filepath: Union[str, Path],
           backend_args: Optional[dict] = None) -> None:
    """Remove the file ``filepath``.

    Raises:
        FileNotFoundError: if it does not exist.
        IsADirectoryError: if it is a directory.
    """
    backend = _backend(filepath, backend_args)
    _method(backend, 'remove', filepath)(filepath)


def rmtree(dir_path: Union[str, Path],
           backend_args: Optional[dict] = None) -> None:
    """Recursively remove the directory ``dir_path``."""
    backend = _backend(dir_path, backend_args)
    _method(backend, 'rmtree', dir_path)(dir_path)


def copy_if_symlink_fails(src: Union[str, Path],
                          dst: Union[str, Path],
                          backend_args: Optional[dict] = None) -> bool:
    """Link ``dst`` to ``src`` if the backend allows it, else copy.

    Returns:
        bool: True if a symbolic link was created.
    """
    backend = _backend(src, backend_args)
    return _method(backend, 'copy_if_symlink_fails', src)(src, dst)


def list_dir_or_file(dir_path: Union[str, Path],
                     list_dir: bool = True,
                     list_file: bool = True,
                     suffix: Optional[Union[str, Tuple[str, ...]]] = None,
                     recursive: bool = False,
                     backend_args: Optional[dict] = None) -> Iterator[str]:
    """Yield directories and/or files under ``dir_path``, relative to it.

    Args:
        dir_path (str | Path): the directory.
        list_dir (bool): yield directories. Defaults to True.
        list_file (bool): yield files. Defaults to True.
        suffix (str | tuple[str], optional): only yield files ending with
            it; only allowed with ``list_dir=False``.
        recursive (bool): descend into sub-directories.
        backend_args (dict, optional): see :func:`get_file_backend`.
    """
    backend = _backend(dir_path, backend_args)
    return _method(backend, 'list_dir_or_file', dir_path)(
        dir_path, list_dir, list_file, suffix, recursive)


def generate_presigned_url(url: str,
                           client_method: str = 'get_object',
                           expires_in: int = 3600,
                           backend_args: Optional[dict] = None) -> str:
    """Return a presigned URL for ``url`` (backends with signed URLs, such
    as :class:`PetrelBackend`)."""
    backend = _backend(url, backend_args)
    return _method(backend, 'generate_presigned_url', url)(url,
                                                            client_method,
                                                            expires_in)


# ---------------------------------------------------------------------------
# load / dump
# ---------------------------------------------------------------------------
def _storage_for(file: str, file_client_args: Optional[dict],
                 backend_args: Optional[dict]):
    if file_client_args is not None and backend_args is not None:
        raise ValueError(
            '"file_client_args" and "backend_args" cannot be set at the same '
            'time; file_client_args is deprecated, use backend_args')
    if file_client_args is not None:
        return FileClient.infer_client(file_client_args, file)
    return get_file_backend(
        file, backend_args=backend_args, enable_singleton=True)


def _handler_for(file, file_format: Optional[str]):
    if file_format is None:
        if not is_str(file):
            raise ValueError(
                'file_format must be given when file is not a path (got '
                f'{type(file).__name__}); supported formats: '
                f'{sorted(file_handlers)}')
        ext = osp.splitext(file)[1]
        if not ext:
            raise TypeError(
                f'Unsupported format: cannot infer the format of {file!r} '
                'from its suffix; pass file_format= one of '
                f'{sorted(file_handlers)}')
        file_format = ext[1:]
    if file_format not in file_handlers:
        raise TypeError(f'Unsupported format: {file_format!r}; supported '
                        f'formats: {sorted(file_handlers)}')
    return file_handlers[file_format]


def load(file: Union[str, Path, Any],
         file_format: Optional[str] = None,
         file_client_args: Optional[dict] = None,
         backend_args: Optional[dict] = None,
         **kwargs) -> Any:
    """Load data from a json/yaml/pickle file (or a registered format).

    Args:
        file (str | Path | file-like): a path (a URI prefix such as
            ``s3://`` or ``http://`` selects the storage backend) or an
            open file object.
        file_format (str, optional): the format; inferred from the suffix
            of a path when omitted, required for file objects. Built in:
            ``json``, ``yaml``/``yml``, ``pickle``/``pkl``.
        file_client_args (dict, optional): deprecated, see
            :class:`FileClient`; cannot be combined with ``backend_args``.
        backend_args (dict, optional): see :func:`get_file_backend`.
        **kwargs: passed to the handler (e.g. ``json.load`` options).

    Returns:
        The content of the file.

    Raises:
        TypeError: for an unsupported format (the supported ones are
            listed) or a ``file`` that is neither a path nor a file object.
        FileNotFoundError: naming a missing file.
        json.JSONDecodeError / yaml.YAMLError / pickle.UnpicklingError:
            for malformed content, naming the file.

    Examples:
        >>> load('/path/of/your/file')  # file is stored on disk
        >>> load('https://path/of/your/file')  # file is stored on Internet
        >>> load('s3://path/of/your/file')  # file is stored in petrel
    """
    if isinstance(file, Path):
        file = str(file)
    handler = _handler_for(file, file_format)
    if is_str(file):
        storage = _storage_for(file, file_client_args, backend_args)
        if handler.str_like:
            buffer: Any = StringIO(storage.get_text(file))
        else:
            buffer = BytesIO(storage.get(file))
        buffer.name = file  # lets parse errors name the file
        with buffer as f:
            return handler.load_from_fileobj(f, **kwargs)
    if hasattr(file, 'read'):
        return handler.load_from_fileobj(file, **kwargs)
    raise TypeError('"file" must be a filepath str, a pathlib.Path or a file '
                    f'object, but got {type(file).__name__}')


def dump(obj: Any,
         file: Union[str, Path, Any, None] = None,
         file_format: Optional[str] = None,
         file_client_args: Optional[dict] = None,
         backend_args: Optional[dict] = None,
         **kwargs) -> Union[str, bytes, None]:
    """Dump data to a json/yaml/pickle file or string.

    Args:
        obj (Any): the object to dump.
        file (str | Path | file-like, optional): a path (a URI prefix
            selects the storage backend; local writes are atomic), an open
            file object, or None to return the serialized data.
        file_format (str, optional): the format; inferred from the suffix
            of a path when omitted, required otherwise.
        file_client_args (dict, optional): deprecated, see
            :class:`FileClient`; cannot be combined with ``backend_args``.
        backend_args (dict, optional): see :func:`get_file_backend`.
        **kwargs: passed to the handler (e.g. ``indent=2`` for json).

    Returns:
        str | bytes | None: the serialized data when ``file`` is None.

    Raises:
        ValueError: if ``file_format`` is missing and cannot be inferred.
        TypeError: for an unsupported format (the supported ones are
            listed) or an invalid ``file``.

    Examples:
        >>> dump('hello world', '/path/of/your/file')  # disk
        >>> dump('hello world', 's3://path/of/your/file')  # ceph or petrel
    """
    if isinstance(file, Path):
        file = str(file)
    if file_format is None and file is None:
        raise ValueError(
            'file_format must be specified since file is None; supported '
            f'formats: {sorted(file_handlers)}')
    handler = _handler_for(file, file_format)
    if file is None:
        return handler.dump_to_str(obj, **kwargs)
    if is_str(file):
        storage = _storage_for(file, file_client_args, backend_args)
        # Look the writer up first, so a read-only backend fails before
        # any serialization work.
        buffer: Any
        if handler.str_like:
            write, buffer = _method(storage, 'put_text', file), StringIO()
        else:
            write, buffer = _method(storage, 'put', file), BytesIO()
        with buffer as f:
            handler.dump_to_fileobj(obj, f, **kwargs)
            write(f.getvalue(), file)
        return None
    if hasattr(file, 'write'):
        handler.dump_to_fileobj(obj, file, **kwargs)
        return None
    raise TypeError('"file" must be a filepath str, a pathlib.Path, a file '
                    f'object or None, but got {type(file).__name__}')
