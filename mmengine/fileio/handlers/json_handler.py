"""JSON file handler."""
import json
import sys
from typing import Any

from .base import BaseFileHandler, file_name_of


def set_default(obj: Any) -> Any:
    """Convert what :mod:`json` cannot serialize into JSON-compatible data.

    Sets and ranges become lists, numpy arrays become (nested) lists and
    numpy scalars become Python numbers.

    Raises:
        TypeError: naming the type of any other object.
    """
    if isinstance(obj, (set, frozenset, range)):
        return list(obj)
    # Only look for numpy objects when numpy is imported at all: this keeps
    # numpy out of ``import mmengine.fileio``.
    np = sys.modules.get('numpy')
    if np is not None:
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, np.generic):
            return obj.item()
    raise TypeError(f'{type(obj)} is unsupported for json dump')


class JsonHandler(BaseFileHandler):
    """Handler for ``.json`` files (``json`` module).

    ``dump`` converts numpy scalars/arrays and sets with :func:`set_default`
    unless another ``default`` is passed.
    """

    def load_from_fileobj(self, file, **kwargs) -> Any:
        """Parse JSON from ``file``.

        Raises:
            json.JSONDecodeError: with the file name in the message.
        """
        try:
            return json.load(file, **kwargs)
        except json.JSONDecodeError as e:
            raise json.JSONDecodeError(
                f'invalid JSON in {file_name_of(file)}: {e.msg}', e.doc,
                e.pos) from None

    def dump_to_fileobj(self, obj: Any, file, **kwargs) -> None:
        """Write ``obj`` as JSON into ``file``."""
        kwargs.setdefault('default', set_default)
        json.dump(obj, file, **kwargs)

    def dump_to_str(self, obj: Any, **kwargs) -> str:
        """Return ``obj`` as a JSON string."""
        kwargs.setdefault('default', set_default)
        return json.dumps(obj, **kwargs)
