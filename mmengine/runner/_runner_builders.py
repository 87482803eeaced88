"""Building the Runner's components from objects or config dicts.

Every ``build_*`` method returns a built object unchanged and builds a
config dict through the matching registry; the Runner calls them lazily.
"""
import copy
import logging
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Union

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from mmengine.dist import broadcast
from mmengine.logging import MessageHub, MMLogger, print_log
from mmengine.registry import (EVALUATOR, LOG_PROCESSORS, LOOPS,
                               MODEL_WRAPPERS, MODELS, OPTIM_WRAPPERS,
                               PARAM_SCHEDULERS, VISUALIZERS)
from mmengine.utils import is_list_of
from ._dataloader import build_dataloader as _build_dataloader
from .base_loop import BaseLoop
from .loops import EpochBasedTrainLoop, IterBasedTrainLoop, TestLoop, ValLoop

__all__ = ['BuilderMixin']


def _is_param_scheduler(obj: Any) -> bool:
    from mmengine.optim.scheduler import _ParamScheduler
    return isinstance(obj, _ParamScheduler)


class BuilderMixin:
    """Component-building part of :class:`Runner`."""

    def build_logger(self,
                     log_level: Union[int, str] = 'INFO',
                     log_file: Optional[str] = None,
                     **kwargs) -> MMLogger:
        """Build (or fetch) the runner's MMLogger.

        Args:
            log_level (int | str): Level. Defaults to 'INFO'.
            log_file (str, optional): Defaults to
                ``<log_dir>/<timestamp>.log``.
            **kwargs: Other MMLogger arguments; ``name`` defaults to the
                experiment name.
        """
        if log_file is None:
            log_file = osp.join(self._log_dir, f'{self.timestamp}.log')
        log_cfg = dict(log_level=log_level, log_file=log_file, **kwargs)
        log_cfg.setdefault('name', self._experiment_name)
        # Per-rank files in distributed DEBUG runs; only rank 0 otherwise.
        log_cfg.setdefault('file_mode', 'a')
        return MMLogger.get_instance(**log_cfg)  # type: ignore

    def build_message_hub(self,
                          message_hub: Optional[Dict] = None) -> MessageHub:
        """Build (or fetch) a MessageHub; ``name`` defaults to the
        experiment name.

        Args:
            message_hub (dict, optional): Arguments of
                ``MessageHub.get_instance``.
        """
        if message_hub is None:
            message_hub = dict(name=self._experiment_name)
        elif isinstance(message_hub, dict):
            message_hub = dict(message_hub)
            message_hub.setdefault('name', self._experiment_name)
        else:
            raise TypeError('message_hub should be dict or None, but got '
                            f'{message_hub}')
        return MessageHub.get_instance(**message_hub)

    def build_visualizer(self, visualizer: Optional[Any] = None) -> Any:
        """Build a visualizer; by default one with a ``LocalVisBackend``
        writing to ``<log_dir>/vis_data``.

        Args:
            visualizer (Visualizer | dict, optional): Visualizer or config.
        """
        from mmengine.visualization import Visualizer
        if visualizer is None:
            visualizer = dict(
                type='Visualizer',
                vis_backends=[dict(type='LocalVisBackend')],
                name=self._experiment_name,
                save_dir=self._log_dir)
            return Visualizer.get_instance(
                **{k: v
                   for k, v in visualizer.items() if k != 'type'})
        if isinstance(visualizer, Visualizer):
            return visualizer
        if isinstance(visualizer, dict):
            visualizer = copy.copy(visualizer)
            visualizer.setdefault('type', 'Visualizer')
            visualizer.setdefault('name', self._experiment_name)
            visualizer.setdefault('save_dir', self._log_dir)
            return VISUALIZERS.build(visualizer)
        raise TypeError('visualizer should be Visualizer object, a dict or '
                        f'None, but got {visualizer}')

    def build_model(self, model: Union[nn.Module, Dict]) -> nn.Module:
        """Return ``model`` if it is a module, else build it from MODELS.

        Args:
            model (nn.Module | dict): Model or config.
        """
        if isinstance(model, nn.Module):
            return model
        if isinstance(model, dict):
            return MODELS.build(model)
        raise TypeError('model should be a nn.Module object or dict, but got '
                        f'{model}')

    def wrap_model(self, model_wrapper_cfg: Optional[Dict],
                   model: nn.Module) -> nn.Module:
        """Move the model to the device and wrap it for distributed runs.

        Non-distributed runs keep the bare model (SyncBatchNorm reverted to
        BatchNorm); distributed runs get ``MMDistributedDataParallel`` or
        the wrapper named by ``model_wrapper_cfg``.

        Args:
            model_wrapper_cfg (dict, optional): Wrapper config.
            model (nn.Module): The model.
        """
        from mmengine.device import get_device
        from mmengine.model import (convert_sync_batchnorm, is_model_wrapper,
                                    revert_sync_batchnorm)
        if is_model_wrapper(model):
            if model_wrapper_cfg is not None:
                raise TypeError('model has been wrapped and '
                                '"model_wrapper_cfg" should be None, but got '
                                f'{model_wrapper_cfg}')
            return model
        device = get_device()
        model = model.to(device)
        if not self.distributed:
            if model_wrapper_cfg is not None:
                self.logger.warning(
                    f'cfg.model_wrapper_cfg ({model_wrapper_cfg.get("type")}) '
                    'is ignored: the run is not distributed (launcher is '
                    '"none"), so the model is not wrapped.')
            self.logger.info(
                'Distributed training is not used, all SyncBatchNorm (SyncBN) '
                'layers in the model will be automatically reverted to '
                'BatchNormXd layers if they are used.')
            return revert_sync_batchnorm(model)

        sync_bn = self.cfg.get('sync_bn', None)
        if sync_bn is not None:
            try:
                model = convert_sync_batchnorm(model, sync_bn)
            except ValueError:
                self.logger.error('cfg.sync_bn should be "torch" or "mmcv", '
                                  f'but got {sync_bn}')
                raise
        local_rank = int(os.environ.get('LOCAL_RANK', 0))
        device_ids = [local_rank] if device == 'cuda' else None
        if model_wrapper_cfg is None:
            wrapper_cfg: Dict[str, Any] = dict(
                type='MMDistributedDataParallel',
                broadcast_buffers=False,
                find_unused_parameters=self.cfg.get('find_unused_parameters',
                                                    False))
        else:
            wrapper_cfg = dict(model_wrapper_cfg)
            wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
        wrapper_type = wrapper_cfg['type']
        if isinstance(wrapper_type, str):
            wrapper_cls = MODEL_WRAPPERS.get(wrapper_type)
            if wrapper_cls is None:
                raise KeyError(f'model_wrapper_cfg.type {wrapper_type!r} is '
                               'not registered in MODEL_WRAPPERS')
        elif isinstance(wrapper_type, type):
            wrapper_cls = wrapper_type
        else:
            raise TypeError('model_wrapper_cfg.type must be a str or a class, '
                            f'but got {wrapper_type!r}')
        default_args: Dict[str, Any] = dict(module=model)
        from torch.nn.parallel import DistributedDataParallel
        if issubclass(wrapper_cls, DistributedDataParallel):
            default_args['device_ids'] = device_ids
        elif hasattr(model, 'init_weights'):
            # Other wrappers (FSDP) may shard the parameters over the ranks:
            # initialise the whole model now, identically on every rank
            # (rank 0's weights are broadcast), instead of the shards later.
            model.init_weights()
            if self.world_size > 1:
                for param in model.state_dict().values():
                    broadcast(param)
            self._weights_initialized = True
        return MODEL_WRAPPERS.build(wrapper_cfg, default_args=default_args)

    def _maybe_compile(self, target: str) -> None:
        """Compile ``model.<target>`` when ``cfg.compile`` is set."""
        compile_cfg = self.cfg.get('compile', False)
        if not compile_cfg:
            return
        if compile_cfg is True:
            compile_cfg = {}
        if not isinstance(compile_cfg, dict):
            raise TypeError('cfg.compile should be a bool or a dict of '
                            'torch.compile options, but got '
                            f'{compile_cfg!r}')
        if getattr(self.model, f'_compiled_{target}', False):
            return
        func = getattr(self.model, target)
        setattr(self.model, target, torch.compile(func, **compile_cfg))
        setattr(self.model, f'_compiled_{target}', True)
        self.logger.info('Model has been "compiled". The first few iterations'
                         ' will be slow, please be patient.')

    def build_optim_wrapper(self, optim_wrapper: Any) -> Any:
        """Build an ``OptimWrapper`` or ``OptimWrapperDict``.

        Args:
            optim_wrapper (OptimWrapper | dict): A built wrapper; a config
                (``optimizer`` may be a built optimizer; ``constructor``
                selects a constructor); or a dict of built wrappers.
        """
        from torch.optim import Optimizer

        from mmengine.optim import (OptimWrapper, OptimWrapperDict,
                                    build_optim_wrapper)
        if isinstance(optim_wrapper, (OptimWrapper, OptimWrapperDict)):
            return optim_wrapper
        if not isinstance(optim_wrapper, dict):
            raise TypeError('optimizer wrapper should be an OptimWrapper '
                            f'object or dict, but got {optim_wrapper}')
        optimizer = optim_wrapper.get('optimizer', None)
        if isinstance(optimizer, Optimizer):
            cfg = dict(optim_wrapper)
            cfg.setdefault('type', 'OptimWrapper')
            return OPTIM_WRAPPERS.build(cfg)
        if optimizer is not None or 'constructor' in optim_wrapper:
            return build_optim_wrapper(self.model, optim_wrapper)
        # Several optimizers without a constructor: every value must be a
        # built wrapper.
        wrappers = {}
        for name, optim in optim_wrapper.items():
            if not isinstance(optim, OptimWrapper):
                raise ValueError(
                    'each item mush be an optimizer object when "type" and '
                    '"constructor" are not in optimizer, but got '
                    f'{name}={optim}')
            wrappers[name] = optim
        return OptimWrapperDict(**wrappers)

    def scale_lr(self,
                 optim_wrapper: Any,
                 auto_scale_lr: Optional[Dict] = None) -> None:
        """Scale every lr by ``world_size * batch_size / base_batch_size``.

        Args:
            optim_wrapper (OptimWrapper | OptimWrapperDict): Built wrapper.
            auto_scale_lr (dict, optional): ``enable`` and
                ``base_batch_size``; nothing happens unless enabled.
        """
        from mmengine.optim import OptimWrapper, OptimWrapperDict
        if auto_scale_lr is None or not auto_scale_lr.get('enable', False):
            return None
        assert 'base_batch_size' in auto_scale_lr, \
            'Lack of `base_batch_size` in `auto_scale_lr`.'
        dataloader = self._train_dataloader
        if isinstance(dataloader, DataLoader):
            batch_size = dataloader.batch_size
        elif isinstance(self._train_loop, BaseLoop):
            batch_size = self._train_loop.dataloader.batch_size
        else:
            batch_size = dataloader['batch_size']
        real_bs = self.world_size * batch_size
        base_bs = auto_scale_lr['base_batch_size']
        ratio = float(real_bs) / float(base_bs)
        self.logger.info(f'LR is set based on batch size of {base_bs} and '
                         f'the current batch size is {real_bs}. Scaling the '
                         f'original LR by {ratio}.')
        schedulers = self.param_schedulers
        built = schedulers if not isinstance(schedulers, dict) else [
            s for v in schedulers.values()
            for s in (v if isinstance(v, (list, tuple)) else [v])
        ]
        if built is not None and any(
                _is_param_scheduler(s)
                for s in (built if isinstance(built, (list, tuple)) else
                          [built])):
            raise RuntimeError('`scale_lr` should be called before building '
                               'ParamScheduler because ParamScheduler will '
                               'store initial lr from optimizer wrappers')
        if isinstance(optim_wrapper, OptimWrapperDict):
            wrappers = list(optim_wrapper.values())
        elif isinstance(optim_wrapper, OptimWrapper):
            wrappers = [optim_wrapper]
        else:
            raise AssertionError('`scale_lr` should be called after building '
                                 'OptimWrapper')
        for wrapper in wrappers:
            for group in wrapper.optimizer.param_groups:
                group['lr'] = group['lr'] * ratio

    @staticmethod
    def _check_scheduler_cfg(param_scheduler: Any) -> None:
        if param_scheduler is None or _is_param_scheduler(param_scheduler):
            return
        if isinstance(param_scheduler, (list, tuple)) and all(
                _is_param_scheduler(s) for s in param_scheduler):
            return
        if is_list_of(param_scheduler, dict) or (
                isinstance(param_scheduler, (list, tuple)) and all(
                    isinstance(s, dict) or _is_param_scheduler(s)
                    for s in param_scheduler)):
            for scheduler in param_scheduler:
                if isinstance(scheduler, dict):
                    assert 'type' in scheduler, (
                        'Each parameter scheduler should contain the key '
                        f'type, but got {scheduler}')
        elif isinstance(param_scheduler, dict):
            if 'type' not in param_scheduler:
                for key, value in param_scheduler.items():
                    assert isinstance(value, (dict, tuple, list)) or \
                        _is_param_scheduler(value), (
                            'Each value of `param_scheduler` should be a '
                            f'dict or a list, but got {key}={value!r} with '
                            f'type {type(value).__name__}')
        else:
            raise TypeError(
                '`param_scheduler` should be a `_ParamScheduler`, `dict`, '
                f'list or a tuple, but got {type(param_scheduler)}. If '
                '`param_scheduler` is a list of dict, it means a list of '
                'scheduler configs for single optimizer. If it is a dict and '
                'contains key `type`, it means a scheduler config for a '
                'single optimizer. If it does not contain key `type`, it '
                'means multiple lists of schedulers for multiple optimizers.')

    def _build_param_scheduler(self, scheduler: Any,
                               optim_wrapper: Any) -> List:
        schedulers = scheduler if isinstance(scheduler,
                                             (list, tuple)) else [scheduler]
        built = []
        for item in schedulers:
            if _is_param_scheduler(item):
                built.append(item)
            elif isinstance(item, dict):
                cfg = copy.deepcopy(item)
                default_args: Dict[str, Any] = dict(optimizer=optim_wrapper)
                if isinstance(self._train_loop, BaseLoop):
                    self._default_scheduler_end(cfg, self._train_loop)
                if self._train_loop is not None:
                    default_args['epoch_length'] = len(self.train_dataloader)
                built.append(
                    PARAM_SCHEDULERS.build(cfg, default_args=default_args))
            else:
                raise TypeError('scheduler should be a _ParamScheduler object '
                                f'or dict, but got {item}')
        return built

    def _default_scheduler_end(self, cfg: dict, loop: BaseLoop) -> None:
        """Schedulers end with training unless ``cfg`` sets ``end``.

        The default is in the scheduler's own unit: iterations for
        ``by_epoch=False``, epochs otherwise (for ``convert_to_iter_based``
        the epoch count that converts back to exactly ``max_iters``, also
        in an iteration-based loop, whose ``max_epochs`` is 1).
        """
        by_epoch = cfg.get('by_epoch', True)
        converted = cfg.get('convert_to_iter_based', False)
        if by_epoch and not converted and isinstance(loop,
                                                     IterBasedTrainLoop):
            print_log(
                f'The epoch-based scheduler {cfg.get("type")} runs in an '
                'iteration-based train loop, which ends one "epoch" only at '
                'the end of training, so it will not change anything; use '
                'by_epoch=False (iteration units) or '
                'convert_to_iter_based=True.',
                logger='current',
                level=logging.WARNING)
        if 'end' in cfg:
            return
        if not by_epoch:
            end, unit = loop.max_iters, 'max_iters'
        elif converted:
            end = loop.max_iters / len(loop.dataloader)
            end, unit = (int(end) if end == int(end) else end), \
                'max_iters in epochs'
        else:
            end, unit = loop.max_epochs, 'max_epochs'
        begin = cfg.get('begin', 0)
        if isinstance(begin, (int, float)) and begin >= end:
            raise ValueError(
                f'{cfg.get("type")}: begin={begin} is not before the end of '
                f'training ({unit}={end}), which is the default `end` of a '
                'scheduler; set `end` or a smaller `begin`')
        cfg['end'] = end

    def build_param_scheduler(self, scheduler: Any) -> Union[List, Dict]:
        """Build parameter schedulers against ``self.optim_wrapper``.

        Args:
            scheduler (_ParamScheduler | dict | list): Scheduler(s) or
                config(s); for an ``OptimWrapperDict``, a dict keyed by
                optimizer name (otherwise the same schedulers are built for
                every optimizer).

        Returns:
            list or dict: schedulers (a dict of lists for several
            optimizers).
        """
        from mmengine.optim import OptimWrapper, OptimWrapperDict
        if not isinstance(self.optim_wrapper, OptimWrapperDict):
            assert isinstance(self.optim_wrapper, OptimWrapper), (
                '`build_optimizer` should be called before '
                '`build_param_scheduler` because the latter depends on the '
                'former')
            return self._build_param_scheduler(scheduler, self.optim_wrapper)
        names = list(self.optim_wrapper.keys())
        per_name = isinstance(scheduler, dict) and 'type' not in scheduler
        if per_name:
            missing = [n for n in names if n not in scheduler]
            unknown = [k for k in scheduler if k not in names]
            if missing or unknown:
                raise KeyError(
                    '`param_scheduler` keyed by optimizer name must have '
                    f'exactly the names of the OptimWrapperDict {names}; '
                    f'missing: {missing}, unknown: {unknown}')
        param_schedulers = dict()
        for name, optimizer in self.optim_wrapper.items():
            param_schedulers[name] = self._build_param_scheduler(
                scheduler[name] if per_name else scheduler, optimizer)
        return param_schedulers

    def build_evaluator(self, evaluator: Any) -> Any:
        """Build an Evaluator from a metric config, a list of them, or
        ``dict(metrics=..., [type=...])``; a built Evaluator is returned.

        Args:
            evaluator (Evaluator | dict | list): The evaluator or config.
        """
        from mmengine.evaluator import Evaluator
        if isinstance(evaluator, Evaluator):
            return evaluator
        if isinstance(evaluator, dict):
            if 'metrics' in evaluator:
                cfg = dict(evaluator)
                cfg.setdefault('type', 'Evaluator')
                return EVALUATOR.build(cfg)
            return Evaluator(evaluator)  # type: ignore
        if isinstance(evaluator, list):
            return Evaluator(evaluator)  # type: ignore
        # A bare metric instance is refused too (conformance): wrap it as
        # dict(metrics=metric) or Evaluator(metric).
        raise TypeError('evaluator should be a metric config dict, a list of '
                        'them, dict(metrics=...) or an Evaluator, but got '
                        f'{type(evaluator).__name__}: {evaluator!r} (wrap a '
                        'metric instance as dict(metrics=metric))')

    @staticmethod
    def build_dataloader(dataloader: Union[DataLoader, Dict],
                         seed: Optional[int] = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        """Build a DataLoader from a config dict (callable on the class).

        The dict holds ``dataset`` (config or object; ``full_init()`` is
        called when present), ``sampler`` (required, built from
        DATA_SAMPLERS with ``dataset`` and ``seed``), optional
        ``batch_sampler``, ``collate_fn`` (default ``pseudo_collate``),
        ``worker_init_fn``, ``num_batch_per_epoch`` (truncates the dataset)
        and the other ``DataLoader`` arguments. A DataLoader is returned
        as is.

        Args:
            dataloader (DataLoader | dict): Loader or config.
            seed (int, optional): Seed for the sampler and the workers.
            diff_rank_seed (bool): Whether ranks use different seeds.
        """
        return _build_dataloader(dataloader, seed, diff_rank_seed)

    def build_log_processor(self, log_processor: Any) -> Any:
        """Build a LogProcessor (from LOG_PROCESSORS) unless given one.

        Args:
            log_processor (LogProcessor | dict | None): Processor or config.
        """
        from .log_processor import LogProcessor
        if isinstance(log_processor, LogProcessor):
            return log_processor
        if log_processor is None:
            return LogProcessor()
        if isinstance(log_processor, dict):
            cfg = copy.copy(log_processor)
            cfg.setdefault('type', 'LogProcessor')
            return LOG_PROCESSORS.build(cfg)
        raise TypeError('log_processor should be a LogProcessor object or '
                        f'dict, but got {log_processor}')

    def build_train_loop(self, loop: Union[BaseLoop, Dict]) -> BaseLoop:
        """Build the train loop from ``train_cfg``.

        ``type`` selects a loop from LOOPS; otherwise ``by_epoch`` picks
        EpochBasedTrainLoop or IterBasedTrainLoop (given both: error).

        Args:
            loop (BaseLoop | dict): Loop or config.
        """
        if isinstance(loop, BaseLoop):
            return loop
        if not isinstance(loop, dict):
            raise TypeError('train_loop should be a Loop object or dict, but '
                            f'got {loop}')
        cfg = copy.deepcopy(loop)
        if 'type' in cfg and 'by_epoch' in cfg:
            raise RuntimeError('Only one of `type` or `by_epoch` can exist in '
                               '`loop_cfg`.')
        if 'type' in cfg:
            return LOOPS.build(
                cfg,
                default_args=dict(
                    runner=self, dataloader=self._train_dataloader))
        by_epoch = cfg.pop('by_epoch', 'max_iters' not in cfg)
        loop_cls = EpochBasedTrainLoop if by_epoch else IterBasedTrainLoop
        return loop_cls(**cfg, runner=self, dataloader=self._train_dataloader)

    def _build_eval_loop(self, loop: Union[BaseLoop, Dict], mode: str,
                         loop_cls: type) -> BaseLoop:
        if isinstance(loop, BaseLoop):
            return loop
        if not isinstance(loop, dict):
            raise TypeError(f'{mode}_loop should be a Loop object or dict, '
                            f'but got {loop}')
        cfg = copy.deepcopy(loop)
        default_args = dict(
            runner=self,
            dataloader=getattr(self, f'_{mode}_dataloader'),
            evaluator=getattr(self, f'_{mode}_evaluator'))
        if 'type' in cfg:
            return LOOPS.build(cfg, default_args=default_args)
        return loop_cls(**cfg, **default_args)

    def build_val_loop(self, loop: Union[BaseLoop, Dict]) -> BaseLoop:
        """Build the validation loop (``ValLoop`` unless ``type`` is set).

        Args:
            loop (BaseLoop | dict): Loop or config.
        """
        return self._build_eval_loop(loop, 'val', ValLoop)

    def build_test_loop(self, loop: Union[BaseLoop, Dict]) -> BaseLoop:
        """Build the test loop (``TestLoop`` unless ``type`` is set).

        Args:
            loop (BaseLoop | dict): Loop or config.
        """
        return self._build_eval_loop(loop, 'test', TestLoop)
