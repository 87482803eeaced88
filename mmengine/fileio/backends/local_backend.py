"""Storage backend for the local file system."""
import os
import os.path as osp
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import (BinaryIO, Callable, Generator, Iterator, Optional,
                    Tuple, Union)

from .base import BaseStorageBackend, check_list_dir_args, with_path

_umask: Optional[int] = None
_umask_lock = threading.Lock()


def _read_umask() -> int:
    """The process umask, read without changing it where possible."""
    try:  # Linux reports it; setting it would race with other threads
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere os.umask can only be read by setting it (briefly).
    umask = os.umask(0o077)
    os.umask(umask)
    return umask


def _default_file_mode() -> int:
    """The permission bits ``open(path, 'w')`` would give a new file."""
    global _umask
    if _umask is None:
        with _umask_lock:  # read once per process
            if _umask is None:
                _umask = _read_umask()
    return 0o666 & ~_umask


def atomic_write(data: Union[bytes, str],
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``filepath`` atomically.

    The data goes to a temporary file in the same directory, which is
    flushed, fsynced and then renamed over ``filepath`` with
    :func:`os.replace`. A crash at any point leaves either the old file or
    the complete new one, never a torn file. Missing parent directories are
    created.

    Args:
        data (bytes | str): the content; str is encoded with ``encoding``.
        filepath (str | Path): the destination file.
        encoding (str): encoding used when ``data`` is a str.
    """
    if isinstance(data, str):
        data = data.encode(encoding)

    def write(f: BinaryIO) -> None:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())

    atomic_write_with(filepath, write)


def atomic_write_with(filepath: Union[str, Path],
                      write: Callable[[BinaryIO], None]) -> None:
    """Let ``write(f)`` fill a temp file, then rename it over ``filepath``.

    The shared mechanism of atomic writes (e.g. :func:`atomic_write`, and
    checkpoints streamed by ``torch.save``): a temp file in the same
    directory, the destination's permissions kept, a symlink written
    through (the link stays), :func:`os.replace`, then a best-effort fsync
    of the directory. ``write`` must leave the data durable (flush and
    fsync). If it raises, the temp file is removed and ``filepath`` is
    untouched.

    Args:
        filepath (str | Path): the destination file.
        write (callable): called with the temp file opened in ``'wb'``.
    """
    import tempfile  # imported lazily: pulls in random/hashlib
    filepath = osp.abspath(os.fspath(filepath))
    if osp.islink(filepath):
        # Write through a link like open(path, 'w') would, keeping the link.
        filepath = osp.realpath(filepath)
    dirname = osp.dirname(filepath)
    os.makedirs(dirname, exist_ok=True)
    if osp.isdir(filepath):
        raise IsADirectoryError(
            f'cannot write a file to {filepath!r}: it is a directory')
    try:
        mode = os.stat(filepath).st_mode & 0o7777
    except FileNotFoundError:
        mode = _default_file_mode()
    fd, tmp_path = tempfile.mkstemp(
        dir=dirname, prefix=f'.{osp.basename(filepath)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, filepath)
    except BaseException:
        try:
            os.remove(tmp_path)
        except OSError:
            pass
        raise
    # Make the rename itself durable (best effort: not all systems allow
    # opening a directory).
    try:
        dir_fd = os.open(dirname, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


class LocalBackend(BaseStorageBackend):
    """Raw local storage backend (the local disk).

    Paths may be ``str`` or :class:`pathlib.Path`. :meth:`put` and
    :meth:`put_text` write atomically (see :func:`atomic_write`), so a file
    written through this backend is never seen half-written.
    """

    _allow_symlink = True

    def get(self, filepath: Union[str, Path]) -> bytes:
        """Read ``filepath`` in binary mode and return its bytes.

        Raises:
            FileNotFoundError: naming ``filepath`` when it does not exist.
        """
        with open(filepath, 'rb') as f:
            return f.read()

    def get_text(self,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> str:
        """Read ``filepath`` in text mode with ``encoding`` and return it.

        Raises:
            FileNotFoundError: naming ``filepath`` when it does not exist.
            UnicodeDecodeError: naming ``filepath`` when it is not valid
                ``encoding`` text.
        """
        with open(filepath, encoding=encoding) as f:
            try:
                return f.read()
            except UnicodeDecodeError as e:
                raise with_path(e, filepath) from None

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes ``obj`` to ``filepath`` atomically.

        Parent directories are created when missing.
        """
        if not isinstance(obj, (bytes, bytearray, memoryview)):
            raise TypeError(
                f'put() expects bytes, got {type(obj).__name__} for '
                f'{filepath!s}; use put_text() for str')
        atomic_write(bytes(obj), filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write str ``obj`` to ``filepath`` atomically with ``encoding``.

        Parent directories are created when missing.
        """
        if not isinstance(obj, str):
            raise TypeError(
                f'put_text() expects str, got {type(obj).__name__} for '
                f'{filepath!s}; use put() for bytes')
        atomic_write(obj, filepath, encoding=encoding)

    def exists(self, filepath: Union[str, Path]) -> bool:
        """Whether ``filepath`` (file or directory) exists."""
        return osp.exists(filepath)

    def isdir(self, filepath: Union[str, Path]) -> bool:
        """Whether ``filepath`` is a directory."""
        return osp.isdir(filepath)

    def isfile(self, filepath: Union[str, Path]) -> bool:
        """Whether ``filepath`` is a file."""
        return osp.isfile(filepath)

    def join_path(self, filepath: Union[str, Path],
                  *filepaths: Union[str, Path]) -> str:
        """Concatenate path components with :func:`os.path.join` (a str)."""
        return osp.join(filepath, *filepaths)

    @contextmanager
    def get_local_path(
            self,
            filepath: Union[str, Path]) -> Generator[Union[str, Path], None,
                                                     None]:
        """Yield ``filepath`` itself: a local file needs no download."""
        yield filepath

    def copyfile(self, src: Union[str, Path],
                 dst: Union[str, Path]) -> Union[str, Path]:
        """Copy the file ``src`` to ``dst`` and return the destination.

        If ``dst`` is a directory the file is copied into it with the same
        base name. Data and permission bits are copied.

        Raises:
            shutil.SameFileError: if ``src`` and ``dst`` are the same file.
        """
        return shutil.copy(src, dst)

    def copytree(self, src: Union[str, Path],
                 dst: Union[str, Path]) -> Union[str, Path]:
        """Recursively copy the directory ``src`` to ``dst`` (must not
        exist) and return ``dst``.

        Raises:
            FileExistsError: if ``dst`` already exists.
        """
        return shutil.copytree(src, dst)

    def copyfile_from_local(self, src: Union[str, Path],
                            dst: Union[str, Path]) -> Union[str, Path]:
        """Same as :meth:`copyfile` (both sides are local)."""
        return self.copyfile(src, dst)

    def copytree_from_local(self, src: Union[str, Path],
                            dst: Union[str, Path]) -> Union[str, Path]:
        """Same as :meth:`copytree` (both sides are local)."""
        return self.copytree(src, dst)

    def copyfile_to_local(self, src: Union[str, Path],
                          dst: Union[str, Path]) -> Union[str, Path]:
        """Same as :meth:`copyfile` (both sides are local)."""
        return self.copyfile(src, dst)

    def copytree_to_local(self, src: Union[str, Path],
                          dst: Union[str, Path]) -> Union[str, Path]:
        """Same as :meth:`copytree` (both sides are local)."""
        return self.copytree(src, dst)

    def remove(self, filepath: Union[str, Path]) -> None:
        """Remove the file ``filepath``.

        Raises:
            FileNotFoundError: if it does not exist.
            IsADirectoryError: if it is a directory (use :meth:`rmtree`).
        """
        if not osp.lexists(filepath):
            raise FileNotFoundError(
                f'cannot remove {str(filepath)!r}: no such file')
        if osp.isdir(filepath) and not osp.islink(filepath):
            raise IsADirectoryError(
                f'cannot remove {str(filepath)!r}: it is a directory, use '
                'rmtree()')
        os.remove(filepath)

    def rmtree(self, dir_path: Union[str, Path]) -> None:
        """Recursively delete the directory ``dir_path``."""
        shutil.rmtree(dir_path)

    def copy_if_symlink_fails(self, src: Union[str, Path],
                              dst: Union[str, Path]) -> bool:
        """Create a symbolic link ``dst`` to ``src``; copy if that fails.

        Returns:
            bool: True if a link was made, False if ``src`` was copied.
        """
        try:
            os.symlink(src, dst)
            return True
        except Exception:
            if self.isfile(src):
                self.copyfile(src, dst)
            else:
                self.copytree(src, dst)
            return False

    def list_dir_or_file(self,
                         dir_path: Union[str, Path],
                         list_dir: bool = True,
                         list_file: bool = True,
                         suffix: Optional[Union[str, Tuple[str, ...]]] = None,
                         recursive: bool = False) -> Iterator[str]:
        """Yield directories and/or files in ``dir_path``, relative to it.

        Hidden entries (names starting with ``.``) are skipped.

        Args:
            dir_path (str | Path): the directory to scan.
            list_dir (bool): yield directories. Defaults to True.
            list_file (bool): yield files. Defaults to True.
            suffix (str | tuple[str], optional): only yield files ending
                with it; only allowed with ``list_dir=False``.
            recursive (bool): descend into sub-directories.

        Raises:
            TypeError: on an invalid ``suffix`` (raised at call time).
        """
        check_list_dir_args(list_dir, list_file, suffix)
        root = os.fspath(dir_path)

        def scan(path: str) -> Iterator[str]:
            # ``with`` closes the directory handle even when the caller
            # stops iterating early.
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.name.startswith('.'):
                        continue
                    rel_path = osp.relpath(entry.path, root)
                    if entry.is_file():
                        if list_file and (suffix is None
                                          or rel_path.endswith(suffix)):
                            yield rel_path
                    elif entry.is_dir():
                        if list_dir:
                            yield rel_path
                        if recursive:
                            yield from scan(entry.path)

        return scan(root)


class HardDiskBackend(LocalBackend):
    """Older name of :class:`LocalBackend`, kept for existing configs and
    logs (``file_client_args=dict(backend='disk')``)."""
