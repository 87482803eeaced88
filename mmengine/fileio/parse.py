"""Read a text file as a list of lines or as a dict of key -> value(s)."""
from io import StringIO
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

from .backends.base import read_text
from .io import _storage_for


def _read_text(filename: Union[str, Path], encoding: str,
               file_client_args: Optional[dict],
               backend_args: Optional[dict]) -> str:
    storage = _storage_for(str(filename), file_client_args, backend_args)
    return read_text(storage, filename, encoding)


def list_from_file(filename: Union[str, Path],
                   prefix: str = '',
                   offset: int = 0,
                   max_num: int = 0,
                   encoding: str = 'utf-8',
                   file_client_args: Optional[dict] = None,
                   backend_args: Optional[dict] = None) -> List[str]:
    """Read a text file and return its lines (without newlines) as a list.

    Args:
        filename (str | Path): the file; a URI prefix (``s3://``,
            ``http://``) selects the storage backend.
        prefix (str): string prepended to every item. Defaults to ''.
        offset (int): number of lines to skip first. Defaults to 0.
        max_num (int): maximum number of lines to return; 0 or less means
            no limit. Defaults to 0.
        encoding (str): text encoding. Defaults to 'utf-8'.
        file_client_args (dict, optional): deprecated, see ``FileClient``.
        backend_args (dict, optional): see ``get_file_backend``.

    Returns:
        list[str]: the lines.

    Examples:
        >>> list_from_file('/path/of/your/file')  # disk
        ['hello', 'world']
        >>> list_from_file('s3://path/of/your/file')  # ceph or petrel
        ['hello', 'world']
    """
    text = _read_text(filename, encoding, file_client_args, backend_args)
    items: List[str] = []
    with StringIO(text) as f:
        for index, line in enumerate(f):
            if index < offset:
                continue
            if 0 < max_num <= len(items):
                break
            items.append(prefix + line.rstrip('\n\r'))
    return items


def dict_from_file(filename: Union[str, Path],
                   key_type: Callable = str,
                   encoding: str = 'utf-8',
                   file_client_args: Optional[dict] = None,
                   backend_args: Optional[dict] = None) -> Dict:
    """Read a text file and return a dict built from its lines.

    Each line is split on whitespace: the first token is the key
    (converted with ``key_type``), the rest the value — a str if there is
    one token, a list of str if there are several. Blank lines are
    skipped.

    Args:
        filename (str | Path): the file; a URI prefix selects the backend.
        key_type (callable): converts the key token. Defaults to ``str``.
        encoding (str): text encoding. Defaults to 'utf-8'.
        file_client_args (dict, optional): deprecated, see ``FileClient``.
        backend_args (dict, optional): see ``get_file_backend``.

    Returns:
        dict: the mapping.

    Raises:
        ValueError: naming the file and line when a line has a key but no
            value, or the key cannot be converted with ``key_type``.

    Examples:
        >>> dict_from_file('/path/of/your/file')  # '1 cat\\n2 dog cow'
        {'1': 'cat', '2': ['dog', 'cow']}
    """
    text = _read_text(filename, encoding, file_client_args, backend_args)
    mapping: Dict = {}
    with StringIO(text) as f:
        for lineno, line in enumerate(f, start=1):
            items = line.split()
            if not items:
                continue
            if len(items) < 2:
                raise ValueError(
                    f'{filename!s}, line {lineno}: expected "key value '
                    f'[value ...]" but got only {items[0]!r}')
            try:
                key = key_type(items[0])
            except (TypeError, ValueError) as e:
                raise ValueError(
                    f'{filename!s}, line {lineno}: cannot convert key '
                    f'{items[0]!r} with key_type={key_type!r}: {e}') from e
            mapping[key] = items[1] if len(items) == 2 else items[1:]
    return mapping
