"""``MMLogger`` (a named, rank-aware logger) and ``print_log``."""
import logging
import logging.handlers
import os
import os.path as osp
import socket
import sys
from typing import Any, Optional, Union

from mmengine.utils.manager import ManagerMixin

_STREAM_DATEFMT = '%m/%d %H:%M:%S'
_FILE_DATEFMT = '%Y/%m/%d %H:%M:%S'
_BASE_FMT = '%(asctime)s - %(name)s - %(levelname)s - %(message)s'
_ERROR_FMT = ('%(asctime)s - %(name)s - %(levelname)s - %(pathname)s - '
              '%(funcName)s - %(lineno)d - %(message)s')
_ANSI = {
    'DEBUG': '\033[32m',  # green
    'WARNING': '\033[33m',  # yellow
    'ERROR': '\033[31m',  # red
    'CRITICAL': '\033[1;31m',  # bold red
}
_ANSI_RESET = '\033[0m'

# Handler classes a ``file_handler_cfg`` may name by ``type``.
_FILE_HANDLERS = {
    'FileHandler': logging.FileHandler,
    'BaseRotatingHandler': logging.handlers.BaseRotatingHandler,
    'RotatingFileHandler': logging.handlers.RotatingFileHandler,
    'TimedRotatingFileHandler': logging.handlers.TimedRotatingFileHandler,
    'WatchedFileHandler': logging.handlers.WatchedFileHandler,
}


def _torch_dist() -> Any:
    """``torch.distributed`` if it is imported and initialised, else None.

    Never imports torch: if it is not imported yet, no process group can
    exist in this process.
    """
    dist = sys.modules.get('torch.distributed')
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    return dist


def _get_rank() -> int:
    """Rank of this process in the default group, 0 when not distributed."""
    dist = _torch_dist()
    return dist.get_rank() if dist is not None else 0


def _get_world_size() -> int:
    """Number of processes in the default group, 1 when not distributed."""
    dist = _torch_dist()
    return dist.get_world_size() if dist is not None else 1


def _get_host_info() -> str:
    """Host name, or '' if it cannot be determined."""
    try:
        return socket.gethostname()
    except OSError:
        return ''


def _get_device_id() -> int:
    """Index of the device this process uses, for per-rank log file names.

    ``LOCAL_RANK`` (default 0); with CUDA, mapped through
    ``CUDA_VISIBLE_DEVICES`` to the physical device index.
    """
    local_rank = int(os.getenv('LOCAL_RANK', '0'))
    # Only called while naming distributed log files, when torch is loaded.
    import torch
    if not torch.cuda.is_available():
        return local_rank
    visible = os.getenv('CUDA_VISIBLE_DEVICES')
    if visible is None:
        devices = list(range(torch.cuda.device_count()))
    else:
        devices = [d.strip() for d in visible.split(',') if d.strip()]
    if local_rank >= len(devices):
        return local_rank
    try:
        return int(devices[local_rank])
    except ValueError:  # e.g. GPU UUIDs in CUDA_VISIBLE_DEVICES
        return local_rank


def _check_level(level: Union[int, str], what: str = 'log_level') -> int:
    """Turn a level name or number into a number, with a clear error."""
    if isinstance(level, bool) or not isinstance(level, (int, str)):
        raise TypeError(f'{what} must be an int or a level name, but got '
                        f'{type(level).__name__}')
    if isinstance(level, str):
        number = logging.getLevelName(level.upper())
        if not isinstance(number, int):
            raise ValueError(
                f'Unknown {what} {level!r}; expected one of CRITICAL, ERROR, '
                'WARNING, INFO, DEBUG, NOTSET or an int')
        return number
    return level


class FilterDuplicateWarning(logging.Filter):
    """Drop a WARNING whose message this filter has already let through.

    Args:
        name (str): Name passed on to ``logging.Filter``. Defaults to
            'mmengine'.
    """

    def __init__(self, name: str = 'mmengine') -> None:
        super().__init__(name)
        self.seen: set = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING:
            return True
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


class MMFormatter(logging.Formatter):
    """Format ``<time> - <name> - <LEVEL> - <message>``.

    ERROR and CRITICAL records also show ``<pathname> - <funcName> -
    <lineno>``. With ``color=True`` the level name is coloured with ANSI
    codes, but only while the handler's stream is a terminal, so text piped
    to a file stays plain.

    Args:
        color (bool): Colour level names on a terminal. Defaults to False.
        datefmt (str, optional): ``strftime`` format of the time.
    """

    def __init__(self, color: bool = False,
                 datefmt: Optional[str] = None) -> None:
        super().__init__(_BASE_FMT, datefmt)
        self.color = color
        self._error_formatter = logging.Formatter(_ERROR_FMT, datefmt)

    def format(self, record: logging.LogRecord) -> str:
        formatter = self._error_formatter if record.levelno >= logging.ERROR \
            else super()
        code = _ANSI.get(record.levelname) if self.color and \
            _stdout_is_tty() else None
        if code is None:
            return formatter.format(record)
        levelname = record.levelname
        record.levelname = f'{code}{levelname}{_ANSI_RESET}'
        try:
            return formatter.format(record)
        finally:
            record.levelname = levelname


def _stdout_is_tty() -> bool:
    if os.environ.get('NO_COLOR'):
        return False
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


class _StdoutHandler(logging.StreamHandler):
    """A ``StreamHandler`` that always writes to the current ``sys.stdout``.

    Resolving the stream at each write keeps the logger usable after
    ``sys.stdout`` is redirected (pytest capture, ``contextlib.redirect_*``).
    """

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass  # the stream is always the current sys.stdout


def _build_file_handler(log_file: str, file_mode: str,
                        cfg: Optional[dict]) -> logging.Handler:
    cfg = dict(cfg) if cfg else {}
    handler_type = cfg.pop('type', 'FileHandler')
    if isinstance(handler_type, str):
        handler_cls = _FILE_HANDLERS.get(handler_type)
        if handler_cls is None:
            raise ValueError(
                f'Unknown file_handler_cfg type {handler_type!r}; expected '
                f'one of {sorted(_FILE_HANDLERS)} or a logging.Handler '
                'subclass')
    elif isinstance(handler_type, type) and issubclass(handler_type,
                                                       logging.Handler):
        handler_cls = handler_type
    else:
        raise TypeError('file_handler_cfg type must be a handler name or a '
                        f'logging.Handler subclass, got {handler_type!r}')
    if handler_cls is not logging.handlers.TimedRotatingFileHandler:
        # TimedRotatingFileHandler has no ``mode`` (it always appends).
        cfg.setdefault('mode', file_mode)
    return handler_cls(log_file, **cfg)


class MMLogger(logging.Logger, ManagerMixin):
    """A logger with a console handler and an optional file handler.

    Create or fetch one with :meth:`get_instance`; the most recently created
    one is :meth:`get_current_instance`. It does not propagate to the root
    logger, so third-party logging configuration does not change it.

    Console lines look like ``04/15 14:01:11 - mmengine - INFO - msg``;
    files get plain text with the year in the time. ERROR records also show
    the source path, function and line. A repeated identical WARNING is
    shown once.

    In a distributed run (``torch.distributed`` initialised), only rank 0
    prints below ERROR and writes ``log_file``. With ``distributed=True`` or
    ``log_level='DEBUG'`` every rank writes its own file,
    ``<stem>_<hostname>_device<id>_rank<rank><suffix>`` next to
    ``log_file``.

    Args:
        name (str): Instance name (the key for :meth:`get_instance`).
        logger_name (str): Name shown in every line. Defaults to 'mmengine'.
        log_file (str, optional): Path of the log file. Defaults to None.
        log_level (int or str): Level of the handlers. Defaults to 'INFO'.
        file_mode (str): Mode the log file is opened with. Defaults to 'w'.
        distributed (bool): Write one log file per rank. Defaults to False.
        file_handler_cfg (dict, optional): ``type`` (a ``logging`` /
            ``logging.handlers`` file handler name or class, default
            'FileHandler') and its extra arguments.
    """

    def __init__(self,
                 name: str,
                 logger_name: str = 'mmengine',
                 log_file: Optional[Union[str, os.PathLike]] = None,
                 log_level: Union[int, str] = 'INFO',
                 file_mode: str = 'w',
                 distributed: bool = False,
                 file_handler_cfg: Optional[dict] = None) -> None:
        if not isinstance(logger_name, str):
            raise TypeError('MMLogger: logger_name must be a str, but got '
                            f'{type(logger_name).__name__}: {logger_name!r}')
        if log_file is not None and not isinstance(log_file,
                                                   (str, os.PathLike)):
            raise TypeError('MMLogger: log_file must be a str, a path-like '
                            'object or None, but got '
                            f'{type(log_file).__name__}: {log_file!r}')
        logging.Logger.__init__(self, logger_name)
        ManagerMixin.__init__(self, name)
        self.propagate = False
        level = _check_level(log_level)
        if file_mode not in ('w', 'a'):
            raise ValueError(f"file_mode must be 'w' or 'a', got "
                             f'{file_mode!r}')
        if file_handler_cfg is not None and not isinstance(
                file_handler_cfg, dict):
            raise TypeError('file_handler_cfg must be a dict or None, got '
                            f'{type(file_handler_cfg).__name__}')

        rank = _get_rank()
        stream_handler = _StdoutHandler()
        stream_handler.setFormatter(
            MMFormatter(color=True, datefmt=_STREAM_DATEFMT))
        # Other ranks only print errors, so the console is not flooded.
        stream_handler.setLevel(level if rank == 0 else logging.ERROR)
        stream_handler.addFilter(FilterDuplicateWarning(logger_name))
        self.addHandler(stream_handler)

        if log_file is None:
            return
        log_file = os.fspath(log_file)
        per_rank = (distributed or level <= logging.DEBUG) and \
            _get_world_size() > 1
        if per_rank:
            stem, suffix = osp.splitext(osp.basename(log_file))
            host = _get_host_info()
            host = f'_{host}' if host else ''
            log_file = osp.join(
                osp.dirname(log_file),
                f'{stem}{host}_device{_get_device_id()}_rank{rank}{suffix}')
        if rank == 0 or per_rank:
            folder = osp.dirname(log_file)
            if folder:
                os.makedirs(folder, exist_ok=True)
            file_handler = _build_file_handler(log_file, file_mode,
                                               file_handler_cfg)
            file_handler.setFormatter(
                MMFormatter(color=False, datefmt=_FILE_DATEFMT))
            file_handler.setLevel(level)
            file_handler.addFilter(FilterDuplicateWarning(logger_name))
            self.addHandler(file_handler)
            self._log_file = log_file

    @property
    def log_file(self) -> Optional[str]:
        """str or None: path of the file this logger writes, if any."""
        return getattr(self, '_log_file', None)

    @classmethod
    def get_instance(  # type: ignore[override]
            cls,
            name: str,
            logger_name: str = 'mmengine',
            log_file: Optional[Union[str, os.PathLike]] = None,
            log_level: Union[int, str] = 'INFO',
            file_mode: str = 'w',
            distributed: bool = False,
            **kwargs) -> 'MMLogger':
        """Get the logger called ``name``, creating it on first use.

        The other arguments are used only when the logger is created; for
        an existing name, non-default values are ignored with a warning.
        """
        given = dict(
            logger_name=logger_name,
            log_file=log_file,
            log_level=log_level,
            file_mode=file_mode,
            distributed=distributed)
        defaults = dict(
            logger_name='mmengine',
            log_file=None,
            log_level='INFO',
            file_mode='w',
            distributed=False)
        kwargs.update(
            {k: v
             for k, v in given.items() if v != defaults[k]})
        return super().get_instance(name, **kwargs)

    @classmethod
    def get_current_instance(cls) -> 'MMLogger':
        """The most recently created logger; creates ``'mmengine'`` if none.
        """
        if not cls._instance_dict:
            cls.get_instance('mmengine')
        return super().get_current_instance()

    def setLevel(self, level: Union[int, str]) -> None:
        """Set this logger's own threshold (handlers keep their levels)."""
        self.level = _check_level(level, 'level')
        # MMLoggers are not registered in logging's manager, so its cache
        # clearing would miss them; clear their caches here.
        for logger in list(type(self)._instance_dict.values()):
            logger._cache.clear()
        self._cache.clear()

    def __reduce__(self):
        # logging.Logger pickles by looking up logging.getLogger(name), which
        # would return a different logger; fetch the MMLogger instead.
        return type(self).get_instance, (self.instance_name, )


def print_log(msg: Any,
              logger: Optional[Union[logging.Logger, str]] = None,
              level: Union[int, str] = logging.INFO) -> None:
    """Print ``msg`` with a logger, or with ``print``.

    Args:
        msg: The message.
        logger: Where to send it: None → ``print``; ``'silent'`` → nowhere;
            ``'current'`` → :meth:`MMLogger.get_current_instance`; a
            ``logging.Logger``; or the instance name of an existing
            :class:`MMLogger`.
        level (int or str): Logging level. Defaults to ``logging.INFO``.

    Raises:
        ValueError: if ``logger`` is a name of no existing MMLogger.
        TypeError: if ``logger`` is of another type.
    """
    if logger is None:
        print(msg)
        return
    if isinstance(logger, logging.Logger):
        # stacklevel=2: ERROR records name print_log's caller, not print_log.
        logger.log(_check_level(level, 'level'), msg, stacklevel=2)
        return
    if isinstance(logger, str):
        if logger == 'silent':
            return
        if logger == 'current':
            target = MMLogger.get_current_instance()
        elif MMLogger.check_instance_created(logger):
            target = MMLogger.get_instance(logger)
        else:
            raise ValueError(
                f'print_log: no MMLogger named {logger!r} has been created; '
                "use an existing name, 'current', 'silent', None or a "
                'logging.Logger')
        target.log(_check_level(level, 'level'), msg, stacklevel=2)
        return
    raise TypeError(
        "print_log: logger must be None, 'silent', 'current', an MMLogger "
        f'name or a logging.Logger, but got {type(logger).__name__}: '
        f'{logger!r}')
