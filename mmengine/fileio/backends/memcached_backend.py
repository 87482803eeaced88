"""Read-only storage backend backed by a Memcached cluster."""
import sys
from pathlib import Path
from typing import Optional, Union

from .base import BaseStorageBackend


class MemcachedBackend(BaseStorageBackend):
    """Memcached storage backend (uses the ``mc`` client of memcached).

    Args:
        server_list_cfg (str): config file listing the memcached servers.
        client_cfg (str): config file of the memcached client.
        sys_path (str, optional): extra directory put on ``sys.path`` to
            find the ``mc`` module. Defaults to None.

    Raises:
        ImportError: naming the ``mc`` package when it is not installed.
    """

    def __init__(self,
                 server_list_cfg: str,
                 client_cfg: str,
                 sys_path: Optional[str] = None):
        if sys_path is not None and sys_path not in sys.path:
            sys.path.append(sys_path)
        try:
            import mc
        except ImportError as e:
            raise ImportError(
                'MemcachedBackend needs the memcached python client "mc" '
                '(import name `mc`), which is not installed: install the '
                'memcached client that provides `mc`, or pass sys_path= with '
                'the directory that holds it') from e
        self._mc = mc
        self.server_list_cfg = server_list_cfg
        self.client_cfg = client_cfg
        self._client = mc.MemcachedClient.GetInstance(self.server_list_cfg,
                                                      self.client_cfg)
        # A reusable buffer the client fills on each Get.
        self._mc_buffer = mc.pyvector()

    def get(self, filepath: Union[str, Path]) -> bytes:
        """Return the bytes stored under ``filepath``."""
        self._client.Get(str(filepath), self._mc_buffer)
        return self._mc.ConvertBuffer(self._mc_buffer)

    def get_text(self, filepath, encoding=None):
        """Not supported: memcached values are raw bytes.

        Raises:
            NotImplementedError: always; use :meth:`get` and decode.
        """
        raise NotImplementedError(
            'MemcachedBackend stores raw bytes and has no get_text(); use '
            'get() and decode the result')
