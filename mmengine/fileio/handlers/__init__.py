"""File-format handlers used by :func:`mmengine.fileio.load`/``dump``."""
from .base import BaseFileHandler
from .json_handler import JsonHandler
from .pickle_handler import PickleHandler
from .registry_utils import file_handlers, register_handler
from .yaml_handler import YamlHandler

__all__ = [
    'BaseFileHandler', 'JsonHandler', 'PickleHandler', 'YamlHandler',
    'file_handlers', 'register_handler'
]
