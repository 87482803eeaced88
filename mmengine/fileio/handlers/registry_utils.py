"""The table of file handlers, keyed by file format (the suffix)."""
from typing import Dict, List, Union

from mmengine.utils import is_list_of
from .base import BaseFileHandler
from .json_handler import JsonHandler
from .pickle_handler import PickleHandler
from .yaml_handler import YamlHandler

#: file format (suffix without the dot) -> handler instance
file_handlers: Dict[str, BaseFileHandler] = {
    'json': JsonHandler(),
    'yaml': YamlHandler(),
    'yml': YamlHandler(),
    'pickle': PickleHandler(),
    'pkl': PickleHandler(),
}


def _register_handler(handler: BaseFileHandler,
                      file_formats: Union[str, List[str]]) -> None:
    """Register ``handler`` for each of ``file_formats`` (later wins)."""
    if not isinstance(handler, BaseFileHandler):
        raise TypeError(
            'handler must be an instance of BaseFileHandler, but got '
            f'{type(handler).__name__}')
    if isinstance(file_formats, str):
        file_formats = [file_formats]
    if not is_list_of(file_formats, str):
        raise TypeError('file_formats must be a str or a list of str, but '
                        f'got {file_formats!r}')
    for ext in file_formats:
        file_handlers[ext.lstrip('.')] = handler


def register_handler(file_formats: Union[str, List[str]], **kwargs):
    """Class decorator registering a handler for one or more formats.

    The decorated class is instantiated with ``**kwargs``; afterwards
    :func:`load` and :func:`dump` use it for files with those suffixes (or
    ``file_format=``). A later registration overrides an earlier one.

    Args:
        file_formats (str | list[str]): format(s), e.g. ``'txt'`` or
            ``['txt', 'log']``.
        **kwargs: arguments to construct the handler.

    Raises:
        TypeError: if the class is no :class:`BaseFileHandler` subclass or
            ``file_formats`` is neither a str nor a list of str.

    Examples:
        >>> @register_handler(['txt', 'log'])
        ... class TxtHandler(BaseFileHandler):
        ...     ...
    """

    def wrap(cls):
        if not (isinstance(cls, type) and issubclass(cls, BaseFileHandler)):
            raise TypeError(
                f'{cls!r} must be a subclass of BaseFileHandler to be '
                'registered as a file handler')
        _register_handler(cls(**kwargs), file_formats)
        return cls

    return wrap
