"""Configuration files: :class:`Config`, :class:`ConfigDict`,
:class:`DictAction` and :func:`read_base` for pure-Python configs."""
from .config import Config
from .config_dict import ConfigDict
from .dict_action import DictAction
from .lazy_loader import read_base

__all__ = ['Config', 'ConfigDict', 'DictAction', 'read_base']
