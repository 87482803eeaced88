"""Filesystem path helpers."""
import os
import os.path as osp
from pathlib import Path
from typing import Iterator, Optional, Tuple, Union


def is_filepath(x) -> bool:
    """Whether ``x`` is a path: a ``str`` or a ``pathlib.Path``."""
    return isinstance(x, (str, Path))


def fopen(filepath: Union[str, Path], *args, **kwargs):
    """``open`` that also accepts ``pathlib.Path``.

    Raises:
        ValueError: if ``filepath`` is neither a str nor a Path.
    """
    if isinstance(filepath, str):
        return open(filepath, *args, **kwargs)
    elif isinstance(filepath, Path):
        return filepath.open(*args, **kwargs)
    raise ValueError(
        f'`filepath` should be a string or a Path, got '
        f'{type(filepath).__name__}')


def check_file_exist(filename: Union[str, Path],
                     msg_tmpl: str = 'file "{}" does not exist') -> None:
    """Raise ``FileNotFoundError`` naming ``filename`` if it is no file."""
    if not osp.isfile(filename):
        raise FileNotFoundError(msg_tmpl.format(filename))


def mkdir_or_exist(dir_name: Union[str, Path], mode: int = 0o777) -> None:
    """Create a directory (and its parents) unless it already exists."""
    if dir_name == '':
        return
    dir_name = osp.expanduser(dir_name)
    os.makedirs(dir_name, mode=mode, exist_ok=True)


def symlink(src: str, dst: str, overwrite: bool = True, **kwargs) -> None:
    """Create a symbolic link ``dst`` pointing to ``src``.

    An existing ``dst`` is replaced when ``overwrite`` is True.
    """
    if os.path.lexists(dst) and overwrite:
        os.remove(dst)
    os.symlink(src, dst, **kwargs)


def scandir(dir_path: Union[str, Path],
            suffix: Optional[Union[str, Tuple[str, ...]]] = None,
            recursive: bool = False,
            case_sensitive: bool = True) -> Iterator[str]:
    """Yield the files in a directory, relative to it.

    Args:
        dir_path (str | Path): the directory.
        suffix (str | tuple[str], optional): only files ending with it.
        recursive (bool): descend into sub-directories. Defaults to False.
        case_sensitive (bool): whether the suffix match is case sensitive.
            Defaults to True.
    """
    if isinstance(dir_path, (str, Path)):
        dir_path = str(dir_path)
    else:
        raise TypeError('"dir_path" must be a string or Path object, got '
                        f'{type(dir_path).__name__}')
    if (suffix is not None) and not isinstance(suffix, (str, tuple)):
        raise TypeError('"suffix" must be a string or tuple of strings, got '
                        f'{type(suffix).__name__}')
    if suffix is not None and not case_sensitive:
        suffix = suffix.lower() if isinstance(suffix, str) else tuple(
            item.lower() for item in suffix)
    root = dir_path

    def _scandir(dir_path):
        # ``with`` closes the directory handle even when the caller stops
        # iterating early.
        with os.scandir(dir_path) as entries:
            for entry in entries:
                if not entry.name.startswith('.') and entry.is_file():
                    rel_path = osp.relpath(entry.path, root)
                    _rel_path = rel_path if case_sensitive else \
                        rel_path.lower()
                    if suffix is None or _rel_path.endswith(suffix):
                        yield rel_path
                elif recursive and os.path.isdir(entry.path):
                    yield from _scandir(entry.path)

    return _scandir(dir_path)


def find_vcs_root(path: Union[str, Path],
                  markers: Tuple[str, ...] = ('.git', )) -> Optional[str]:
    """Find the root of a version-controlled tree containing ``path``."""
    if osp.isfile(path):
        path = osp.dirname(path)
    prev, cur = None, osp.abspath(osp.expanduser(path))
    while cur != prev:
        if any(osp.exists(osp.join(cur, marker)) for marker in markers):
            return cur
        prev, cur = cur, osp.split(cur)[0]
    return None


def is_abs(path: Union[str, Path]) -> bool:
    """Whether ``path`` is absolute.

    A path with a URI prefix (``s3://``, ``http://``) counts as absolute.
    """
    return osp.isabs(path) or '://' in str(path)
