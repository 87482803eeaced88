"""The abstract file-format handler used by ``load`` and ``dump``."""
from abc import ABCMeta, abstractmethod
from pathlib import Path
from typing import Any, Union


class BaseFileHandler(metaclass=ABCMeta):
    """Abstract handler that (de)serializes one file format.

    Subclasses implement :meth:`load_from_fileobj`, :meth:`dump_to_fileobj`
    and :meth:`dump_to_str`; :meth:`load_from_path` and
    :meth:`dump_to_path` open the file and delegate. A binary format sets
    ``str_like = False`` (and opens paths with ``'rb'``/``'wb'``) so that
    :func:`mmengine.fileio.load` hands it bytes instead of text.

    Examples:
        >>> from mmengine.fileio import BaseFileHandler, register_handler
        >>> @register_handler('txt')
        ... class TxtHandler(BaseFileHandler):
        ...     def load_from_fileobj(self, file, **kwargs):
        ...         return file.read()
        ...     def dump_to_fileobj(self, obj, file, **kwargs):
        ...         file.write(str(obj))
        ...     def dump_to_str(self, obj, **kwargs):
        ...         return str(obj)
    """

    #: True for text formats (json, yaml), False for binary ones (pickle).
    str_like = True

    @abstractmethod
    def load_from_fileobj(self, file, **kwargs) -> Any:
        """Deserialize an object from an open file object."""

    @abstractmethod
    def dump_to_fileobj(self, obj: Any, file, **kwargs) -> None:
        """Serialize ``obj`` into an open file object."""

    @abstractmethod
    def dump_to_str(self, obj: Any, **kwargs) -> Union[str, bytes]:
        """Serialize ``obj`` and return the str (bytes for binary
        formats)."""

    def load_from_path(self,
                       filepath: Union[str, Path],
                       mode: str = 'r',
                       **kwargs) -> Any:
        """Open ``filepath`` with ``mode`` and load from it."""
        with open(filepath, mode) as f:
            return self.load_from_fileobj(f, **kwargs)

    def dump_to_path(self,
                     obj: Any,
                     filepath: Union[str, Path],
                     mode: str = 'w',
                     **kwargs) -> None:
        """Open ``filepath`` with ``mode`` and dump ``obj`` into it."""
        with open(filepath, mode) as f:
            self.dump_to_fileobj(obj, f, **kwargs)


def file_name_of(file) -> str:
    """The name of an open file for error messages (``'<stream>'`` if it
    has none)."""
    name = getattr(file, 'name', None)
    return str(name) if isinstance(name, (str, Path)) else '<stream>'
