"""Reading and writing checkpoints.

Checkpoints written here are pickle-free: they hold only tensors and plain
Python types, so they load with ``torch.load(weights_only=True)``, which
cannot run code from the file. :func:`save_checkpoint` refuses anything else
and writes local files atomically (temp file + fsync + rename), optionally
on a background thread (``async_save=True``). Loading goes through
:class:`CheckpointLoader`, which picks a loader from the path's scheme
(local path, ``http(s)://``, ``s3://``/``petrel://``, ``torchvision://``,
``open-mmlab://``) and refuses files that need pickle unless the caller
passes ``allow_pickle=True``.
"""
import io
import logging
import os
import os.path as osp
import re
import threading
from collections import OrderedDict
from typing import Any, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmengine.dist import get_dist_info
from mmengine.fileio import FileClient, LocalBackend, get_file_backend
from mmengine.fileio.backends.local_backend import atomic_write_with
from mmengine.logging import print_log

from .async_checkpoint import (AsyncCheckpointSave, submit_async_save,
                               wait_async_saves)
from .checkpoint_loader import CheckpointLoader

__all__ = [
    'AsyncCheckpointSave', 'CheckpointLoader', 'check_pickle_free',
    'find_latest_checkpoint', 'get_state_dict', 'load_checkpoint',
    'load_state_dict', 'save_checkpoint', 'wait_async_saves',
    'weights_to_cpu'
]

PathLike = Union[str, os.PathLike]

# Types torch.load(weights_only=True) rebuilds without running pickle code.
# Exact types: subclasses (IntEnum, numpy.float64, namedtuple, ConfigDict)
# would need pickle.
_PLAIN_TYPES = frozenset({
    str, int, float, bool, complex, bytes, bytearray, type(None),
    torch.Size, torch.dtype, torch.device
})
_CONTAINERS = (dict, OrderedDict, list, tuple, set)


# ---------------------------------------------------------------------------
# pickle-free check
def check_pickle_free(obj: Any, name: str = 'checkpoint') -> None:
    """Check that ``obj`` holds only tensors and plain Python types.

    Allowed: tensors, ``str``, ``int``, ``float``, ``bool``, ``complex``,
    ``bytes``, ``None``, ``torch.Size``/``dtype``/``device`` and ``dict``,
    ``OrderedDict``, ``list``, ``tuple``, ``set`` of those — exactly what
    ``torch.load(weights_only=True)`` can rebuild.

    Args:
        obj: the object to check (usually the checkpoint dict).
        name (str): how to name ``obj`` in the error message.

    Raises:
        TypeError: naming the key path (e.g. ``meta.cfg``) and the type of
            the first offending value.
    """
    seen = set()
    # Explicit stack: deep nesting must not hit the recursion limit.
    stack: List[Tuple[Any, str]] = [(obj, '')]
    while stack:
        value, path = stack.pop()
        cls = type(value)
        if cls in _PLAIN_TYPES or isinstance(value, torch.Tensor):
            continue
        if cls in _CONTAINERS:
            if id(value) in seen:
                continue
            seen.add(id(value))
            if cls is dict or cls is OrderedDict:
                for key, item in value.items():
                    if type(key) not in _PLAIN_TYPES:
                        _raise_not_plain(name, f'{path} (a key)', key)
                    stack.append((item, f'{path}.{key}' if path else
                                  str(key)))
            else:
                for i, item in enumerate(value):
                    stack.append((item, f'{path}[{i}]'))
            continue
        _raise_not_plain(name, path, value)


def _raise_not_plain(name: str, path: str, value: Any) -> None:
    cls = type(value)
    where = f'{name}[{path!r}]' if path else name
    hint = ''
    if cls.__module__ == 'numpy':
        hint = ' (convert numpy values with .tolist() or torch.from_numpy)'
    elif isinstance(value, dict):
        hint = ' (convert it to a plain dict)'
    raise TypeError(
        f'{where} is a {cls.__module__}.{cls.__qualname__}, which is not '
        'allowed in a checkpoint: checkpoints must hold only tensors and '
        'plain Python types (str, int, float, bool, None, list, tuple, dict) '
        f'so that they load with torch.load(weights_only=True){hint}.')


# ---------------------------------------------------------------------------
# saving
class _WriteBehindFile:
    """Write-only file wrapper that flushes to disk while data still comes.

    Every ``_CHUNK`` bytes it starts an ``fdatasync`` on a helper thread,
    so the disk writes overlap the serialization instead of all waiting
    for the final ``fsync`` (which then only has the tail left).
    """

    _CHUNK = 32 << 20
    _datasync = getattr(os, 'fdatasync', os.fsync)

    def __init__(self, f: Any) -> None:
        self._f = f
        self._fd = f.fileno()
        self._unsynced = 0
        self._thread: Optional[threading.Thread] = None
        self._error: Optional[OSError] = None

    def write(self, data: Any) -> int:
        written = self._f.write(data)
        self._unsynced += written
        if self._unsynced >= self._CHUNK and (
                self._thread is None or not self._thread.is_alive()):
            self._f.flush()
            self._unsynced = 0
            self._thread = threading.Thread(
                target=self._sync, name='mmengine-fsync', daemon=True)
            self._thread.start()
        return written

    def _sync(self) -> None:
        try:
            self._datasync(self._fd)
        except OSError as e:  # reported by finish()
            self._error = e

    def flush(self) -> None:
        self._f.flush()

    def finish(self) -> None:
        """Flush and fsync everything; raise a helper thread's error."""
        if self._thread is not None:
            self._thread.join()
        self._f.flush()
        os.fsync(self._fd)
        if self._error is not None:
            raise self._error


def _atomic_torch_save(obj: Any, filepath: str) -> None:
    """``torch.save`` to a temp file beside ``filepath``, fsync, rename.

    Streams straight into the temp file (no in-memory copy of the bytes).
    """

    def write(f: Any) -> None:
        writer = _WriteBehindFile(f)
        torch.save(obj, writer)
        writer.finish()

    atomic_write_with(osp.expanduser(filepath), write)


def _resolve_backend(filename: PathLike, file_client_args: Optional[dict],
                     backend_args: Optional[dict]) -> Any:
    """The storage backend for ``filename``, or None for a local path."""
    if file_client_args is not None:
        if backend_args is not None:
            raise ValueError(
                '"file_client_args" and "backend_args" cannot be set at the '
                'same time; "file_client_args" is deprecated, use '
                '"backend_args"')
        print_log(
            '"file_client_args" is deprecated and will be removed; use '
            '"backend_args" instead', logger='current', level=logging.WARNING)
        backend = FileClient.infer_client(file_client_args, filename).client
    elif backend_args is None and '://' not in os.fspath(filename):
        return None  # fast path: plain local file
    else:
        backend = get_file_backend(filename, backend_args=backend_args)
    return None if isinstance(backend, LocalBackend) else backend


def _write(checkpoint: dict, filename: PathLike, backend: Any) -> None:
    if backend is None:
        _atomic_torch_save(checkpoint, os.fspath(filename))
    else:
        with io.BytesIO() as buffer:
            torch.save(checkpoint, buffer)
            backend.put(buffer.getvalue(), filename)


# ---------------------------------------------------------------------------
# saving (async writes: see async_checkpoint.py)

def save_checkpoint(checkpoint: dict,
                    filename: PathLike,
                    file_client_args: Optional[dict] = None,
                    backend_args: Optional[dict] = None,
                    async_save: bool = False
                    ) -> Optional[AsyncCheckpointSave]:
    """Save a checkpoint dict to a local path or a storage backend.

    ``checkpoint`` must be pickle-free (see :func:`check_pickle_free`).
    Local files are written atomically: a crash leaves either the old file
    or the complete new one. Other paths (``s3://...``, or any path with
    ``backend_args``) go through :mod:`mmengine.fileio`.

    With ``async_save=True`` the call only copies the tensors to CPU memory
    (CUDA tensors: enqueues the copies into pinned memory) and returns an
    :class:`AsyncCheckpointSave`; a background thread writes the file (saves
    run one at a time, in call order; at most two are pending, a third call
    waits for the oldest). Call ``.wait()`` on the handle, or
    :func:`wait_async_saves`, to block until the write ends and re-raise its
    error. Pending writes also finish before the interpreter exits. The
    host buffers of a finished save are kept and reused by the next one
    (``wait_async_saves(free_buffers=True)`` frees them).

    Args:
        checkpoint (dict): the checkpoint to save.
        filename (str | PathLike): destination path or URI.
        file_client_args (dict, optional): deprecated, use
            ``backend_args``.
        backend_args (dict, optional): arguments of the storage backend.
        async_save (bool): write on a background thread. Defaults to False.

    Returns:
        AsyncCheckpointSave | None: the handle when ``async_save`` is True.

    Raises:
        TypeError: if ``checkpoint`` is not a dict or holds a value that is
            not a tensor or plain Python type (the key path is named).
        ValueError: if both ``file_client_args`` and ``backend_args`` are
            given, or the destination is read-only (``http://``).
    """
    if not isinstance(checkpoint, dict):
        raise TypeError('save_checkpoint expects the checkpoint as a dict, '
                        f'but got {type(checkpoint).__name__}')
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError('save_checkpoint: filename must be a str or PathLike,'
                        f' but got {type(filename).__name__}')
    check_pickle_free(checkpoint)
    backend = _resolve_backend(filename, file_client_args, backend_args)
    if backend is not None and not callable(getattr(backend, 'put', None)):
        raise ValueError(
            f'cannot save a checkpoint to {os.fspath(filename)!r}: its '
            f'storage backend {type(backend).__name__} is read-only (e.g. '
            'http(s):// URLs); save to a local path or a writable backend')
    if not async_save:
        _write(checkpoint, filename, backend)
        return None
    return submit_async_save(checkpoint, filename, backend, _write)


# ---------------------------------------------------------------------------
# loading (schemes: see checkpoint_loader.py)
def _load_checkpoint(filename: PathLike,
                     map_location: Any = None,
                     logger: Any = None,
                     allow_pickle: bool = False) -> Any:
    """Load a checkpoint from any supported path (see
    :class:`CheckpointLoader`) without putting it into a model."""
    return CheckpointLoader.load_checkpoint(filename, map_location, logger,
                                            allow_pickle)


def _load_checkpoint_to_model(model: nn.Module,
                              checkpoint: Any,
                              strict: bool = False,
                              logger: Any = None,
                              revise_keys: Sequence[Tuple[str, str]] = (
                                  (r'^module\.', ''), )) -> Any:
    """Load the weights of a loaded checkpoint into ``model``.

    The weights are ``checkpoint['state_dict']`` when present, else the
    checkpoint itself. Each ``(pattern, replacement)`` of ``revise_keys`` is
    applied to every key with :func:`re.sub` (by default a DDP ``module.``
    prefix is removed).

    Returns:
        The checkpoint.
    """
    if not isinstance(checkpoint, dict):
        raise TypeError('a checkpoint must be a dict (a state dict or a dict '
                        f"with 'state_dict'), but got "
                        f'{type(checkpoint).__name__}')
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        raise TypeError("checkpoint['state_dict'] must be a dict, but got "
                        f'{type(state_dict).__name__}')
    metadata = getattr(state_dict, '_metadata', OrderedDict())
    for pattern, replacement in _check_revise_keys(revise_keys):
        regex = re.compile(pattern)
        state_dict = OrderedDict(
            (regex.sub(replacement, k), v) for k, v in state_dict.items())
    state_dict._metadata = metadata  # type: ignore[attr-defined]
    load_state_dict(model, state_dict, strict, logger)
    return checkpoint


def _check_revise_keys(
        revise_keys: Sequence[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """Validate ``revise_keys``: a list of ``(regex, replacement)`` pairs."""
    expected = ("revise_keys must be a list of (pattern, replacement) "
                "string pairs, e.g. [(r'^module\\.', '')]")
    if isinstance(revise_keys, (str, bytes)) or not isinstance(
            revise_keys, (list, tuple)):
        raise TypeError(f'{expected}, but got {revise_keys!r}')
    pairs = []
    for item in revise_keys:
        if not (isinstance(item, (list, tuple)) and len(item) == 2
                and all(isinstance(x, str) for x in item)):
            hint = (' (a single pair must be wrapped in a list)'
                    if isinstance(item, str) else '')
            raise TypeError(f'{expected}, but got the item {item!r}{hint}')
        try:
            re.compile(item[0])
        except re.error as e:
            raise ValueError(f'revise_keys: {item[0]!r} is not a valid '
                             f'regular expression ({e})') from e
        pairs.append((item[0], item[1]))
    return pairs


def load_checkpoint(model: Union[nn.Module, PathLike],
                    filename: Optional[PathLike] = None,
                    map_location: Any = None,
                    strict: bool = False,
                    logger: Any = None,
                    revise_keys: Sequence[Tuple[str, str]] = (
                        (r'^module\.', ''), ),
                    allow_pickle: bool = False) -> Any:
    """Load a checkpoint into a model, or just load it.

    Two forms (see the spec's decision on ``load_checkpoint``):

    * ``load_checkpoint(model, filename, ...)`` loads the weights into
      ``model`` and returns the checkpoint;
    * ``load_checkpoint(filename)`` returns the loaded checkpoint.

    Args:
        model (nn.Module | str | PathLike): the model, or the filename in
            the one-argument form.
        filename (str | PathLike, optional): local path or URI.
        map_location: passed to ``torch.load``.
        strict (bool): raise if keys or shapes differ. Defaults to False
            (differences are logged as a warning).
        logger: logger for messages (see ``print_log``); None → current.
        revise_keys (sequence of (str, str)): regex substitutions applied
            to the weight names.
        allow_pickle (bool): allow files that need arbitrary pickle (only
            from a trusted source). Defaults to False.

    Returns:
        The loaded checkpoint.
    """
    if filename is None:
        if isinstance(model, (str, os.PathLike)):
            return _load_checkpoint(model, map_location, logger, allow_pickle)
        raise TypeError('load_checkpoint(model, filename): filename is '
                        'missing (or call load_checkpoint(filename) to only '
                        'load the file)')
    if not isinstance(model, nn.Module):
        raise TypeError('load_checkpoint: model must be an nn.Module, but '
                        f'got {type(model).__name__}')
    _check_revise_keys(revise_keys)  # before a possibly long load
    checkpoint = _load_checkpoint(filename, map_location, logger,
                                  allow_pickle)
    return _load_checkpoint_to_model(model, checkpoint, strict, logger,
                                     revise_keys)


def _is_model_wrapper(module: nn.Module) -> bool:
    from mmengine.model import is_model_wrapper
    return is_model_wrapper(module)


def load_state_dict(module: nn.Module,
                    state_dict: dict,
                    strict: bool = False,
                    logger: Any = None) -> None:
    """Load ``state_dict`` into ``module``, reporting what does not fit.

    Unlike ``nn.Module.load_state_dict`` a shape mismatch does not stop the
    load (the other weights are loaded) unless ``strict`` is True. Model
    wrappers (DDP, ...) are unwrapped at every level. Missing
    ``num_batches_tracked`` buffers are not reported.

    Raises:
        RuntimeError: if ``strict`` and keys are missing, unexpected or have
            the wrong shape (all of them are listed).
    """
    if not isinstance(module, nn.Module):
        raise TypeError('load_state_dict: module must be an nn.Module, but '
                        f'got {type(module).__name__}')
    if not isinstance(state_dict, dict):
        raise TypeError('load_state_dict: state_dict must be a dict, but got'
                        f' {type(state_dict).__name__}')
    missing: List[str] = []
    unexpected: List[str] = []
    errors: List[str] = []
    metadata = getattr(state_dict, '_metadata', None)

    def load(mod: nn.Module, local_state: dict, prefix: str = '') -> None:
        if _is_model_wrapper(mod):
            mod = mod.module
        local_metadata = {} if metadata is None else metadata.get(
            prefix[:-1], {})
        mod._load_from_state_dict(local_state, prefix, local_metadata, True,
                                  missing, unexpected, errors)
        for name, child in mod._modules.items():
            if child is not None:
                child_prefix = f'{prefix}{name}.'
                load(child, {
                    k: v
                    for k, v in local_state.items()
                    if k.startswith(child_prefix)
                }, child_prefix)
        if mod._load_state_dict_post_hooks:
            from torch.nn.modules.module import _IncompatibleKeys
            incompatible = _IncompatibleKeys(missing, unexpected)
            for hook in mod._load_state_dict_post_hooks.values():
                hook(mod, incompatible)

    load(module, dict(state_dict))
    missing = [k for k in missing if 'num_batches_tracked' not in k]
    messages = []
    if unexpected:
        messages.append('unexpected key in source state_dict: '
                        f'{", ".join(unexpected)}\n')
    if missing:
        messages.append('missing keys in source state_dict: '
                        f'{", ".join(missing)}\n')
    messages.extend(errors)
    if not messages:
        return
    message = '\n'.join(
        ['The model and loaded state dict do not match exactly\n'] +
        messages)
    if strict:
        raise RuntimeError(message)
    if get_dist_info()[0] == 0:
        print_log(
            message,
            logger=logger if logger is not None else 'current',
            level=logging.WARNING)


def get_state_dict(module: nn.Module,
                   destination: Optional[dict] = None,
                   prefix: str = '',
                   keep_vars: bool = False) -> dict:
    """``module.state_dict()`` with model wrappers (DDP, ...) removed at
    every level, so keys carry no ``module.`` parts added by wrapping."""
    if _is_model_wrapper(module):
        module = module.module
    if not any(_is_model_wrapper(m) for m in module.modules()):
        # No nested wrapper: torch's own implementation (with its hooks).
        return module.state_dict(
            destination=destination, prefix=prefix, keep_vars=keep_vars)
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()  # type: ignore[attr-defined]
    local_metadata = dict(version=module._version)
    if hasattr(destination, '_metadata'):
        destination._metadata[prefix[:-1]] = local_metadata
    module._save_to_state_dict(destination, prefix, keep_vars)
    for name, child in module._modules.items():
        if child is not None:
            get_state_dict(child, destination, f'{prefix}{name}.', keep_vars)
    for hook in module._state_dict_hooks.values():
        result = hook(module, destination, prefix, local_metadata)
        if result is not None:
            destination = result
    return destination


def weights_to_cpu(state_dict: dict) -> dict:
    """A copy of ``state_dict`` with every tensor (at any depth) moved to
    CPU; ``_metadata`` is kept."""

    def to_cpu(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return value.cpu()
        if isinstance(value, dict):
            out = type(value)() if type(value) in (dict, OrderedDict) \
                else OrderedDict()
            for k, v in value.items():
                out[k] = to_cpu(v)
            if hasattr(value, '_metadata'):
                out._metadata = value._metadata  # type: ignore
            return out
        if isinstance(value, list):
            return [to_cpu(v) for v in value]
        if isinstance(value, tuple) and type(value) is tuple:
            return tuple(to_cpu(v) for v in value)
        return value

    result = to_cpu(state_dict)
    if not hasattr(result, '_metadata'):
        result._metadata = getattr(state_dict, '_metadata', OrderedDict())
    return result


_CKPT_NUMBER = re.compile(r'(?:epoch|iter)_(\d+)\.pth$')


def find_latest_checkpoint(path: PathLike) -> Optional[str]:
    """Find the latest checkpoint in the local folder ``path``.

    Reads the ``last_checkpoint`` marker written by ``CheckpointHook``. If
    it is missing, or names a file that no longer exists, falls back to the
    ``epoch_<n>.pth``/``iter_<n>.pth`` with the largest ``n`` (then to the
    newest ``*.pth``).

    Returns:
        str | None: the checkpoint path, or None if there is none.
    """
    path = os.fspath(path)
    marker = osp.join(path, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker, encoding='utf-8') as f:
            last_saved = f.read().strip()
        if last_saved:
            if osp.isfile(last_saved) or '://' in last_saved:
                return last_saved
            beside = osp.join(path, osp.basename(last_saved))
            if osp.isfile(beside):  # work dir moved since it was written
                return beside
            print_log(
                f'{marker} names {last_saved}, which does not exist; using '
                'the newest checkpoint in the folder instead',
                logger='current', level=logging.WARNING)
    candidates = []
    if osp.isdir(path):
        for name in os.listdir(path):
            full = osp.join(path, name)
            if name.endswith('.pth') and osp.isfile(full):
                match = _CKPT_NUMBER.search(name)
                number = int(match.group(1)) if match else -1
                candidates.append((number, osp.getmtime(full), full))
    if not candidates:
        print_log('Did not find last_checkpoint to be resumed.',
                  logger='current')
        return None
    return max(candidates)[2]
