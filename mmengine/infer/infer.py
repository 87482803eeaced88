"""``BaseInferencer``: the inference interface of OpenMMLab libraries.

A library subclasses it once per task; users then run
``inferencer = MyInferencer(model='cfg.py', weights='ckpt.pth')`` and
``inferencer('demo.jpg', batch_size=4, show=True)``. The base class loads the
config, builds the model in the library's registry scope, loads the weights
and runs ``preprocess`` → ``forward`` → ``visualize`` → ``postprocess``.
"""
import copy
import os
import os.path as osp
import re
import warnings
from abc import ABCMeta, abstractmethod
from datetime import datetime
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Optional,
                    Sequence, Tuple, Union)

import numpy as np
import torch
import torch.nn as nn

from mmengine.config import Config, ConfigDict
from mmengine.config.utils import SUPPORTED_EXTS
from mmengine.dataset import pseudo_collate
from mmengine.fileio import get_file_backend
from mmengine.hub.model_index import (entry_config_path, find_model_by_name,
                                      first_weights, iter_models,
                                      package_scope, split_package_path)
from mmengine.registry import FUNCTIONS, MODELS, VISUALIZERS, DefaultScope
from mmengine.structures import BaseDataElement

InputType = Union[str, os.PathLike, np.ndarray, Any]
InputsType = Union[InputType, Sequence[InputType]]
PredType = Union[BaseDataElement, List[BaseDataElement]]
ImgType = Union[np.ndarray, Sequence[np.ndarray]]
ResType = Union[Dict, List[Dict], BaseDataElement, List[BaseDataElement]]
ConfigType = Union[Config, ConfigDict, dict]
ModelType = Union[str, os.PathLike, Config, ConfigDict, dict, None]

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                  '.tiff', '.webp')

_KWARG_SETS = ('preprocess_kwargs', 'forward_kwargs', 'visualize_kwargs',
               'postprocess_kwargs')


class InferencerMeta(ABCMeta):
    """Checks the ``*_kwargs`` class attributes of inferencers when the class
    is defined (a list or tuple is turned into a set) and records their
    union as ``all_kwargs``."""

    def __init__(cls, *args, **kwargs):
        super().__init__(*args, **kwargs)
        union: set = set()
        for attr in _KWARG_SETS:
            value = getattr(cls, attr)
            if isinstance(value, (list, tuple, frozenset)):
                value = set(value)
                setattr(cls, attr, value)
            if not isinstance(value, set) or not all(
                    isinstance(v, str) for v in value):
                raise TypeError(
                    f'{cls.__name__}.{attr} should be a set of argument '
                    f'names (str), but got {value!r}')
            union |= value
        cls.all_kwargs = union


class BaseInferencer(metaclass=InferencerMeta):
    """Base class of inferencers.

    Subclasses implement :meth:`_init_pipeline`, :meth:`visualize` and
    :meth:`postprocess`, and list in the class attributes
    ``preprocess_kwargs``, ``forward_kwargs``, ``visualize_kwargs`` and
    ``postprocess_kwargs`` the keyword arguments of ``__call__`` that go to
    each stage (a name may be listed in several). Register subclasses in the
    library's own ``INFERENCERS`` child registry.

    Args:
        model (str | Path | Config | ConfigDict | dict, optional): a config
            file (``'pkg::path.py'`` names a config shipped with an installed
            package), a config object, or the name (or alias) of a model in
            the model index of the package ``scope`` (then its checkpoint is
            used unless ``weights`` is given). None: the config saved in the
            checkpoint ``weights`` is used.
        weights (str, optional): checkpoint path or URL. Without weights the
            model keeps its random initialisation (with a warning).
        device (str | torch.device, optional): device to run on. Defaults to
            the first available accelerator, else CPU.
        scope (str, optional): registry scope (library) the model, pipeline
            and visualizer are built in. Defaults to the package of a
            ``'pkg::path'`` model, else the current default scope, else the
            config's ``default_scope``.
        show_progress (bool): show a progress bar while inferring.
            Defaults to True.
        weight (str, optional): alias of ``weights`` (the spelling of the
            docs). Keyword-only.
    """
    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = set()
    postprocess_kwargs: set = set()
    #: Extensions of the files a directory input expands to; None: all files.
    input_file_exts: Optional[Tuple[str, ...]] = IMG_EXTENSIONS

    def __init__(self,
                 model: ModelType = None,
                 weights: Optional[str] = None,
                 device: Optional[Union[str, torch.device]] = None,
                 scope: Optional[str] = None,
                 show_progress: bool = True,
                 *,
                 weight: Optional[str] = None) -> None:
        if weight is not None:
            if weights is not None and weights != weight:
                raise ValueError(
                    f'got both weights={weights!r} and its alias '
                    f'weight={weight!r}; pass only one')
            weights = weight
        if scope is None and isinstance(model, str) and '::' in model \
                and not osp.isfile(model):
            # a config shipped with a package is built in that package
            scope = package_scope(split_package_path(model)[0])
        if scope is None:
            current = DefaultScope.get_current_instance()
            if current is not None:
                scope = current.scope_name
        self.scope = scope
        self.show_progress = show_progress

        cfg, weights = self._load_config(model, weights)
        if self.scope is None and cfg and cfg.get('default_scope'):
            # Nothing chose a scope: use the one the config was written for.
            self.scope = cfg.get('default_scope')
        if device is None:
            from mmengine.device import get_device
            device = get_device()
        # Everything built from the config resolves its types in the
        # library's scope; the caller's default scope is restored after.
        with DefaultScope.overwrite_default_scope(self.scope):
            self.model = self._init_model(cfg, weights, device)
            self.pipeline = self._init_pipeline(cfg)
            self.collate_fn = self._init_collate(cfg)
            self.visualizer = self._init_visualizer(cfg)
        self.cfg = cfg

    # ------------------------------------------------------------------
    # construction
    def _load_config(self, model: ModelType,
                     weights: Optional[str]) -> Tuple[Any, Optional[str]]:
        """Turn ``model`` into a config; returns ``(cfg, weights)`` where
        weights may come from the model index. ``cfg`` is an empty
        ``ConfigDict`` when it is to be read from the checkpoint."""
        if isinstance(model, os.PathLike):
            model = os.fspath(model)
        if isinstance(model, str):
            if osp.isfile(model) or '::' in model:
                return Config.fromfile(model), weights
            if model.endswith(SUPPORTED_EXTS):
                raise FileNotFoundError(f'config file {model!r} does not '
                                        'exist')
            cfg, index_weights = self._load_model_from_metafile(model)
            return cfg, weights if weights is not None else index_weights
        if isinstance(model, (Config, ConfigDict)):
            return copy.deepcopy(model), weights
        if isinstance(model, dict):
            return ConfigDict(copy.deepcopy(model)), weights
        if model is None:
            if weights is None:
                raise ValueError(
                    'model and weights are both None: give a config (or a '
                    'model name), or a checkpoint that contains its config')
            return ConfigDict(), weights
        raise TypeError('model must be a config path, a Config/ConfigDict/'
                        'dict, a model name or None, but got '
                        f'{type(model).__name__}')

    def _load_model_from_metafile(self, model: str) -> Tuple[Config, str]:
        """Config and checkpoint of the model named ``model`` (or with that
        alias) in the model index of the package ``self.scope``."""
        if self.scope is None:
            raise ValueError(
                f'{model!r} is neither a config file nor a model name that '
                'can be looked up: model names are searched in the model '
                'index of a package, so pass scope="<package>" (or set a '
                'default scope)')
        entry = find_model_by_name(self.scope, model)
        return Config.fromfile(entry_config_path(entry)), first_weights(entry)

    @staticmethod
    def list_models(scope: Optional[str] = None,
                    patterns: str = r'.*') -> List[str]:
        """Names of the models in the model index of package ``scope``
        (default: the current default scope) that match the regular
        expression ``patterns``."""
        if scope is None:
            current = DefaultScope.get_current_instance()
            if current is None:
                raise ValueError('list_models needs a scope (package name): '
                                 'pass scope= or set a default scope')
            scope = current.scope_name
        regex = re.compile(patterns)
        names = []
        for entry in iter_models(scope):
            name = str(entry.get('Name', ''))
            if name and regex.search(name):
                names.append(name)
        return names

    def _init_model(self, cfg: ConfigType, weights: Optional[str],
                    device: Union[str, torch.device] = 'cpu') -> nn.Module:
        """Build ``cfg.model`` (reading the config from the checkpoint when
        ``cfg`` is empty), load ``weights``, move it to ``device`` and switch
        it to eval mode."""
        from mmengine.runner.checkpoint import _load_checkpoint
        checkpoint = None
        if weights is not None:
            checkpoint = _load_checkpoint(weights, map_location='cpu')
        if not cfg:
            # In place: the pipeline and visualizer read the same config.
            cfg.update(
                self._config_from_checkpoint(checkpoint, weights)._cfg_dict)
        if 'model' not in cfg:
            raise KeyError('the config has no "model" to build '
                           f'({getattr(cfg, "filename", None) or "dict"})')
        # Weights given here replace any backbone pre-training: do not
        # download or load it for nothing.
        if isinstance(cfg.model, dict) and \
                cfg.model.get('pretrained') is not None:
            del cfg.model['pretrained']
        model = MODELS.build(cfg.model)
        model.cfg = cfg
        self._load_weights_to_model(model, checkpoint, cfg)
        model.to(device)
        model.eval()
        return model

    @staticmethod
    def _config_from_checkpoint(checkpoint: Any, weights: str) -> Config:
        """The config text saved by the Runner in a checkpoint."""
        text = None
        if isinstance(checkpoint, dict):
            hub = checkpoint.get('message_hub')
            if isinstance(hub, dict):
                text = hub.get('runtime_info', {}).get('cfg')
            if not text and isinstance(checkpoint.get('meta'), dict):
                text = checkpoint['meta'].get('cfg')
        if not text:
            raise ValueError(
                f'model is None but checkpoint {weights!r} holds no config '
                "(neither message_hub.runtime_info.cfg nor meta.cfg); pass "
                'model=<config>')
        return Config.fromstring(text, file_format='.py')

    def _load_weights_to_model(self, model: nn.Module,
                               checkpoint: Optional[dict],
                               cfg: Optional[ConfigType]) -> None:
        """Load ``checkpoint`` into ``model``; warn when there is none."""
        if checkpoint is None:
            warnings.warn('No checkpoint is loaded: the inference results '
                          'come from a randomly initialised model!')
            return
        from mmengine.runner.checkpoint import _load_checkpoint_to_model
        _load_checkpoint_to_model(model, checkpoint)

    @abstractmethod
    def _init_pipeline(self, cfg: ConfigType) -> Callable:
        """Return the function applied to each input (like a test
        pipeline): raw input → data sample dict."""

    def _init_collate(self, cfg: ConfigType) -> Callable:
        """The ``collate_fn`` of ``cfg.test_dataloader`` (a name or
        ``dict(type=name, **kwargs)`` looked up in ``FUNCTIONS``, or a
        callable); ``pseudo_collate`` when not configured."""
        dataloader = cfg.get('test_dataloader') if cfg else None
        collate = dataloader.get('collate_fn') if isinstance(
            dataloader, dict) else None
        if collate is None:
            return pseudo_collate
        kwargs: dict = {}
        if isinstance(collate, dict):
            kwargs = dict(collate)
            if 'type' not in kwargs:
                raise KeyError('test_dataloader.collate_fn should have a '
                               f'"type", but got {collate!r}')
            collate = kwargs.pop('type')
        if isinstance(collate, str):
            fn = FUNCTIONS.get(collate)
            if fn is None:
                raise KeyError(f'test_dataloader.collate_fn {collate!r} is '
                               'not registered in the FUNCTIONS registry')
        elif callable(collate):
            fn = collate
        else:
            raise TypeError('test_dataloader.collate_fn should be a name, a '
                            f'dict or a callable, but got {collate!r}')
        if kwargs:
            from functools import partial
            return partial(fn, **kwargs)
        return fn

    def _init_visualizer(self, cfg: ConfigType) -> Optional[Any]:
        """Build ``cfg.visualizer`` (None when absent) under a name no
        other visualizer instance uses."""
        if not cfg or cfg.get('visualizer') is None:
            return None
        from mmengine.visualization import Visualizer
        vis_cfg = copy.deepcopy(cfg.visualizer)
        timestamp = str(datetime.timestamp(datetime.now()))
        name = vis_cfg.get('name', timestamp)
        if Visualizer.check_instance_created(name):
            name = f'{name}-{timestamp}'
        vis_cfg['name'] = name
        return VISUALIZERS.build(vis_cfg)

    # ------------------------------------------------------------------
    # inference
    def __call__(self,
                 inputs: InputsType,
                 return_datasamples: bool = False,
                 batch_size: int = 1,
                 **kwargs) -> dict:
        """Run inference on ``inputs``.

        Args:
            inputs: an input (file path, URL, ``np.ndarray``, ...), a list of
                them, or a directory (expanded to the files inside with an
                extension in ``input_file_exts``, sorted by name).
            return_datasamples (bool): let ``postprocess`` return data
                samples instead of dicts. ``return_datasample`` is accepted
                as an alias unless a stage declares it. Defaults to False.
            batch_size (int): inputs per forward pass. Defaults to 1.
            **kwargs: routed to the stage(s) listing them in their
                ``*_kwargs`` class attribute.

        Returns:
            dict: the result of ``postprocess`` (by convention with keys
            ``predictions`` and ``visualization``).

        Raises:
            ValueError: a keyword argument no stage accepts.
        """
        if 'return_datasample' in kwargs and \
                'return_datasample' not in self.all_kwargs:
            return_datasamples = kwargs.pop('return_datasample')
        (preprocess_kwargs, forward_kwargs, visualize_kwargs,
         postprocess_kwargs) = self._dispatch_kwargs(**kwargs)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError('batch_size should be a positive int, but got '
                             f'{batch_size!r}')
        ori_inputs = self._inputs_to_list(inputs)
        batches = self.preprocess(
            ori_inputs, batch_size=batch_size, **preprocess_kwargs)
        preds: list = []
        for data in self._track(batches, -(-len(ori_inputs) // batch_size)):
            preds.extend(self.forward(data, **forward_kwargs))
        visualization = self.visualize(ori_inputs, preds, **visualize_kwargs)
        return self.postprocess(preds, visualization, return_datasamples,
                                **postprocess_kwargs)

    def _track(self, batches: Iterable, total: int) -> Iterable:
        if not self.show_progress:
            return batches
        from rich.progress import track
        return track(batches, description='Inference', total=total)

    def _dispatch_kwargs(self, **kwargs) -> Tuple[dict, dict, dict, dict]:
        """Split ``kwargs`` into the kwargs of preprocess, forward,
        visualize and postprocess.

        Raises:
            ValueError: naming the arguments no stage accepts.
        """
        unknown = set(kwargs) - self.all_kwargs
        if unknown:
            raise ValueError(
                f'unknown argument(s) {sorted(unknown)} for '
                f'{type(self).__name__}: `preprocess` accepts '
                f'{sorted(self.preprocess_kwargs)}, `forward` '
                f'{sorted(self.forward_kwargs)}, `visualize` '
                f'{sorted(self.visualize_kwargs)} and `postprocess` '
                f'{sorted(self.postprocess_kwargs)}')
        return tuple(  # type: ignore[return-value]
            {k: v
             for k, v in kwargs.items() if k in getattr(self, attr)}
            for attr in _KWARG_SETS)

    def _inputs_to_list(self, inputs: InputsType) -> list:
        """Wrap a single input into a list and expand a directory into the
        files inside it (those with an extension in ``input_file_exts``,
        sorted by name)."""
        if isinstance(inputs, os.PathLike):
            inputs = os.fspath(inputs)
        if isinstance(inputs, str):
            files = self._list_dir(inputs)
            if files is not None:
                return files
        if isinstance(inputs, tuple):
            return list(inputs)
        if not isinstance(inputs, list):
            return [inputs]
        return list(inputs)

    def _list_dir(self, path: str) -> Optional[List[str]]:
        """Files of directory ``path`` (None if it is not a directory)."""
        backend = get_file_backend(path)
        isdir = getattr(backend, 'isdir', None)
        if isdir is None:  # e.g. http(s): no directories
            return None
        try:
            if not isdir(path):
                return None
        except (NotImplementedError, OSError):
            return None
        exts = self.input_file_exts
        names = sorted(
            name for name in backend.list_dir_or_file(path, list_dir=False)
            if exts is None or name.lower().endswith(tuple(exts)))
        if not names:
            wanted = 'files' if exts is None else \
                f'files with an extension in {list(exts)}'
            raise ValueError(f'input directory {path!r} contains no {wanted}')
        return [backend.join_path(path, name) for name in names]

    def preprocess(self,
                   inputs: list,
                   batch_size: int = 1,
                   **kwargs) -> Iterator[Any]:
        """Apply the pipeline to each input and yield collated batches of
        ``batch_size`` (the last one may be smaller)."""
        chunks = self._get_chunk_data(map(self.pipeline, inputs), batch_size)
        yield from map(self.collate_fn, chunks)

    @staticmethod
    def _get_chunk_data(items: Iterable, chunk_size: int) -> Iterator[list]:
        chunk: list = []
        for item in items:
            chunk.append(item)
            if len(chunk) == chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    @torch.no_grad()
    def forward(self, inputs: Union[dict, tuple], **kwargs) -> Any:
        """Predict one collated batch with ``model.test_step`` (no grad)."""
        return self.model.test_step(inputs)

    @abstractmethod
    def visualize(self,
                  inputs: list,
                  preds: Any,
                  show: bool = False,
                  **kwargs) -> Optional[List[np.ndarray]]:
        """Draw ``preds`` on ``inputs``; returns the drawn images or None."""

    @abstractmethod
    def postprocess(self,
                    preds: Any,
                    visualization: Optional[List[np.ndarray]],
                    return_datasample: bool = False,
                    **kwargs) -> dict:
        """Format the results, conventionally as ``dict(predictions=...,
        visualization=...)``; predictions are data samples when
        ``return_datasample`` is True, else plain dicts."""
