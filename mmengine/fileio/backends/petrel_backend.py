"""Storage backend for Petrel OSS / S3 (``petrel://`` and ``s3://``)."""
import os
import os.path as osp
import re
from contextlib import contextmanager
from pathlib import Path
from shutil import SameFileError
from typing import Dict, Generator, Iterator, Optional, Tuple, Union

from mmengine.utils import has_method
from .base import BaseStorageBackend, check_list_dir_args, decode_text


class PetrelBackend(BaseStorageBackend):
    """Petrel storage backend (for internal use of OpenMMLab clusters).

    ``petrel://bucket/key`` is a synonym of ``s3://bucket/key``: the
    ``petrel://`` prefix is rewritten to ``s3://`` before the client is
    called. A path is processed in this order: :meth:`_map_path` (optional
    user mapping), :meth:`_format_path` (backslashes to slashes),
    :meth:`_replace_prefix`.

    Args:
        path_mapping (dict, optional): substrings of a path to replace
            before use, e.g. ``{'data/': 's3://bucket/data/'}`` maps local
            style paths to the bucket. Defaults to None.
        enable_mc (bool): enable the memcached cache of the client.
            Defaults to True.
        conf_path (str, optional): the petrel client's config file.

    Raises:
        ImportError: naming ``petrel_client`` when it is not installed.

    Examples:
        >>> backend = PetrelBackend()
        >>> backend.get('petrel://bucket/path/of/file')
        >>> backend.get('s3://bucket/path/of/file')
    """

    def __init__(self,
                 path_mapping: Optional[Dict[str, str]] = None,
                 enable_mc: bool = True,
                 conf_path: Optional[str] = None):
        try:
            import importlib
            client = importlib.import_module('petrel_client.client')
        except ImportError as e:
            raise ImportError(
                'PetrelBackend needs the "petrel_client" package (the Petrel '
                'OSS SDK, installed from its own distribution); install '
                'petrel_client to use s3:// or petrel:// paths') from e
        self._client = client.Client(conf_path=conf_path, enable_mc=enable_mc)
        if path_mapping is not None and not isinstance(path_mapping, dict):
            raise TypeError('path_mapping should be a dict of str -> str, '
                            f'got {type(path_mapping).__name__}')
        self.path_mapping = path_mapping

    # -- path processing -------------------------------------------------
    def _map_path(self, filepath: Union[str, Path]) -> str:
        """Apply ``path_mapping`` to ``filepath`` (first match of each)."""
        filepath = str(filepath)
        if self.path_mapping is not None:
            for src, dst in self.path_mapping.items():
                filepath = filepath.replace(src, dst, 1)
        return filepath

    def _format_path(self, filepath: str) -> str:
        """Turn Windows-style backslashes into ``/`` separators."""
        return re.sub(r'\\+', '/', filepath)

    def _replace_prefix(self, filepath: Union[str, Path]) -> str:
        """Rewrite a ``petrel://`` prefix to ``s3://``."""
        filepath = str(filepath)
        if filepath.startswith('petrel://'):
            filepath = 's3://' + filepath[len('petrel://'):]
        return filepath

    def _client_path(self, filepath: Union[str, Path]) -> str:
        return self._replace_prefix(self._format_path(
            self._map_path(filepath)))

    def _require(self, method: str) -> None:
        if not has_method(self._client, method):
            raise NotImplementedError(
                f'the installed petrel_client has no `{method}` method, which '
                'this operation needs; upgrade petrel_client')

    # -- reading and writing ----------------------------------------------
    def get(self, filepath: Union[str, Path]) -> bytes:
        """Return the bytes stored at ``filepath``.

        Raises:
            FileNotFoundError: naming ``filepath`` if the client returns
                nothing for it.
        """
        value = self._client.Get(self._client_path(filepath))
        if value is None:
            raise FileNotFoundError(f'no such object: {str(filepath)!r}')
        return bytes(value)

    def get_text(self,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> str:
        """Return the content of ``filepath`` decoded with ``encoding``."""
        return decode_text(self.get(filepath), encoding, filepath)

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Store bytes ``obj`` at ``filepath``."""
        self._client.put(self._client_path(filepath), obj)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Store str ``obj`` at ``filepath`` encoded with ``encoding``."""
        self.put(bytes(obj, encoding=encoding), filepath)

    def exists(self, filepath: Union[str, Path]) -> bool:
        """Whether ``filepath`` is an existing object or directory."""
        self._require('contains')
        self._require('isdir')
        path = self._client_path(filepath)
        return self._client.contains(path) or self._client.isdir(path)

    def isdir(self, filepath: Union[str, Path]) -> bool:
        """Whether ``filepath`` is a directory (a key prefix)."""
        self._require('isdir')
        return self._client.isdir(self._client_path(filepath))

    def isfile(self, filepath: Union[str, Path]) -> bool:
        """Whether ``filepath`` is an object."""
        self._require('contains')
        return self._client.contains(self._client_path(filepath))

    def join_path(self, filepath: Union[str, Path],
                  *filepaths: Union[str, Path]) -> str:
        """Join path components with ``/`` (no doubled separators).

        Examples:
            >>> backend.join_path('petrel://bucket/dir/', '/file')
            'petrel://bucket/dir/file'
        """
        filepath = self._format_path(self._map_path(filepath))
        parts = [filepath[:-1] if filepath.endswith('/') else filepath]
        parts += [str(p).strip('/') for p in filepaths[:-1]]
        if filepaths:
            parts.append(str(filepaths[-1]).lstrip('/'))
        return '/'.join(parts)

    @contextmanager
    def get_local_path(
            self, filepath: Union[str, Path]) -> Generator[str, None, None]:
        """Download ``filepath`` to a temporary local file and yield its
        path; the file is removed when the ``with`` block exits.

        Raises:
            FileNotFoundError: if ``filepath`` is not an object.
        """
        import tempfile
        if not self.isfile(filepath):
            raise FileNotFoundError(f'no such object: {str(filepath)!r}')
        suffix = osp.splitext(str(filepath))[1]
        # Download before creating the temp file, which a failed get
        # would otherwise leave behind.
        data = self.get(filepath)
        f = tempfile.NamedTemporaryFile(delete=False, suffix=suffix)
        try:
            with f:
                f.write(data)
            yield f.name
        finally:
            os.remove(f.name)

    # -- copying and removing ---------------------------------------------
    def copyfile(self, src: Union[str, Path],
                 dst: Union[str, Path]) -> Union[str, Path]:
        """Copy object ``src`` to ``dst`` (into it if it is a directory)
        and return the destination.

        Raises:
            SameFileError: if ``src`` and ``dst`` are the same path.
        """
        if self._client_path(src) == self._client_path(dst):
            raise SameFileError(f'{src!s} and {dst!s} are the same file')
        if self.isdir(dst):
            dst = self.join_path(dst, osp.basename(self._format_path(
                str(src))))
        self.put(self.get(src), dst)
        return dst

    def copytree(self, src: Union[str, Path],
                 dst: Union[str, Path]) -> Union[str, Path]:
        """Copy every object under ``src`` to ``dst`` and return ``dst``.

        Raises:
            FileExistsError: if ``dst`` already exists.
        """
        if self.exists(dst):
            raise FileExistsError(f'{dst!s} already exists')
        for path in list(self.list_dir_or_file(src, list_dir=False,
                                               recursive=True)):
            self.put(self.get(self.join_path(src, path)),
                     self.join_path(dst, path))
        return dst

    def copyfile_from_local(self, src: Union[str, Path],
                            dst: Union[str, Path]) -> Union[str, Path]:
        """Upload the local file ``src`` to ``dst`` (into it if it is a
        directory) and return the destination."""
        if self.isdir(dst):
            dst = self.join_path(dst, osp.basename(src))
        with open(src, 'rb') as f:
            self.put(f.read(), dst)
        return dst

    def copytree_from_local(self, src: Union[str, Path],
                            dst: Union[str, Path]) -> Union[str, Path]:
        """Upload the local directory ``src`` to ``dst`` and return ``dst``.

        Raises:
            FileExistsError: if ``dst`` already exists.
        """
        if self.exists(dst):
            raise FileExistsError(f'{dst!s} already exists')
        src = str(src)
        for root, _, files in os.walk(src):
            for name in files:
                local_path = osp.join(root, name)
                rel = osp.relpath(local_path, src).replace(os.sep, '/')
                self.copyfile_from_local(local_path, self.join_path(dst, rel))
        return dst

    def copyfile_to_local(self, src: Union[str, Path],
                          dst: Union[str, Path]) -> Union[str, Path]:
        """Download object ``src`` to the local ``dst`` (into it if it is a
        directory) and return the local destination."""
        if osp.isdir(dst):
            basename = osp.basename(self._format_path(str(src)))
            dst = (osp.join(dst, basename)
                   if isinstance(dst, str) else Path(dst) / basename)
        # Download first: a failed get must not truncate an existing dst.
        data = self.get(src)
        with open(dst, 'wb') as f:
            f.write(data)
        return dst

    def copytree_to_local(self, src: Union[str, Path],
                          dst: Union[str, Path]) -> Union[str, Path]:
        """Download every object under ``src`` into the local directory
        ``dst`` and return ``dst``."""
        for path in list(self.list_dir_or_file(src, list_dir=False,
                                               recursive=True)):
            data = self.get(self.join_path(src, path))
            local_path = osp.join(dst, path)
            os.makedirs(osp.dirname(local_path), exist_ok=True)
            with open(local_path, 'wb') as f:
                f.write(data)
        return dst

    def remove(self, filepath: Union[str, Path]) -> None:
        """Delete the object ``filepath``.

        Raises:
            IsADirectoryError: if it is a directory (use :meth:`rmtree`).
            FileNotFoundError: if it does not exist.
        """
        self._require('delete')
        if self.isdir(filepath):
            raise IsADirectoryError(
                f'cannot remove {str(filepath)!r}: it is a directory, use '
                'rmtree()')
        if not self.isfile(filepath):
            raise FileNotFoundError(
                f'cannot remove {str(filepath)!r}: no such object')
        self._client.delete(self._client_path(filepath))

    def rmtree(self, dir_path: Union[str, Path]) -> None:
        """Delete every object under ``dir_path``."""
        for path in list(self.list_dir_or_file(dir_path, list_dir=False,
                                               recursive=True)):
            self.remove(self.join_path(dir_path, path))

    def copy_if_symlink_fails(self, src: Union[str, Path],
                              dst: Union[str, Path]) -> bool:
        """Petrel has no symbolic links: always copy ``src`` to ``dst``.

        Returns:
            bool: False (a copy was made).
        """
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
        """Yield directories and/or files under ``dir_path``, relative to
        it and joined with ``/``.

        Args:
            dir_path (str | Path): the directory (key prefix).
            list_dir (bool): yield directories. Defaults to True.
            list_file (bool): yield files. Defaults to True.
            suffix (str | tuple[str], optional): only yield files ending
                with it; only allowed with ``list_dir=False``.
            recursive (bool): descend into sub-directories.

        Raises:
            NotImplementedError: if the client has no ``list`` method.
            TypeError: on an invalid ``suffix``.
        """
        self._require('list')
        check_list_dir_args(list_dir, list_file, suffix)
        root = self._client_path(dir_path)
        if not root.endswith('/'):
            root += '/'

        def scan(path: str, rel_root: str) -> Iterator[str]:
            for entry in self._client.list(path):
                if entry.endswith('/'):  # the client marks dirs with '/'
                    name = entry[:-1]
                    rel_path = rel_root + name
                    if list_dir:
                        yield rel_path
                    if recursive:
                        yield from scan(path + entry, rel_path + '/')
                else:
                    rel_path = rel_root + entry
                    if list_file and (suffix is None
                                      or rel_path.endswith(suffix)):
                        yield rel_path

        return scan(root, '')

    def generate_presigned_url(self,
                               url: str,
                               client_method: str = 'get_object',
                               expires_in: int = 3600) -> str:
        """Return a presigned URL giving temporary access to ``url``.

        Args:
            url (str): the object's path.
            client_method (str): ``'get_object'`` or ``'put_object'``.
            expires_in (int): validity in seconds. Defaults to 3600.
        """
        self._require('generate_presigned_url')
        return self._client.generate_presigned_url(
            self._client_path(url), client_method, expires_in)
