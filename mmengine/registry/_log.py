"""Logging helpers for the registry (kept cheap: builds are a hot path)."""
import logging
from typing import Optional

_DEBUG = logging.DEBUG


_mmlogger = None  # mmengine.logging.MMLogger, imported on first use


def debug_logger() -> Optional[logging.Logger]:
    """Return the current MMLogger if a DEBUG record would reach a handler.

    Building happens thousands of times (datasets, transforms), so callers ask
    first and only format a debug message when someone will see it. The walk
    mirrors ``logging.Logger.callHandlers``: MMLogger filters by handler
    level, so the logger's own level alone does not decide.
    """
    global _mmlogger
    if _mmlogger is None:
        # Imported here: mmengine.logging sits beside the registry and is
        # not needed just to import ``mmengine.registry``.
        from mmengine.logging import MMLogger
        _mmlogger = MMLogger
    instances = _mmlogger._instance_dict
    # The newest instance is read directly (no lock): this runs on every
    # build. If another thread changes the dict meanwhile, take the lock.
    try:
        logger = instances[next(reversed(instances))]
    except (KeyError, RuntimeError, StopIteration):
        logger = _mmlogger.get_current_instance()
    if logger.disabled or not logger.isEnabledFor(_DEBUG):
        return None
    node = logger
    while node is not None:
        for handler in node.handlers:
            if handler.level <= _DEBUG:
                return logger
        if not node.propagate:
            break
        node = node.parent
    return None


def log(msg: str, level: int = logging.WARNING) -> None:
    """Log ``msg`` through the current MMLogger (``print_log`` 'current')."""
    from mmengine.logging import print_log
    print_log(msg, logger='current', level=level)
