"""Read-only storage backend for an LMDB database."""
from pathlib import Path
from typing import Union

from .base import BaseStorageBackend


class LmdbBackend(BaseStorageBackend):
    """Lmdb storage backend: a "path" is a key of the database.

    The environment is opened on first use (not in ``__init__``) so that a
    backend built in the main process and copied into data loader workers
    opens its own handle in each worker.

    Args:
        db_path (str | Path): the LMDB directory (or file with
            ``subdir=False``).
        readonly (bool): open read-only. Defaults to True.
        lock (bool): use LMDB locks. Defaults to False.
        readahead (bool): let the OS read ahead. Defaults to False.
        **kwargs: other keyword arguments of ``lmdb.open``.

    Attributes:
        db_path (str): the database path.
    """

    def __init__(self,
                 db_path: Union[str, Path],
                 readonly: bool = True,
                 lock: bool = False,
                 readahead: bool = False,
                 **kwargs):
        try:
            import lmdb  # noqa: F401
        except ImportError as e:
            raise ImportError(
                'LmdbBackend needs the "lmdb" package: pip install lmdb '
                "(or pip install 'mmengine[lmdb]')") from e
        self.db_path = str(db_path)
        self.readonly = readonly
        self.lock = lock
        self.readahead = readahead
        self.kwargs = kwargs
        self._client = None

    def _get_client(self):
        if self._client is None:
            import lmdb
            self._client = lmdb.open(
                self.db_path,
                readonly=self.readonly,
                lock=self.lock,
                readahead=self.readahead,
                **self.kwargs)
        return self._client

    def get(self, filepath: Union[str, Path]) -> bytes:
        """Return the value stored under the key ``filepath``.

        Raises:
            KeyError: naming the key and the database when it is absent.
        """
        key = str(filepath)
        with self._get_client().begin(write=False) as txn:
            value = txn.get(key.encode('utf-8'))
        if value is None:
            raise KeyError(f'key {key!r} not found in LMDB {self.db_path!r}')
        return bytes(value)

    def get_text(self, filepath, encoding=None):
        """Not supported: LMDB values are raw bytes.

        Raises:
            NotImplementedError: always; use :meth:`get` and decode.
        """
        raise NotImplementedError(
            'LmdbBackend stores raw bytes and has no get_text(); use get() '
            'and decode the result')

    def __getstate__(self):
        # An open lmdb.Environment cannot be pickled (e.g. into workers).
        state = self.__dict__.copy()
        state['_client'] = None
        return state
