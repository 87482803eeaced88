"""Environment setup of the Runner: cuDNN, multiprocessing, distributed
initialisation, the shared timestamp, seeds, and the environment banner.

A mixin of :class:`mmengine.runner.Runner`; ``setup_env`` is the documented
override point of custom runners.
"""
import time
import warnings
from typing import Dict, Optional

import torch

from mmengine.dist import (broadcast, get_dist_info, init_dist,
                           is_distributed)
from mmengine.registry import DefaultScope
from .utils import set_random_seed

__all__ = ['EnvMixin']


class EnvMixin:
    """Environment part of the Runner (see the module docstring)."""

    @staticmethod
    def _normalize_env_cfg(env_cfg: Optional[Dict]) -> Dict:
        """Copy ``env_cfg``; accept a top-level ``backend`` as
        ``dist_cfg.backend`` (the Runner tutorial writes it that way)."""
        if env_cfg is not None and not isinstance(env_cfg, dict):
            raise TypeError('env_cfg should be a dict with keys '
                            'cudnn_benchmark, mp_cfg and dist_cfg, but got '
                            f'{type(env_cfg).__name__}: {env_cfg!r}')
        env_cfg = dict(env_cfg or {})
        for key in ('mp_cfg', 'dist_cfg'):
            if env_cfg.get(key) is not None and not isinstance(
                    env_cfg[key], dict):
                raise TypeError(f'env_cfg.{key} should be a dict, but got '
                                f'{type(env_cfg[key]).__name__}: '
                                f'{env_cfg[key]!r}')
        if 'backend' in env_cfg:
            dist_cfg = dict(env_cfg.get('dist_cfg') or {})
            dist_cfg.setdefault('backend', env_cfg.pop('backend'))
            env_cfg['dist_cfg'] = dist_cfg
        return env_cfg

    def setup_env(self, env_cfg: Dict) -> None:
        """Set up cuDNN, multiprocessing and the distributed environment.

        Args:
            env_cfg (dict): ``cudnn_benchmark`` (bool), ``mp_cfg`` (kwargs of
                ``set_multi_processing``), ``dist_cfg`` (kwargs of
                ``init_dist``, e.g. ``backend``).
        """
        from mmengine.utils.dl_utils import set_multi_processing
        if env_cfg.get('cudnn_benchmark'):
            torch.backends.cudnn.benchmark = True
        mp_cfg = env_cfg.get('mp_cfg') or {}
        set_multi_processing(**mp_cfg, distributed=self.distributed)
        if self.distributed and not is_distributed():
            dist_cfg = dict(env_cfg.get('dist_cfg') or {})
            if dist_cfg.get('backend', 'nccl') == 'nccl' and \
                    not torch.cuda.is_available():
                # NCCL needs GPUs; gloo is the CPU backend.
                warnings.warn('env_cfg.dist_cfg.backend is "nccl" but CUDA '
                              'is not available; using "gloo" instead.')
                dist_cfg['backend'] = 'gloo'
            init_dist(self.launcher, **dist_cfg)
        self._rank, self._world_size = get_dist_info()
        # All ranks share rank 0's timestamp (the log directory name).
        timestamp = torch.tensor(time.time(), dtype=torch.float64)
        broadcast(timestamp)
        self._timestamp = time.strftime('%Y%m%d_%H%M%S',
                                        time.localtime(timestamp.item()))

    def set_randomness(self,
                       seed: Optional[int] = None,
                       diff_rank_seed: bool = False,
                       deterministic: bool = False) -> None:
        """Seed python, numpy and torch (see :func:`set_random_seed`).

        Args:
            seed (int, optional): The seed; None draws one shared by ranks.
            diff_rank_seed (bool): Use ``seed + rank``. Defaults to False.
            deterministic (bool): Deterministic cuDNN/algorithms.
        """
        self._deterministic = deterministic
        self._seed = set_random_seed(
            seed=seed,
            deterministic=deterministic,
            diff_rank_seed=diff_rank_seed)

    def _log_env(self, env_cfg: Dict) -> None:
        """Log the environment banner and the config text."""
        from mmengine.utils.dl_utils import collect_env
        env = collect_env()
        dash_line = '-' * 60
        system = '\n'.join(f'    {k}: {v}' for k, v in env.items())
        runtime = dict(
            cudnn_benchmark=torch.backends.cudnn.benchmark,
            mp_cfg=env_cfg.get('mp_cfg'),
            dist_cfg=env_cfg.get('dist_cfg'),
            seed=self.seed,
            deterministic=self._deterministic,
            launcher=self.launcher,
            Distributed=self.distributed,
            GPU_number=self.world_size)
        runtime_text = '\n'.join(f'    {k}: {v}' for k, v in runtime.items())
        self.logger.info(f'\n{dash_line}\nSystem environment:\n{system}\n\n'
                         f'Runtime environment:\n{runtime_text}\n'
                         f'{dash_line}\n')
        if self.cfg:
            try:
                text = self.cfg.pretty_text
            except Exception as e:  # objects without a text form
                text = f'<config could not be formatted: {e!r}>'
            self.logger.info(f'Config:\n{text}')


def _unique_experiment_name(name: str) -> str:
    """``name``, or ``name_1``, ``name_2``, ... when another runner of this
    process already uses it.

    The experiment name keys the runner's logger, message hub, visualizer
    and default scope (global instances). Two runners started in the same
    second would otherwise share them: the second would log into the
    first one's history, and components bound to the current message hub
    (e.g. the optimizer wrapper's ``grad_norm``) would write to the wrong
    one.
    """
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.visualization import Visualizer

    def taken(candidate: str) -> bool:
        return any(
            cls.check_instance_created(candidate)
            for cls in (MessageHub, MMLogger, Visualizer, DefaultScope))

    candidate, n = name, 0
    while taken(candidate):
        n += 1
        candidate = f'{name}_{n}'
    return candidate
