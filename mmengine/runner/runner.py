"""The Runner: builds the components of an experiment and runs its loops.

Construction sets up the environment (distributed, seeds), the logger,
message hub and visualizer, builds the model and registers the hooks.
Everything else given as a config dict (data loaders, loops, optimizer
wrapper, schedulers, evaluators) is built lazily by the entry point that
needs it: ``train()``, ``val()`` or ``test()``.

Environment setup (distributed, seeds, banner) lives in
:mod:`._runner_env`, component building in :mod:`._runner_builders`,
checkpoint saving/loading/resume in :mod:`._runner_checkpoint`, hook
management in :mod:`._runner_hooks`; the Runner class mixes them in.
"""
import copy
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union

import torch.nn as nn
from torch.utils.data import DataLoader

from mmengine.config import Config, ConfigDict
from mmengine.dist import (broadcast, master_only)
from mmengine.registry import RUNNERS, DefaultScope
from mmengine.utils import mkdir_or_exist
from ._runner_builders import BuilderMixin
from ._runner_checkpoint import CheckpointMixin
from ._runner_env import EnvMixin, _unique_experiment_name
from ._runner_hooks import HookMixin
from .base_loop import BaseLoop

__all__ = ['Runner']

ConfigType = Union[Dict, Config, ConfigDict]


@RUNNERS.register_module()
class Runner(EnvMixin, BuilderMixin, HookMixin, CheckpointMixin):
    """Build an experiment's components and run training, validation and
    testing.

    Most arguments accept a built object or a config dict; dicts are built
    lazily. See spec 03 for the full description of each argument.

    Args:
        model (nn.Module | dict): The model (with ``train_step``,
            ``val_step``, ``test_step``) or its config for ``MODELS``.
        work_dir (str): Output directory (created; stored absolute).
        train_dataloader, val_dataloader, test_dataloader (DataLoader | dict,
            optional): Data loaders or their configs (see
            :meth:`build_dataloader`).
        train_cfg (dict, optional): Train loop config, e.g.
            ``dict(by_epoch=True, max_epochs=10, val_interval=1)``.
        val_cfg, test_cfg (dict, optional): Val/test loop configs.
        auto_scale_lr (dict, optional): ``dict(enable=True,
            base_batch_size=16)`` scales the lr linearly with the total
            batch size.
        optim_wrapper (OptimWrapper | dict, optional): Optimizer wrapper or
            its config.
        param_scheduler (_ParamScheduler | dict | list, optional): Parameter
            scheduler(s) or their configs (a dict keyed by optimizer name
            for an ``OptimWrapperDict``).
        val_evaluator, test_evaluator (Evaluator | dict | list, optional):
            Evaluators or metric configs.
        default_hooks (dict, optional): ``name -> hook or cfg`` merged over
            the default hooks; ``None`` removes a default.
        custom_hooks (list, optional): Extra hooks or configs.
        data_preprocessor (dict, optional): Used as the model's
            ``data_preprocessor`` when the model config has none.
        load_from (str, optional): Checkpoint to load (or resume from).
        resume (bool): Resume training: from ``load_from``, or from the
            latest checkpoint in ``work_dir`` when it is None.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        env_cfg (dict): ``cudnn_benchmark``, ``mp_cfg``, ``dist_cfg``.
        log_processor (LogProcessor | dict, optional): Log processor.
        log_level (str | int): Logger level. Defaults to 'INFO'.
        visualizer (Visualizer | dict, optional): Visualizer or config.
        default_scope (str, optional): Registry scope of this run.
        randomness (dict): ``seed``, ``diff_rank_seed``, ``deterministic``.
        experiment_name (str, optional): Name of the run (the timestamp is
            appended); also the name of its logger, message hub and
            visualizer.
        cfg (dict | Config, optional): The full config (``compile``,
            ``model_wrapper_cfg``, ``sync_bn``, … are read from it).
    """
    cfg: Config
    _train_loop: Optional[Union[BaseLoop, Dict]]
    _val_loop: Optional[Union[BaseLoop, Dict]]
    _test_loop: Optional[Union[BaseLoop, Dict]]

    def __init__(
        self,
        model: Union[nn.Module, Dict],
        work_dir: str,
        train_dataloader: Optional[Union[DataLoader, Dict]] = None,
        val_dataloader: Optional[Union[DataLoader, Dict]] = None,
        test_dataloader: Optional[Union[DataLoader, Dict]] = None,
        train_cfg: Optional[Dict] = None,
        val_cfg: Optional[Dict] = None,
        test_cfg: Optional[Dict] = None,
        auto_scale_lr: Optional[Dict] = None,
        optim_wrapper: Optional[Any] = None,
        param_scheduler: Optional[Any] = None,
        val_evaluator: Optional[Any] = None,
        test_evaluator: Optional[Any] = None,
        default_hooks: Optional[Dict[str, Any]] = None,
        custom_hooks: Optional[List[Any]] = None,
        data_preprocessor: Optional[Any] = None,
        load_from: Optional[str] = None,
        resume: bool = False,
        launcher: str = 'none',
        env_cfg: Dict = dict(dist_cfg=dict(backend='nccl')),
        log_processor: Optional[Any] = None,
        log_level: Union[str, int] = 'INFO',
        visualizer: Optional[Any] = None,
        default_scope: Optional[str] = 'mmengine',
        randomness: Dict = dict(seed=None),
        experiment_name: Optional[str] = None,
        cfg: Optional[ConfigType] = None,
    ) -> None:
        if not isinstance(work_dir, (str, os.PathLike)):
            raise TypeError('work_dir must be a str or path-like object, but '
                            f'got {type(work_dir).__name__}: {work_dir!r}')
        self._work_dir = osp.abspath(os.fspath(work_dir))
        mkdir_or_exist(self._work_dir)

        if cfg is None:
            self.cfg = Config(dict())
        elif isinstance(cfg, Config):
            self.cfg = copy.deepcopy(cfg)
        elif isinstance(cfg, dict):
            self.cfg = Config(cfg)
        else:
            raise TypeError('cfg should be a dict, Config or None, but got '
                            f'{type(cfg).__name__}')

        for name, value in (('train_cfg', train_cfg), ('val_cfg', val_cfg),
                            ('test_cfg', test_cfg)):
            if value is not None and not isinstance(value, (dict, BaseLoop)):
                raise TypeError(
                    f'{name} should be a dict (loop config) or a built loop '
                    f'(BaseLoop), but got {type(value).__name__}: {value!r}')
        self._check_triple(
            'train', ('train_dataloader', 'train_cfg', 'optim_wrapper'),
            (train_dataloader, train_cfg, optim_wrapper))
        self._train_dataloader = train_dataloader
        self._train_loop = train_cfg
        self.optim_wrapper = optim_wrapper
        self.auto_scale_lr = auto_scale_lr
        if param_scheduler is not None and self.optim_wrapper is None:
            raise ValueError('param_scheduler should be None when '
                             'optim_wrapper is None, but got '
                             f'{param_scheduler}')
        self._check_scheduler_cfg(param_scheduler)
        self.param_schedulers = param_scheduler

        self._check_triple('val',
                           ('val_dataloader', 'val_cfg', 'val_evaluator'),
                           (val_dataloader, val_cfg, val_evaluator))
        self._val_dataloader = val_dataloader
        self._val_loop = val_cfg
        self._val_evaluator = val_evaluator

        self._check_triple('test',
                           ('test_dataloader', 'test_cfg', 'test_evaluator'),
                           (test_dataloader, test_cfg, test_evaluator))
        self._test_dataloader = test_dataloader
        self._test_loop = test_cfg
        self._test_evaluator = test_evaluator

        if launcher not in ('none', 'pytorch', 'slurm', 'mpi'):
            raise ValueError("launcher should be 'none', 'pytorch', 'slurm' "
                             f"or 'mpi', but got {launcher!r}")
        self._launcher = launcher
        self._distributed = launcher != 'none'
        env_cfg = self._normalize_env_cfg(env_cfg)
        self.setup_env(env_cfg)

        if randomness is not None and not isinstance(randomness, dict):
            raise TypeError('randomness should be a dict such as dict(seed=0, '
                            'diff_rank_seed=False, deterministic=False), but '
                            f'got {type(randomness).__name__}: {randomness!r}')
        unknown = set(randomness or {}) - {
            'seed', 'diff_rank_seed', 'deterministic'
        }
        if unknown:
            raise ValueError(f'randomness: unknown key(s) {sorted(unknown)}; '
                             'expected seed, diff_rank_seed, deterministic')
        self._randomness_cfg = dict(randomness or {})
        self.set_randomness(**self._randomness_cfg)

        if experiment_name is not None:
            self._experiment_name = f'{experiment_name}_{self._timestamp}'
        elif self.cfg.filename is not None:
            stem = osp.splitext(osp.basename(self.cfg.filename))[0]
            self._experiment_name = f'{stem}_{self._timestamp}'
        else:
            self._experiment_name = self._timestamp
        self._experiment_name = _unique_experiment_name(self._experiment_name)
        self._log_dir = osp.join(self.work_dir, self.timestamp)
        mkdir_or_exist(self._log_dir)

        self.logger = self.build_logger(log_level=log_level)
        self._log_env(env_cfg)
        self.message_hub = self.build_message_hub()
        self.visualizer = self.build_visualizer(visualizer)
        if self.cfg:
            try:
                self.visualizer.add_config(self.cfg)
            except Exception as e:  # e.g. an unserialisable object in cfg
                self.logger.warning(f'Could not save the config with the '
                                    f'visualizer: {e!r}')

        if default_scope is not None:
            default_scope = DefaultScope.get_instance(
                self._experiment_name, scope_name=default_scope)
        self.default_scope = default_scope

        self.log_processor = self.build_log_processor(log_processor)
        self._load_from = load_from
        self._resume = resume
        self._has_loaded = False
        self._resume_state: Optional[dict] = None

        if isinstance(model, dict) and data_preprocessor is not None:
            model = copy.copy(model)
            model.setdefault('data_preprocessor', data_preprocessor)
        self.model = self.build_model(model)
        self.model = self.wrap_model(
            self.cfg.get('model_wrapper_cfg'), self.model)
        inner = getattr(self.model, 'module', self.model)
        self._model_name = type(inner).__name__

        self._hooks: List = []
        self.register_hooks(default_hooks, custom_hooks)
        self.logger.info('Hooks will be executed in the following '
                         f'order:\n{self.get_hooks_info()}')
        self.dump_config()

    # ------------------------------------------------------------ building
    @classmethod
    def from_cfg(cls, cfg: ConfigType) -> 'Runner':
        """Build a runner from a config (keys named like the arguments).

        When ``cfg.runner_type`` names another registered runner class, that
        class's ``from_cfg`` builds it.

        Args:
            cfg (dict | Config): The config; must contain ``model`` and
                ``work_dir``.

        Returns:
            Runner: The runner, with the whole config as ``runner.cfg``.
        """
        cfg = copy.deepcopy(cfg)
        # Runner.from_cfg honours ``runner_type`` like RUNNERS.build does.
        runner_type = cfg.get('runner_type')
        if cls is Runner and runner_type not in (None, 'Runner', Runner):
            target = RUNNERS.get(runner_type) if isinstance(
                runner_type, str) else runner_type
            if not (isinstance(target, type) and issubclass(target, Runner)):
                raise KeyError(f'runner_type {runner_type!r} is not a Runner '
                               'class registered in RUNNERS')
            if target is not Runner:
                return target.from_cfg(cfg)
        for key in ('model', 'work_dir'):
            if key not in cfg:
                raise KeyError(f'Runner.from_cfg: the config must contain '
                               f'"{key}", but got keys {sorted(cfg)}')
        return cls(
            model=cfg['model'],
            work_dir=cfg['work_dir'],
            train_dataloader=cfg.get('train_dataloader'),
            val_dataloader=cfg.get('val_dataloader'),
            test_dataloader=cfg.get('test_dataloader'),
            train_cfg=cfg.get('train_cfg'),
            val_cfg=cfg.get('val_cfg'),
            test_cfg=cfg.get('test_cfg'),
            auto_scale_lr=cfg.get('auto_scale_lr'),
            optim_wrapper=cfg.get('optim_wrapper'),
            param_scheduler=cfg.get('param_scheduler'),
            val_evaluator=cfg.get('val_evaluator'),
            test_evaluator=cfg.get('test_evaluator'),
            default_hooks=cfg.get('default_hooks'),
            custom_hooks=cfg.get('custom_hooks'),
            data_preprocessor=cfg.get('data_preprocessor'),
            load_from=cfg.get('load_from'),
            resume=cfg.get('resume', False),
            launcher=cfg.get('launcher', 'none'),
            env_cfg=cfg.get('env_cfg', dict(dist_cfg=dict(backend='nccl'))),
            log_processor=cfg.get('log_processor'),
            log_level=cfg.get('log_level', 'INFO'),
            visualizer=cfg.get('visualizer'),
            default_scope=cfg.get('default_scope', 'mmengine'),
            randomness=cfg.get('randomness', dict(seed=None)),
            experiment_name=cfg.get('experiment_name'),
            cfg=cfg,
        )

    @staticmethod
    def _check_triple(phase: str, names: Sequence[str],
                      values: Sequence[Any]) -> None:
        given = [v is not None for v in values]
        if any(given) and not all(given):
            status = ', '.join(
                f'{n}={"set" if g else "None"}' for n, g in zip(names, given))
            raise ValueError(
                f'{", ".join(names[:-1])} and {names[-1]} should be either '
                f'all None or not None, but got {status} (the {phase} '
                'components are given together or not at all).')

    @master_only
    def dump_config(self) -> None:
        """Write the config to ``work_dir`` (as its file name, or
        ``<timestamp>.py``)."""
        if not self.cfg:
            return
        if self.cfg.filename is not None:
            filename = osp.basename(self.cfg.filename)
        else:
            filename = f'{self.timestamp}.py'
        try:
            self.cfg.dump(osp.join(self.work_dir, filename))
        except Exception as e:  # e.g. objects with no text form in cfg
            self.logger.warning(f'Could not dump the config to {filename}: '
                                f'{e!r}')

    # --------------------------------------------------------- entry points
    def _inner_model(self) -> nn.Module:
        from mmengine.model import is_model_wrapper
        return self.model.module if is_model_wrapper(
            self.model) else self.model

    def train(self) -> nn.Module:
        """Build the training components, load/resume if asked, and train.

        Returns:
            nn.Module: The trained model.
        """
        model = self._inner_model()
        assert hasattr(model, 'train_step'), (
            'If you want to train your model, please make sure your model '
            'has implemented `train_step`.')
        if self._val_loop is not None:
            assert hasattr(model, 'val_step'), (
                'If you want to validate your model, please make sure your '
                'model has implemented `val_step`.')
        if self._train_loop is None:
            raise RuntimeError(
                '`self._train_loop` should not be None when calling train '
                'method. Please provide `train_dataloader`, `train_cfg`, '
                '`optimizer` and `param_scheduler` arguments when '
                'initializing runner.')
        self._train_loop = self.build_train_loop(self._train_loop)
        # The optimizer wrapper first: schedulers are built against it.
        self.optim_wrapper = self.build_optim_wrapper(self.optim_wrapper)
        self.scale_lr(self.optim_wrapper, self.auto_scale_lr)
        if self.param_schedulers is not None:
            self.param_schedulers = self.build_param_scheduler(
                self.param_schedulers)
        if self._val_loop is not None:
            self._val_loop = self.build_val_loop(self._val_loop)

        self.call_hook('before_run')
        self._init_model_weights()
        self._apply_model_options(model)
        # After before_run, so that checkpoint-related hooks see it.
        self.load_or_resume()
        self.optim_wrapper.initialize_count_status(self.model,
                                                   self._train_loop.iter,
                                                   self._train_loop.max_iters)
        self._maybe_compile('train_step')
        model = self.train_loop.run()
        self.call_hook('after_run')
        return model

    def _apply_model_options(self, model: nn.Module) -> None:
        modules = self.cfg.get('activation_checkpointing', None)
        if modules is not None:
            from .activation_checkpointing import \
                turn_on_activation_checkpointing
            turn_on_activation_checkpointing(model, modules)
        modules = self.cfg.get('efficient_conv_bn_eval', None)
        if modules is not None:
            from mmengine.model.efficient_conv_bn_eval import \
                turn_on_efficient_conv_bn_eval
            turn_on_efficient_conv_bn_eval(model, modules)

    def _run_eval(self, mode: str) -> dict:
        attr = f'_{mode}_loop'
        if getattr(self, attr) is None:
            raise RuntimeError(
                f'`self.{attr}` should not be None when calling {mode} '
                f'method. Please provide `{mode}_dataloader`, `{mode}_cfg` '
                f'and `{mode}_evaluator` arguments when initializing runner.')
        builder = getattr(self, f'build_{mode}_loop')
        setattr(self, attr, builder(getattr(self, attr)))
        self.call_hook('before_run')
        self.load_or_resume()
        self._maybe_compile(f'{mode}_step')
        metrics = getattr(self, attr).run()
        self.call_hook('after_run')
        return metrics

    def val(self) -> dict:
        """Run the validation loop; returns the metrics."""
        return self._run_eval('val')

    def test(self) -> dict:
        """Run the test loop; returns the metrics."""
        return self._run_eval('test')

    def _init_model_weights(self) -> None:
        """``init_weights()`` of the model, then share rank 0's weights.

        Skipped when ``wrap_model`` already initialised the model (before a
        sharding wrapper such as FSDP split its parameters).
        """
        if getattr(self, '_weights_initialized', False):
            return
        model = self._inner_model()
        if hasattr(model, 'init_weights'):
            model.init_weights()
            if self.world_size > 1:
                for param in model.state_dict().values():
                    broadcast(param)

    # ----------------------------------------------------------- properties
    @property
    def experiment_name(self) -> str:
        """str: Name of the run (also of its logger, hub, visualizer)."""
        return self._experiment_name

    @property
    def model_name(self) -> str:
        """str: Class name of the (unwrapped) model."""
        return self._model_name

    @property
    def work_dir(self) -> str:
        """str: Absolute output directory."""
        return self._work_dir

    @property
    def log_dir(self) -> str:
        """str: ``<work_dir>/<timestamp>`` (logs and vis_data)."""
        return self._log_dir

    @property
    def timestamp(self) -> str:
        """str: Start time ``YYYYmmdd_HHMMSS`` (shared by all ranks)."""
        return self._timestamp

    @property
    def launcher(self) -> str:
        """str: The launcher."""
        return self._launcher

    @property
    def distributed(self) -> bool:
        """bool: Whether the run is distributed."""
        return self._distributed

    @property
    def rank(self) -> int:
        """int: Global rank."""
        return self._rank

    @property
    def world_size(self) -> int:
        """int: Number of processes."""
        return self._world_size

    @property
    def deterministic(self) -> bool:
        """bool: Whether deterministic algorithms were requested."""
        return self._deterministic

    @property
    def seed(self) -> int:
        """int: The seed of this run."""
        return self._seed

    @property
    def hooks(self) -> List:
        """list[Hook]: Registered hooks, in priority order."""
        return self._hooks

    @property
    def train_loop(self) -> Optional[BaseLoop]:
        """BaseLoop or None: the train loop (built on first access)."""
        # Read several times per iteration by hooks (runner.iter, ...): a
        # dict check is cheaper than isinstance against the abstract base.
        loop = self._train_loop
        if isinstance(loop, dict):
            loop = self._train_loop = self.build_train_loop(loop)
        return loop

    @property
    def val_loop(self) -> Optional[BaseLoop]:
        """BaseLoop or None: the validation loop (built on first access)."""
        # Read several times per iteration by hooks (runner.iter, ...): a
        # dict check is cheaper than isinstance against the abstract base.
        loop = self._val_loop
        if isinstance(loop, dict):
            loop = self._val_loop = self.build_val_loop(loop)
        return loop

    @property
    def test_loop(self) -> Optional[BaseLoop]:
        """BaseLoop or None: the test loop (built on first access)."""
        # Read several times per iteration by hooks (runner.iter, ...): a
        # dict check is cheaper than isinstance against the abstract base.
        loop = self._test_loop
        if isinstance(loop, dict):
            loop = self._test_loop = self.build_test_loop(loop)
        return loop

    @property
    def train_dataloader(self) -> Optional[DataLoader]:
        """DataLoader: the train loop's data loader."""
        loop = self.train_loop
        return None if loop is None else loop.dataloader

    @property
    def val_dataloader(self) -> Optional[DataLoader]:
        """DataLoader: the validation loop's data loader."""
        loop = self.val_loop
        return None if loop is None else loop.dataloader

    @property
    def test_dataloader(self) -> Optional[DataLoader]:
        """DataLoader: the test loop's data loader."""
        loop = self.test_loop
        return None if loop is None else loop.dataloader

    @property
    def val_evaluator(self) -> Any:
        """Evaluator: the validation loop's evaluator."""
        loop = self.val_loop
        return getattr(loop, 'evaluator', None)

    @property
    def test_evaluator(self) -> Any:
        """Evaluator: the test loop's evaluator."""
        loop = self.test_loop
        return getattr(loop, 'evaluator', None)

    @property
    def max_epochs(self) -> Optional[int]:
        """int: Total training epochs (None without a train loop)."""
        loop = self.train_loop
        return None if loop is None else loop.max_epochs

    @property
    def max_iters(self) -> Optional[int]:
        """int: Total training iterations (None without a train loop)."""
        loop = self.train_loop
        return None if loop is None else loop.max_iters

    @property
    def epoch(self) -> int:
        """int: Completed training epochs (0 without a train loop)."""
        loop = self.train_loop
        return 0 if loop is None else loop.epoch

    @property
    def iter(self) -> int:
        """int: Completed training iterations (0 without a train loop)."""
        loop = self.train_loop
        return 0 if loop is None else loop.iter

    @property
    def val_interval(self) -> int:
        """int: Validation interval of the train loop."""
        return self.train_loop.val_interval  # type: ignore

    @property
    def val_begin(self) -> int:
        """int: First epoch/iteration that may validate."""
        return self.train_loop.val_begin  # type: ignore
