"""Read-only storage backend for ``http://`` and ``https://`` URLs."""
import os
import os.path as osp
from contextlib import contextmanager
from typing import Generator, Optional

from .base import BaseStorageBackend, decode_text


def _open_url(url: str, timeout: Optional[float], method: str = 'GET'):
    """Open ``url`` and return the response; errors name the URL."""
    # urllib is imported lazily: it is only needed when a URL is read.
    from urllib.error import HTTPError, URLError
    from urllib.request import Request, urlopen
    try:
        return urlopen(Request(url, method=method), timeout=timeout)
    except HTTPError as e:
        if e.code == 404:
            raise FileNotFoundError(
                f'HTTP 404 Not Found: no file at {url!r}') from e
        raise OSError(
            f'HTTP {e.code} {e.reason} while requesting {url!r}') from e
    except URLError as e:
        raise OSError(f'cannot reach {url!r}: {e.reason}') from e


class HTTPBackend(BaseStorageBackend):
    """HTTP(S) storage backend (read-only), built on :mod:`urllib`.

    Args:
        timeout (float, optional): seconds to wait for the server before
            giving up. Defaults to 60.
    """

    def __init__(self, timeout: Optional[float] = 60):
        self.timeout = timeout

    def get(self, filepath: str) -> bytes:
        """Download ``filepath`` and return its bytes.

        Raises:
            FileNotFoundError: if the server answers 404.
            OSError: naming the URL on any other HTTP or network error.
        """
        with _open_url(filepath, self.timeout) as response:
            return response.read()

    def get_text(self, filepath: str, encoding: str = 'utf-8') -> str:
        """Download ``filepath`` and decode it with ``encoding``."""
        return decode_text(self.get(filepath), encoding, filepath)

    def exists(self, filepath: str) -> bool:
        """Whether the server has ``filepath`` (a ``HEAD`` request)."""
        try:
            with _open_url(filepath, self.timeout, method='HEAD'):
                return True
        except FileNotFoundError:
            return False

    def isfile(self, filepath: str) -> bool:
        """Same as :meth:`exists`: a URL names a file."""
        return self.exists(filepath)

    def join_path(self, filepath: str, *filepaths: str) -> str:
        """Join URL components with ``/``."""
        parts = [str(filepath).rstrip('/')]
        parts += [str(p).strip('/') for p in filepaths[:-1]]
        if filepaths:
            parts.append(str(filepaths[-1]).lstrip('/'))
        return '/'.join(parts)

    @contextmanager
    def get_local_path(self,
                       filepath: str) -> Generator[str, None, None]:
        """Download ``filepath`` to a temporary file and yield its path.

        The file keeps the URL's extension (so that loaders that infer a
        format from the suffix work) and is deleted when the ``with``
        block exits.

        Examples:
            >>> backend = HTTPBackend()
            >>> with backend.get_local_path('http://host/a.jpg') as path:
            ...     # do something with path
        """
        import shutil
        import tempfile
        suffix = osp.splitext(filepath.split('?', 1)[0])[1]
        with _open_url(filepath, self.timeout) as response:
            f = tempfile.NamedTemporaryFile(delete=False, suffix=suffix)
            try:
                shutil.copyfileobj(response, f)
            except BaseException:
                f.close()
                os.remove(f.name)
                raise
            f.close()
        try:
            yield f.name
        finally:
            os.remove(f.name)
