"""Logging: ``MMLogger``, ``print_log``, ``HistoryBuffer``, ``MessageHub``.

``HistoryBuffer`` and ``MessageHub`` need numpy, so they are loaded on first
access (PEP 562); ``import mmengine.logging`` itself only needs the standard
library.
"""
import importlib
from typing import Any

from .logger import MMLogger, print_log

_LAZY = {
    'HistoryBuffer': 'mmengine.logging.history_buffer',
    'MessageHub': 'mmengine.logging.message_hub',
}

__all__ = ['MMLogger', 'print_log', 'HistoryBuffer', 'MessageHub']


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(
            f"module 'mmengine.logging' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
