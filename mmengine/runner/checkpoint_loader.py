"""Loading checkpoints from local paths and URIs, pickle-free by default.

:class:`CheckpointLoader` picks a loader from the path's prefix (local
path, ``http(s)://``, ``s3://``/``petrel://``, ``torchvision://``,
``open-mmlab://``; more can be registered). Every loader reads with
``torch.load(weights_only=True)`` unless the caller passes
``allow_pickle=True``.
"""
import io
import os
import os.path as osp
import pickle
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional, Sequence, Union

import torch

from mmengine.dist import barrier, get_dist_info
from mmengine.fileio import get_file_backend
from mmengine.fileio.backends.local_backend import atomic_write
from mmengine.logging import print_log

__all__ = [
    'CheckpointLoader', 'load_from_ceph', 'load_from_http',
    'load_from_local', 'load_from_openmmlab', 'load_from_torchvision'
]

PathLike = Union[str, os.PathLike]

def _weights_only_failure(error: Exception) -> str:
    """The useful part of torch's ``weights_only`` error message."""
    text = str(error)
    marker = 'WeightsUnpickler error:'
    if marker in text:
        text = text.split(marker, 1)[1]
    text = text.split('Check the documentation of torch.load')[0]
    return ' '.join(text.split())[:300]


def _torch_load(f: Any, map_location: Any, allow_pickle: bool,
                source: str) -> Any:
    try:
        return torch.load(
            f, map_location=map_location, weights_only=not allow_pickle)
    except pickle.UnpicklingError as e:
        if allow_pickle:
            raise
        reason = _weights_only_failure(e)
        if 'Unsupported global' in reason or 'Unsupported class' in reason:
            what = ('it holds arbitrary Python objects, and loading them '
                    'can run code from the file')
        else:
            what = ('it is corrupted, not a torch.save file, or holds '
                    'Python objects that need pickle')
        raise pickle.UnpicklingError(
            f'The checkpoint {source} cannot be loaded without pickle, so it '
            f'was refused: {what} (torch.load(weights_only=True) failed: '
            f'{reason}). Checkpoints saved by mmengine never need pickle. '
            'Only if you trust its source, pass allow_pickle=True (e.g. '
            'load_checkpoint(model, filename, allow_pickle=True) or '
            '_load_checkpoint(filename, allow_pickle=True)).') from e
    except OSError:
        raise  # names the path already (missing file, permissions, ...)
    except Exception as e:
        # torch.load reports a torn or foreign file as a bare EOFError,
        # KeyError, ... : say which file and what is likely wrong.
        detail = f'{type(e).__name__}: {e}'.strip().rstrip(':')
        raise RuntimeError(
            f'Failed to load the checkpoint {source} ({detail[:500]}); is '
            'the file complete and written by torch.save?') from e


class CheckpointLoader:
    """Loads checkpoints from a path, choosing a loader by its scheme.

    Loaders are registered by prefix with :meth:`register_scheme`; the
    longest matching prefix wins and a path without a registered prefix is
    read from the local disk. Each loader is called as
    ``loader(filename, map_location, allow_pickle=...)``.
    """

    _schemes: Dict[str, Callable] = OrderedDict()

    @classmethod
    def _register(cls, prefixes: Union[str, Sequence[str]],
                  loader: Callable, force: bool = False) -> None:
        if isinstance(prefixes, str):
            prefixes = [prefixes]
        if not callable(loader):
            raise TypeError(f'checkpoint loader must be callable, but got '
                            f'{type(loader).__name__}')
        for prefix in prefixes:
            if not isinstance(prefix, str):
                raise TypeError('scheme prefixes must be str, but got '
                                f'{type(prefix).__name__}')
            if prefix in cls._schemes and not force:
                raise KeyError(
                    f'{prefix!r} is already registered as a checkpoint '
                    'loader scheme; pass force=True to override it')
            cls._schemes[prefix] = loader
        # Longest prefix first, so 'https://' wins over 'http'-like ones.
        cls._schemes = OrderedDict(
            sorted(cls._schemes.items(), key=lambda kv: -len(kv[0])))

    @classmethod
    def register_scheme(cls,
                        prefixes: Union[str, Sequence[str]],
                        loader: Optional[Callable] = None,
                        force: bool = False) -> Callable:
        """Register ``loader`` for paths starting with ``prefixes``.

        Usable directly or as a decorator::

            @CheckpointLoader.register_scheme(prefixes='my://')
            def load_from_mine(filename, map_location, allow_pickle=False):
                ...

        Raises:
            KeyError: if a prefix is taken and ``force`` is False.
        """
        if loader is not None:
            cls._register(prefixes, loader, force)
            return loader

        def _register(loader_fn: Callable) -> Callable:
            cls._register(prefixes, loader_fn, force)
            return loader_fn

        return _register

    @classmethod
    def _get_checkpoint_loader(cls, path: str) -> Callable:
        for prefix, loader in cls._schemes.items():
            if prefix and path.startswith(prefix):
                return loader
        return cls._schemes.get('', load_from_local)

    @classmethod
    def load_checkpoint(cls,
                        filename: PathLike,
                        map_location: Any = None,
                        logger: Any = 'current',
                        allow_pickle: bool = False) -> Any:
        """Load a checkpoint with the loader registered for its scheme.

        Args:
            filename (str | PathLike): local path or URI.
            map_location: passed to ``torch.load``.
            logger: where to log which loader is used (see ``print_log``).
            allow_pickle (bool): allow files that need arbitrary pickle.
                Only for files from a trusted source. Defaults to False.

        Returns:
            The loaded object (usually a dict).
        """
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError('checkpoint filename must be a str or PathLike, '
                            f'but got {type(filename).__name__}')
        filename = os.fspath(filename)
        loader = cls._get_checkpoint_loader(filename)
        name = getattr(loader, '__name__', type(loader).__name__)
        if name.startswith('load_from_'):
            name = name[len('load_from_'):]
        print_log(
            f'Loads checkpoint by {name} backend from path: {filename}',
            logger=logger if logger is not None else 'current')
        return loader(filename, map_location, allow_pickle=allow_pickle)


@CheckpointLoader.register_scheme(prefixes='')
def load_from_local(filename: str,
                    map_location: Any = None,
                    allow_pickle: bool = False) -> Any:
    """Load a checkpoint from the local disk (``~`` is expanded)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        if osp.isdir(filename):
            raise IsADirectoryError(
                f'{filename} is a directory, not a checkpoint file (to '
                'resume from the latest checkpoint in a work_dir, use '
                'find_latest_checkpoint or resume=True)')
        hint = ''
        if '://' in filename:
            schemes = sorted(p for p in CheckpointLoader._schemes if p)
            hint = (f' (no checkpoint loader is registered for its scheme; '
                    f'known prefixes: {schemes}. Register one with '
                    'CheckpointLoader.register_scheme)')
        raise FileNotFoundError(f'{filename} can not be found.{hint}')
    if osp.getsize(filename) == 0:
        raise RuntimeError(
            f'Failed to load the checkpoint {filename!r}: the file is empty '
            '(0 bytes), e.g. left by an interrupted copy')
    return _torch_load(filename, map_location, allow_pickle, repr(filename))


@CheckpointLoader.register_scheme(prefixes=('http://', 'https://'))
def load_from_http(filename: str,
                   map_location: Any = None,
                   allow_pickle: bool = False,
                   model_dir: Optional[str] = None) -> Any:
    """Download a checkpoint once (cached in ``model_dir``) and load it.

    The cache defaults to ``<torch hub dir>/checkpoints``. In distributed
    runs rank 0 downloads while the other ranks wait for it.
    """
    from urllib.parse import urlparse
    if model_dir is None:
        import torch.hub
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    name = osp.basename(urlparse(filename).path) or 'checkpoint.pth'
    cached = osp.join(model_dir, name)
    rank, world_size = get_dist_info()
    error: Optional[BaseException] = None
    if rank == 0 and not osp.isfile(cached):
        print_log(f'http loads checkpoint from path: {filename}',
                  logger='current')
        try:
            data = get_file_backend(filename).get(filename)
            atomic_write(data, cached)
        except BaseException as e:  # other ranks must still pass barrier
            error = e
    if world_size > 1:
        barrier()
    if error is not None:
        raise error
    if not osp.isfile(cached):
        raise FileNotFoundError(
            f'{filename} was not downloaded to {cached} (rank 0 failed to '
            'download it; see its log)')
    # Name the cached copy too: a bad one must be deleted to re-download.
    return _torch_load(cached, map_location, allow_pickle,
                       f'{filename!r} (cached at {cached!r})')


@CheckpointLoader.register_scheme(prefixes=('s3://', 'petrel://'))
def load_from_ceph(filename: str,
                   map_location: Any = None,
                   allow_pickle: bool = False,
                   backend_args: Optional[dict] = None) -> Any:
    """Load a checkpoint through an object-storage backend of fileio."""
    data = get_file_backend(filename, backend_args=backend_args).get(filename)
    with io.BytesIO(data) as buffer:
        return _torch_load(buffer, map_location, allow_pickle,
                           repr(filename))


@CheckpointLoader.register_scheme(prefixes='torchvision://')
def load_from_torchvision(filename: str,
                          map_location: Any = None,
                          allow_pickle: bool = False) -> Any:
    """Load ``torchvision://<model>`` (e.g. ``torchvision://resnet50``) or
    ``torchvision://<Weights>.<NAME>`` through torchvision's model zoo.

    Needs the optional ``torchvision`` package and network access.
    """
    name = filename[len('torchvision://'):]
    try:
        import torchvision.models as tv_models
    except ImportError as e:
        raise ImportError(
            f'{filename}: torchvision:// checkpoints are looked up in '
            "torchvision's model zoo; install it with `pip install "
            'torchvision` or pass the checkpoint URL instead') from e
    try:
        weights = (tv_models.get_weight(name) if '.' in name else
                   tv_models.get_model_weights(name).DEFAULT)
    except (KeyError, ValueError, AttributeError) as e:
        raise ValueError(f'{filename}: {name!r} is not a torchvision model '
                         f'or weights name ({e})') from e
    return load_from_http(weights.url, map_location, allow_pickle)


def _mmengine_home() -> str:
    return osp.expanduser(
        os.getenv('MMENGINE_HOME',
                  osp.join(os.getenv('XDG_CACHE_HOME', '~/.cache'),
                           'mmengine')))


@CheckpointLoader.register_scheme(prefixes=('open-mmlab://', 'openmmlab://'))
def load_from_openmmlab(filename: str,
                        map_location: Any = None,
                        allow_pickle: bool = False) -> Any:
    """Load ``open-mmlab://<name>`` via a name → URL index.

    The index is the JSON file ``$MMENGINE_HOME/open_mmlab.json`` (default
    ``~/.cache/mmengine/open_mmlab.json``) mapping model names to URLs or
    paths. It is not bundled: write it yourself or use the URL directly.
    """
    prefix = 'open-mmlab://' if filename.startswith(
        'open-mmlab://') else 'openmmlab://'
    name = filename[len(prefix):]
    index_file = osp.join(_mmengine_home(), 'open_mmlab.json')
    urls: dict = {}
    if osp.isfile(index_file):
        import json
        with open(index_file, encoding='utf-8') as f:
            urls = json.load(f)
    if name not in urls:
        raise ValueError(
            f'{filename}: unknown model name {name!r}. open-mmlab:// names '
            'are resolved through a JSON index of name -> URL at '
            f'{index_file} ({"present" if urls else "missing"}), which is '
            'not bundled with mmengine; add the entry there or pass the '
            "checkpoint's http(s) URL or local path instead.")
    target = urls[name]
    if target.startswith(('http://', 'https://')):
        return load_from_http(target, map_location, allow_pickle)
    return load_from_local(
        osp.join(_mmengine_home(), target), map_location, allow_pickle)
