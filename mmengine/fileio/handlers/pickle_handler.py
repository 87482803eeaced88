"""Pickle file handler."""
import pickle
from pathlib import Path
from typing import Any, Union

from .base import BaseFileHandler, file_name_of


class PickleHandler(BaseFileHandler):
    """Handler for ``.pkl``/``.pickle`` files.

    Dumps use ``protocol=2`` unless another protocol is given. Note that
    unpickling runs arbitrary code: only load pickle files you trust.
    """

    str_like = False

    def load_from_fileobj(self, file, **kwargs) -> Any:
        """Unpickle an object from the binary ``file``.

        Raises:
            pickle.UnpicklingError: with the file name in the message.
        """
        try:
            return pickle.load(file, **kwargs)
        except (pickle.UnpicklingError, EOFError) as e:
            raise pickle.UnpicklingError(
                f'invalid pickle data in {file_name_of(file)}: {e}') from e

    def load_from_path(self, filepath: Union[str, Path], **kwargs) -> Any:
        """Open ``filepath`` in binary mode and unpickle it."""
        return super().load_from_path(filepath, mode='rb', **kwargs)

    def dump_to_str(self, obj: Any, **kwargs) -> bytes:
        """Return the pickled bytes of ``obj``."""
        kwargs.setdefault('protocol', 2)
        return pickle.dumps(obj, **kwargs)

    def dump_to_fileobj(self, obj: Any, file, **kwargs) -> None:
        """Pickle ``obj`` into the binary ``file``."""
        kwargs.setdefault('protocol', 2)
        pickle.dump(obj, file, **kwargs)

    def dump_to_path(self, obj: Any, filepath: Union[str, Path],
                     **kwargs) -> None:
        """Pickle ``obj`` into ``filepath`` (opened in binary mode)."""
        super().dump_to_path(obj, filepath, mode='wb', **kwargs)
