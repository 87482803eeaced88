"""Writing a config as JSON or YAML text, and writing text to a file.

``.py`` text comes from :mod:`mmengine.config.formatter`.
"""
import json
import os
from typing import Any, Optional

from .utils import yaml_tools


def dumps_data(data: dict, fmt: str) -> str:
    """``data`` (plain nested dicts) as ``'json'``, ``'yaml'`` or ``'yml'``.

    JSON is written on one line in insertion order (tuples become lists);
    YAML in block style with sorted keys, tuples as ``!!python/tuple``.

    Raises:
        TypeError: a value is not plain data; the message names its key.
        OSError: ``fmt`` is not a supported format.
    """
    if fmt == 'json':
        try:
            return json.dumps(data)
        except (TypeError, ValueError) as e:
            raise TypeError(f'cannot write the config as JSON: '
                            f'{_unwritable(data, e)}; dump it to .py '
                            'instead') from e
    if fmt in ('yaml', 'yml'):
        yaml, _, dumper = yaml_tools()
        try:
            return yaml.dump(
                data, Dumper=dumper, default_flow_style=False,
                allow_unicode=True)
        except yaml.YAMLError as e:
            raise TypeError(f'cannot write the config as YAML: '
                            f'{_unwritable(data, e)}; dump it to .py '
                            'instead') from e
    raise OSError(f'Unsupported dump format {fmt!r}: use a .py, .json, '
                  '.yaml or .yml file name')


def _unwritable(data: Any, error: Exception) -> str:
    """Describe the first value of ``data`` that is not plain data (the
    cause of a failed JSON/YAML dump), e.g. ``model.fn: function``."""
    plain = (str, int, float, bool, type(None))

    def find(value: Any, path: str) -> Optional[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, plain):
                    return f'{path or "<top>"}: key {key!r} of type ' \
                        f'{type(key).__name__}'
                found = find(item, f'{path}.{key}' if path else str(key))
                if found:
                    return found
            return None
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                found = find(item, f'{path}.{i}')
                if found:
                    return found
            return None
        if not isinstance(value, plain):
            return f'{path} holds a {type(value).__name__} ({value!r:.60})'
        return None

    return find(data, '') or str(error)


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` (UTF-8).

    The file is overwritten in place and then cut to the new length instead
    of being opened with ``O_TRUNC``: on ext4, truncating an existing file
    to zero forces a data flush (``auto_da_alloc``) costing milliseconds.
    """
    data = text.encode('utf-8')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, 'O_BINARY', 0),
                 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)
