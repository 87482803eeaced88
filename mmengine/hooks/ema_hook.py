"""``EMAHook``: keep an averaged copy of the model for val/test."""
import copy
import itertools
import logging
from typing import Dict, Optional, Union

from mmengine.logging import print_log
from mmengine.registry import HOOKS, MODELS
from .hook import DATA_BATCH, Hook


@HOOKS.register_module()
class EMAHook(Hook):
    """Maintains an averaged model and uses it for validation and testing.

    After every training iteration the averaged model (built from
    ``MODELS`` with ``type=ema_type``) is updated from the live model;
    training itself always uses the live weights. Before each val/test epoch
    the averaged and live parameters are swapped, and swapped back after it.

    In checkpoints, ``state_dict`` holds the averaged weights (ready for
    deployment) and ``ema_state_dict`` the averaged model's own state with
    the live weights under its ``module.`` keys; resuming swaps them back,
    so training continues exactly.

    Args:
        ema_type (str or type): The averaged-model class:
            ``'ExponentialMovingAverage'`` (default),
            ``'MomentumAnnealingEMA'``, ``'StochasticWeightAverage'`` or any
            registered ``BaseAveragedModel``.
        strict_load (bool): Whether loading the averaged model's state is
            strict. Defaults to False.
        begin_iter (int): Iteration at which averaging starts; before that the
            averaged model copies the live weights. Defaults to 0.
        begin_epoch (int): Epoch at which averaging starts; exclusive with
            ``begin_iter``. Defaults to 0.
        **kwargs: Passed to the averaged-model class (e.g. ``momentum``,
            ``update_buffers``, ``interval``).
    """

    priority = 'NORMAL'

    def __init__(self,
                 ema_type: Union[str, type] = 'ExponentialMovingAverage',
                 strict_load: bool = False,
                 begin_iter: int = 0,
                 begin_epoch: int = 0,
                 **kwargs) -> None:
        for name, value in (('begin_iter', begin_iter), ('begin_epoch',
                                                         begin_epoch)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f'EMAHook: {name} must be an int, but got '
                                f'{type(value).__name__}: {value!r}')
            if value < 0:
                raise ValueError(f'EMAHook: {name} must not be negative, '
                                 f'but got {value}')
        if begin_iter != 0 and begin_epoch != 0:
            raise ValueError('EMAHook: `begin_iter` and `begin_epoch` should '
                             'not be both set.')
        self.strict_load = strict_load
        self.ema_cfg = dict(type=ema_type, **kwargs)
        self.begin_iter = begin_iter
        self.begin_epoch = begin_epoch
        # Without begin_epoch, averaging is scheduled by iterations.
        self.enabled_by_epoch = self.begin_epoch > 0
        self.src_model = None
        self.ema_model = None

    def before_run(self, runner) -> None:
        """Build the averaged model from the (unwrapped) live model.

        A second run of the same runner (``runner.train()`` then
        ``runner.test()``) keeps the averaged model, so the test uses the
        averaged weights of the training.
        """
        from mmengine.model import is_model_wrapper
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        if self.ema_model is not None and self.src_model is model:
            return
        self.src_model = model
        self.ema_model = MODELS.build(
            self.ema_cfg, default_args=dict(model=self.src_model))

    def before_train(self, runner) -> None:
        """Check that averaging starts within the training length."""
        if self.enabled_by_epoch:
            if self.begin_epoch > runner.max_epochs:
                raise ValueError(
                    'EMAHook: begin_epoch should be smaller than or equal to '
                    f'runner.max_epochs ({runner.max_epochs}), but got '
                    f'{self.begin_epoch}')
        elif self.begin_iter > runner.max_iters:
            raise ValueError(
                'EMAHook: begin_iter should be smaller than or equal to '
                f'runner.max_iters ({runner.max_iters}), but got '
                f'{self.begin_iter}')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Update the averaged model (or copy the weights before start)."""
        if self._ema_started(runner):
            self.ema_model.update_parameters(self.src_model)
        else:
            ema_params = self.ema_model.module.state_dict()
            src_params = self.src_model.state_dict()
            for key, param in ema_params.items():
                param.data.copy_(src_params[key].data)

    def before_val_epoch(self, runner) -> None:
        """Validate with the averaged weights."""
        self._swap_ema_parameters()

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Go back to the live weights."""
        self._swap_ema_parameters()

    def before_test_epoch(self, runner) -> None:
        """Test with the averaged weights."""
        self._swap_ema_parameters()

    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        """Go back to the live weights."""
        self._swap_ema_parameters()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the averaged model; make ``state_dict`` the EMA weights."""
        checkpoint['ema_state_dict'] = self.ema_model.state_dict()
        # Swap dict entries rather than parameters: the state dict shares
        # storage with the model, which must keep the live weights.
        self._swap_ema_state_dict(checkpoint)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the averaged model from a checkpoint."""
        from mmengine.runner.checkpoint import load_state_dict
        resuming = bool(getattr(runner, '_resume', False))
        if 'ema_state_dict' in checkpoint and resuming:
            # The live weights were saved under ema_state_dict: swap back.
            self._swap_ema_state_dict(checkpoint)
            self.ema_model.load_state_dict(
                checkpoint['ema_state_dict'], strict=self.strict_load)
            return
        if resuming:
            print_log(
                'There is no `ema_state_dict` in checkpoint. `EMAHook` will '
                'make a copy of `state_dict` as the initial '
                '`ema_state_dict`', 'current', logging.WARNING)
        load_state_dict(
            self.ema_model.module,
            copy.deepcopy(checkpoint['state_dict']),
            strict=self.strict_load)

    def _swap_ema_parameters(self) -> None:
        """Exchange the averaged and live parameters (and buffers)."""
        if self.ema_model is None:
            return
        if self.ema_model.update_buffers:
            avg = itertools.chain(self.ema_model.module.parameters(),
                                  self.ema_model.module.buffers())
            src = itertools.chain(self.src_model.parameters(),
                                  self.src_model.buffers())
        else:
            avg = self.ema_model.module.parameters()
            src = self.src_model.parameters()
        for p_avg, p_src in zip(avg, src):
            tmp = p_avg.data.clone()
            p_avg.data.copy_(p_src.data)
            p_src.data.copy_(tmp)

    @staticmethod
    def _swap_ema_state_dict(checkpoint: dict) -> None:
        """Exchange ``state_dict`` and ``ema_state_dict['module.*']``."""
        model_state = checkpoint['state_dict']
        ema_state = checkpoint['ema_state_dict']
        for key in ema_state:
            if key.startswith('module.') and key[7:] in model_state:
                ema_state[key], model_state[key[7:]] = \
                    model_state[key[7:]], ema_state[key]

    def _ema_started(self, runner) -> bool:
        if self.enabled_by_epoch:
            return runner.epoch + 1 >= self.begin_epoch
        return runner.iter + 1 >= self.begin_iter
