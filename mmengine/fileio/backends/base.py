"""The abstract storage backend every concrete backend derives from."""
from abc import ABCMeta, abstractmethod
from pathlib import Path
from typing import Any, Union


class BaseStorageBackend(metaclass=ABCMeta):
    """Abstract class of storage backends.

    A storage backend reads (and, when it can, writes) bytes addressed by a
    path-like string. Subclasses must implement :meth:`get` (bytes) and
    :meth:`get_text` (str); the other operations (``put``, ``exists``,
    ``list_dir_or_file``, ...) are optional and offered by the backends that
    can support them.

    Attributes:
        _allow_symlink (bool): whether the storage can hold symbolic links;
            :meth:`copy_if_symlink_fails` style helpers consult it.
    """

    _allow_symlink = False

    @property
    def name(self) -> str:
        """str: the backend's class name, e.g. ``'LocalBackend'``."""
        return self.__class__.__name__

    @property
    def allow_symlink(self) -> bool:
        """bool: whether the backend supports symbolic links."""
        return self._allow_symlink

    @abstractmethod
    def get(self, filepath: Union[str, Path]) -> bytes:
        """Read the data at ``filepath`` and return it as bytes."""

    @abstractmethod
    def get_text(self, filepath: Union[str, Path]) -> str:
        """Read the data at ``filepath`` and return it as str."""


def read_text(backend: Any, filepath, encoding: str = 'utf-8') -> str:
    """``backend.get_text(filepath, encoding)``; the default encoding is not
    passed, so that custom backends whose ``get_text`` takes only a path
    work."""
    if encoding == 'utf-8':
        return backend.get_text(filepath)
    return backend.get_text(filepath, encoding)


def decode_text(data: bytes, encoding: str, filepath) -> str:
    """``data.decode(encoding)`` whose decoding error names ``filepath``."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise with_path(e, filepath) from None


def with_path(error: UnicodeDecodeError, filepath) -> UnicodeDecodeError:
    """A copy of ``error`` whose message also names the file (the type is
    kept for callers that catch it)."""
    return UnicodeDecodeError(
        error.encoding, error.object, error.start, error.end,
        f'{error.reason} (while reading {str(filepath)!r} as '
        f'{error.encoding} text)')


def check_list_dir_args(list_dir: bool, list_file: bool, suffix) -> None:
    """Validate the arguments of ``list_dir_or_file`` (shared by backends).

    Raises:
        TypeError: if ``suffix`` is given while directories are listed, or
            ``suffix`` is neither a str nor a tuple of str.
    """
    if list_dir and suffix is not None:
        raise TypeError(
            '`suffix` should be None when `list_dir` is True (`list_dir` '
            'should be False when `suffix` is not None): a suffix only '
            f'filters files, got suffix={suffix!r}')
    if suffix is not None and not (isinstance(suffix, str) or (
            isinstance(suffix, tuple)
            and all(isinstance(s, str) for s in suffix))):
        raise TypeError('`suffix` must be a string or tuple of strings, got '
                        f'{type(suffix).__name__}: {suffix!r}')
