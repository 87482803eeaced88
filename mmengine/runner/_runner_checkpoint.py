"""Checkpoint saving, loading and (exact) resume for the Runner.

Checkpoints are pickle-free (tensors and plain types only) and written
atomically. Besides model, optimizer, schedulers and message hub they hold
``resume_state``: the RNG states of python/numpy/torch and the train
loop's position (sampler state, batches done in the current epoch), so
that a resumed run continues bitwise identically and in O(1).
"""
import contextlib
import glob
import logging
import os
import os.path as osp
import re
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.dist import is_main_process
from mmengine.fileio import join_path
from mmengine.logging import print_log
from .utils import get_rng_state

__all__ = ['CheckpointMixin']

# Temp files of fileio's atomic_write: ".<name>.<random>.tmp".
_TEMP_FILE = re.compile(r'^\.(?P<name>.+)\.[A-Za-z0-9_]+\.tmp$')


def _plain(value: Any, where: str) -> Any:
    """``value`` as tensors/plain types, or None with a warning."""
    from mmengine.logging.message_hub import to_plain
    try:
        return to_plain(value, where)
    except Exception as e:
        print_log(
            f'{where} is not stored in the checkpoint: it contains values '
            f'that are not tensors or plain Python types ({e}).',
            logger='current',
            level=logging.WARNING)
        return None


def _fsdp_root(model: Any) -> Any:
    """``model`` if it is wrapped in FSDP (its parameters are sharded over
    the ranks), else None."""
    if 'torch.distributed.fsdp' not in sys.modules:
        return None  # nothing can be an FSDP module yet
    from torch.distributed.fsdp import FullyShardedDataParallel
    return model if isinstance(model, FullyShardedDataParallel) else None


@contextlib.contextmanager
def _fsdp_full_state(model: Any, rank0_only: bool):
    """Make ``state_dict``/``load_state_dict`` and FSDP's optimizer state
    functions use full (unsharded) states; collective on every rank."""
    from torch.distributed.fsdp import (FullOptimStateDictConfig,
                                        FullStateDictConfig,
                                        FullyShardedDataParallel,
                                        StateDictType)

    from mmengine.device import get_device

    # Offloading a CPU model fails in torch (and is pointless there).
    offload = get_device() != 'cpu'
    with FullyShardedDataParallel.state_dict_type(
            model, StateDictType.FULL_STATE_DICT,
            FullStateDictConfig(offload_to_cpu=offload, rank0_only=rank0_only),
            FullOptimStateDictConfig(
                offload_to_cpu=offload, rank0_only=rank0_only)):
        yield


def _revised_state_dict(checkpoint: dict, revise_keys: list) -> dict:
    state_dict = checkpoint.get('state_dict', checkpoint)
    for pattern, replacement in revise_keys:
        regex = re.compile(pattern)
        state_dict = {regex.sub(replacement, k): v
                      for k, v in state_dict.items()}
    return state_dict


class CheckpointMixin:
    """Checkpoint part of :class:`Runner`."""

    # ----------------------------------------------------------------- save
    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        """Save a checkpoint (atomically) to ``out_dir/filename``.

        Only the main process writes. The model is replicated on every rank,
        so on the other ranks this is a no-op, except with FSDP: the sharded
        weights and optimizer states are gathered (a collective call on
        every rank) and rank 0 writes them in full.

        Called by ``CheckpointHook`` from ``after_train_epoch`` (by_epoch,
        so the saved epoch is ``epoch + 1``) or ``after_train_iter`` (saved
        iteration is ``iter + 1``).

        Args:
            out_dir (str): Directory (or URI prefix).
            filename (str): File name.
            file_client_args (dict, optional): Deprecated, use
                ``backend_args``.
            save_optimizer (bool): Store the optimizer state.
            save_param_scheduler (bool): Store the scheduler states.
            meta (dict, optional): Extra meta (plain types).
            by_epoch (bool): Whether the save happens at an epoch end.
            backend_args (dict, optional): File backend arguments.
        """
        import mmengine
        from mmengine.model import is_model_wrapper
        from mmengine.optim import OptimWrapper, OptimWrapperDict
        from .checkpoint import get_state_dict, save_checkpoint, weights_to_cpu
        fsdp = _fsdp_root(self.model)
        if fsdp is None and not is_main_process():
            return
        if meta is None:
            meta = {}
        elif not isinstance(meta, dict):
            raise TypeError(
                f'meta should be a dict or None, but got {type(meta)}')
        if by_epoch:
            # Called from after_train_epoch, before the epoch counter moves.
            meta.setdefault('epoch', self.epoch + 1)
            meta.setdefault('iter', self.iter)
        else:
            meta.setdefault('epoch', self.epoch)
            meta.setdefault('iter', self.iter + 1)
        if file_client_args is not None:
            if backend_args is not None:
                raise ValueError('"file_client_args" and "backend_args" '
                                 'cannot be set at the same time.')
            from mmengine.fileio import FileClient
            client = FileClient.infer_client(file_client_args, out_dir)
            filepath = client.join_path(out_dir, filename)
        else:
            filepath = join_path(out_dir, filename, backend_args=backend_args)

        # The config text is formatted once (it costs per save otherwise).
        if self.__dict__.get('_cfg_text') is None:
            self.__dict__['_cfg_text'] = self.cfg.pretty_text if \
                self.cfg else ''
        meta.update(
            cfg=self.__dict__['_cfg_text'],
            seed=self.seed,
            experiment_name=self.experiment_name,
            time=time.strftime('%Y%m%d_%H%M%S', time.localtime()),
            mmengine_version=mmengine.__version__)
        train_loop = self.train_loop
        if train_loop is not None and hasattr(train_loop.dataloader.dataset,
                                              'metainfo'):
            meta['dataset_meta'] = _plain(
                train_loop.dataloader.dataset.metainfo, 'dataset_meta')

        if save_optimizer and not isinstance(self.optim_wrapper,
                                             (OptimWrapper, OptimWrapperDict)):
            raise TypeError(
                'self.optim_wrapper should be an `OptimWrapper` or '
                '`OptimWrapperDict` instance, but got '
                f'{self.optim_wrapper}')
        if fsdp is not None:
            from torch.distributed.fsdp import FullyShardedDataParallel
            if save_optimizer and not isinstance(self.optim_wrapper,
                                                 OptimWrapper):
                raise TypeError('Saving the optimizer of an FSDP model '
                                'needs a single OptimWrapper, but got '
                                f'{type(self.optim_wrapper).__name__}')
            with _fsdp_full_state(fsdp, rank0_only=True):
                state_dict = fsdp.state_dict()
                optim_state = FullyShardedDataParallel.optim_state_dict(
                    fsdp, self.optim_wrapper.optimizer
                ) if save_optimizer else None
            if not is_main_process():
                return
        else:
            model = self.model.module if is_model_wrapper(
                self.model) else self.model
            state_dict = weights_to_cpu(get_state_dict(model))
        checkpoint: Dict[str, Any] = {
            'meta': meta,
            'state_dict': state_dict,
            'message_hub': self.message_hub.state_dict(),
        }
        if save_optimizer:
            checkpoint['optimizer'] = self.optim_wrapper.state_dict()
            if fsdp is not None:
                # Full states keyed by parameter name replace the shards.
                checkpoint['optimizer'].update(optim_state)
        if save_param_scheduler and self.param_schedulers is None:
            self.logger.warning(
                '`save_param_scheduler` is True but `self.param_schedulers` '
                'is None, so skip saving parameter schedulers')
            save_param_scheduler = False
        if save_param_scheduler:
            if isinstance(self.param_schedulers, dict):
                checkpoint['param_schedulers'] = {
                    name: [s.state_dict() for s in schedulers]
                    for name, schedulers in self.param_schedulers.items()
                }
            else:
                checkpoint['param_schedulers'] = [
                    s.state_dict() for s in self.param_schedulers
                ]
        resume_state: Dict[str, Any] = dict(rng=get_rng_state())
        if train_loop is not None and hasattr(train_loop, 'progress_state'):
            resume_state.update(
                train_loop.progress_state(meta['epoch'], meta['iter']))
        checkpoint['resume_state'] = resume_state

        self.call_hook('before_save_checkpoint', checkpoint=checkpoint)
        save_checkpoint(checkpoint, filepath, backend_args=backend_args)

    # ----------------------------------------------------------------- load
    def load_checkpoint(self,
                        filename: str,
                        map_location: Any = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]) -> dict:
        """Load model weights from a checkpoint (not optimizer/progress).

        Args:
            filename (str): Path or URI of the checkpoint.
            map_location (str | device): Where tensors are loaded.
            strict (bool): Require exactly matching keys.
            revise_keys (list): ``(pattern, replacement)`` applied to keys.

        Returns:
            dict: The loaded checkpoint.
        """
        from .checkpoint import _load_checkpoint
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        return self._load_model_from(checkpoint, filename, strict,
                                     revise_keys)

    def _load_model_from(self, checkpoint: dict, filename: str, strict: bool,
                         revise_keys: list) -> dict:
        from .checkpoint import _load_checkpoint_to_model
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        fsdp = _fsdp_root(self.model)
        if fsdp is not None:
            # Every rank loads the full weights; FSDP keeps its shard.
            state_dict = _revised_state_dict(checkpoint, revise_keys)
            with _fsdp_full_state(fsdp, rank0_only=False):
                result = fsdp.load_state_dict(state_dict, strict=strict)
            if result.missing_keys or result.unexpected_keys:
                self.logger.warning(
                    f'Loading {filename} into the FSDP model: missing keys '
                    f'{result.missing_keys}, unexpected keys '
                    f'{result.unexpected_keys}')
        else:
            checkpoint = _load_checkpoint_to_model(
                self._inner_model(), checkpoint, strict,
                revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Any = 'default') -> None:
        """Resume training: weights, optimizer, schedulers, message hub,
        counters and (for exact resume) RNG states and data position.

        Args:
            filename (str): Checkpoint path or URI.
            resume_optimizer (bool): Restore the optimizer state.
            resume_param_scheduler (bool): Restore the scheduler states.
            map_location (str | device): ``'default'`` = the run's device.
        """
        from .checkpoint import _load_checkpoint
        if map_location == 'default':
            from mmengine.device import get_device
            map_location = get_device()
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        self._resume_from(checkpoint, filename, resume_optimizer,
                          resume_param_scheduler)

    def _resume_from(self, checkpoint: dict, filename: str,
                     resume_optimizer: bool = True,
                     resume_param_scheduler: bool = True) -> None:
        if not isinstance(checkpoint, dict) or 'meta' not in checkpoint:
            raise KeyError(f'{filename} is not a training checkpoint: it has '
                           'no "meta" (epoch/iter) to resume from')
        checkpoint = self._load_model_from(checkpoint, filename, False,
                                           [(r'^module.', '')])
        meta = checkpoint['meta']
        self.train_loop._epoch = meta['epoch']
        self.train_loop._iter = meta['iter']

        resumed_meta = meta.get('dataset_meta', None)
        dataset = self.train_dataloader.dataset
        if resumed_meta is not None and resumed_meta != getattr(
                dataset, 'metainfo', None):
            self.logger.warning(
                'The dataset metainfo from the resumed checkpoint is '
                'different from the current training dataset, please check '
                'the correctness of the checkpoint or the training dataset.')
        resumed_seed = meta.get('seed', None)
        current_seed = self._randomness_cfg.get('seed')
        if resumed_seed is not None and resumed_seed != current_seed:
            if current_seed is not None:
                self.logger.warning(
                    f'The value of random seed in the checkpoint '
                    f'"{resumed_seed}" is different from the value in '
                    f'`randomness` config "{current_seed}"')
            self._randomness_cfg.update(seed=resumed_seed)
            self.set_randomness(**self._randomness_cfg)

        if 'message_hub' in checkpoint:
            self.message_hub.load_state_dict(checkpoint['message_hub'])
        if 'optimizer' in checkpoint and resume_optimizer:
            self.optim_wrapper = self.build_optim_wrapper(self.optim_wrapper)
            optim_state = checkpoint['optimizer']
            fsdp = _fsdp_root(self.model)
            if fsdp is not None:
                from torch.distributed.fsdp import FullyShardedDataParallel
                full = dict(state=optim_state['state'],
                            param_groups=optim_state['param_groups'])
                with _fsdp_full_state(fsdp, rank0_only=False):
                    sharded = FullyShardedDataParallel.optim_state_dict_to_load(
                        fsdp, self.optim_wrapper.optimizer, full)
                optim_state = dict(optim_state, **sharded)
            self.optim_wrapper.load_state_dict(optim_state)
        if resume_param_scheduler and self.param_schedulers is None:
            self.logger.warning(
                '`resume_param_scheduler` is True but `self.param_schedulers` '
                'is None, so skip resuming parameter schedulers')
            resume_param_scheduler = False
        if 'param_schedulers' in checkpoint and resume_param_scheduler:
            self.param_schedulers = self.build_param_scheduler(
                self.param_schedulers)
            saved = checkpoint['param_schedulers']
            if isinstance(self.param_schedulers, dict):
                for name, schedulers in self.param_schedulers.items():
                    self._load_schedulers(schedulers, saved[name], name)
            else:
                self._load_schedulers(self.param_schedulers, saved, None)
        # Applied by the train loop when it starts (RNG, sampler position).
        self._resume_state = checkpoint.get('resume_state')
        self._has_loaded = True
        self.logger.info(f'resumed epoch: {self.epoch}, iter: {self.iter}')

    def _load_schedulers(self, schedulers: Sequence, states: Sequence,
                         name: Optional[str]) -> None:
        if len(schedulers) != len(states):
            where = f' of optimizer {name!r}' if name else ''
            self.logger.warning(
                f'The checkpoint has {len(states)} parameter scheduler '
                f'states{where} but {len(schedulers)} schedulers are '
                'configured; only the first ones are resumed.')
        for scheduler, state in zip(schedulers, states):
            scheduler.load_state_dict(state)

    def _pop_resume_state(self) -> Optional[dict]:
        state, self._resume_state = self._resume_state, None
        return state

    # --------------------------------------------------------- auto resume
    def _resume_candidates(self) -> List[str]:
        """Checkpoints in ``work_dir`` to auto-resume from, newest first:
        the one named in ``last_checkpoint``, then ``*.pth`` by mtime."""
        work_dir = self.work_dir
        candidates: List[str] = []
        marker = osp.join(work_dir, 'last_checkpoint')
        if osp.isfile(marker):
            with open(marker) as f:
                last = f.read().strip()
            if last:
                candidates.append(last)
        files: List[Tuple[float, str]] = []
        for path in glob.glob(osp.join(work_dir, '*.pth')):
            try:
                files.append((osp.getmtime(path), path))
            except OSError:
                continue
        for _, path in sorted(files, reverse=True):
            if path not in candidates:
                candidates.append(path)
        return candidates

    def _clean_temp_files(self) -> None:
        """Remove temp files left by an atomic write that crashed."""
        if not is_main_process():
            return
        for name in os.listdir(self.work_dir):
            match = _TEMP_FILE.match(name)
            if match and (match['name'].endswith('.pth')
                          or match['name'] == 'last_checkpoint'):
                path = osp.join(self.work_dir, name)
                try:
                    os.remove(path)
                    self.logger.info(
                        f'Removed {path}, left over by an interrupted '
                        'checkpoint write.')
                except OSError:
                    pass

    def _auto_resume(self) -> None:
        from .checkpoint import _load_checkpoint
        from mmengine.device import get_device
        self._clean_temp_files()
        for path in self._resume_candidates():
            try:
                checkpoint = _load_checkpoint(path, map_location=get_device())
                if not isinstance(checkpoint, dict) or 'meta' not in \
                        checkpoint:
                    raise KeyError('no "meta" in the checkpoint')
            except Exception as e:
                self.logger.warning(
                    f'Skip checkpoint {path} for auto-resume: it could not '
                    f'be loaded ({type(e).__name__}: {e}); trying the '
                    'previous one.')
                continue
            self.logger.info(
                f'Auto resumed from the latest checkpoint {path}.')
            self._resume_from(checkpoint, path)
            return
        self.logger.info(f'No checkpoint found in {self.work_dir} to resume '
                         'from; training starts from scratch.')

    def load_or_resume(self) -> None:
        """Load ``load_from`` or resume as configured (once per runner)."""
        if self._has_loaded:
            return None
        if self._resume and self._load_from is None:
            self._auto_resume()
        elif self._resume:
            self.resume(self._load_from)
        elif self._load_from is not None:
            self.load_checkpoint(self._load_from)
