"""``RuntimeInfoHook``: publishes the run's state in the message hub."""
import sys
import warnings
from typing import Any, Dict, Optional

from mmengine.registry import HOOKS
from .hook import DATA_BATCH, Hook


def _tensor_type() -> Any:
    """``torch.Tensor`` if torch is imported (hooks do not import it)."""
    torch = sys.modules.get('torch')
    return getattr(torch, 'Tensor', None)


_TENSOR_TYPE = _tensor_type()


def _is_scalar(value: Any) -> bool:
    """Whether ``value`` is a single number (Python, numpy or tensor)."""
    # Fast path for the losses of every iteration: Python numbers and
    # tensors (``numel`` is cheap; no data is read).
    kind = type(value)
    if kind is float or kind is int:
        return True
    if kind is _TENSOR_TYPE:
        return value.numel() == 1
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return True
    numel = getattr(value, 'numel', None)  # torch.Tensor
    if callable(numel) and hasattr(value, 'dtype'):
        return value.numel() == 1
    size = getattr(value, 'size', None)  # numpy arrays and scalars
    if isinstance(size, int) and hasattr(value, 'dtype'):
        return size == 1 and value.dtype.kind in 'biuf'
    return False


@HOOKS.register_module()
class RuntimeInfoHook(Hook):
    """Writes the runner's state into ``runner.message_hub``.

    Components without access to the runner (schedulers, models, the log
    processor, visualizers) read it from ``MessageHub.get_current_instance()``:

    - info ``cfg`` (text), ``seed``, ``experiment_name``, ``mmengine_version``
      before the run;
    - info ``epoch``, ``iter``, ``max_epochs``, ``max_iters`` and
      ``dataset_meta`` (the train dataset's ``metainfo``) during training,
      ``loop_stage`` (``'train'``, ``'val'`` or ``'test'``) while a loop runs;
    - scalar ``train/<name>`` for each learning rate reported by
      ``runner.optim_wrapper.get_lr()`` (``train/lr``, or
      ``train/<optimizer>.lr`` with several optimizers), before each iteration;
    - scalar ``train/<key>`` for each scalar value of the training step's
      outputs; ``val/<metric>`` / ``test/<metric>`` for the evaluator's
      metrics (non-scalar metrics go to the runtime info under the same key).

    Device tensors are stored without ``.item()``, so this hook adds no
    host-device synchronisation.

    Args:
        enable_tensorboard (bool, optional): Accepted for configs written for
            MMEngine's early documentation and ignored with a warning.
    """

    priority = 'VERY_HIGH'

    def __init__(self, enable_tensorboard: Optional[bool] = None) -> None:
        if enable_tensorboard is not None:
            warnings.warn(
                'RuntimeInfoHook(enable_tensorboard=...) has no effect: '
                'scalars go to the visualizer backends configured in '
                '`visualizer=dict(vis_backends=[...])`.',
                DeprecationWarning,
                stacklevel=2)
        self._last_loop_stage: Optional[str] = None

    def before_run(self, runner) -> None:
        """Record the config text, seed, experiment name and version."""
        from mmengine import __version__
        cfg = getattr(runner, 'cfg', None)
        cfg_text = getattr(cfg, 'pretty_text', None)
        if not isinstance(cfg_text, str):
            cfg_text = '' if cfg is None else str(cfg)
        runner.message_hub.update_info_dict(
            dict(
                cfg=cfg_text,
                seed=runner.seed,
                experiment_name=runner.experiment_name,
                mmengine_version=__version__))
        self._last_loop_stage = None

    def before_train(self, runner) -> None:
        """Record counters, limits and the train dataset's meta info."""
        hub = runner.message_hub
        hub.update_info('loop_stage', 'train')
        hub.update_info('epoch', runner.epoch)
        hub.update_info('iter', runner.iter)
        hub.update_info('max_epochs', runner.max_epochs)
        hub.update_info('max_iters', runner.max_iters)
        dataset = getattr(runner.train_dataloader, 'dataset', None)
        metainfo = getattr(dataset, 'metainfo', None)
        if metainfo is not None:
            hub.update_info('dataset_meta', metainfo)

    def after_train(self, runner) -> None:
        """Leave the ``train`` loop stage."""
        runner.message_hub.pop_info('loop_stage')

    def before_train_epoch(self, runner) -> None:
        """Record the number of completed epochs."""
        runner.message_hub.update_info('epoch', runner.epoch)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        """Record the iteration counter and the current learning rates."""
        hub = runner.message_hub
        hub.update_info('iter', runner.iter)
        lr_dict = runner.optim_wrapper.get_lr()
        if not isinstance(lr_dict, dict):
            raise TypeError(
                '`runner.optim_wrapper.get_lr()` should return a dict of '
                'learning rates (OptimWrapper gives {"lr": [...]}, '
                'OptimWrapperDict {"<name>.lr": [...]}), but got '
                f'{type(lr_dict).__name__}; check that the optimizer '
                'wrapper constructor returns an OptimWrapper or '
                'OptimWrapperDict')
        for name, lr in lr_dict.items():
            # The first parameter group's value represents the optimizer.
            hub.update_scalar(f'train/{name}', lr[0])

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Record the scalar outputs (losses) of the training step."""
        if outputs is None:
            return
        hub = runner.message_hub
        for key, value in outputs.items():
            if _is_scalar(value):
                hub.update_scalar(f'train/{key}', value)

    def before_val(self, runner) -> None:
        """Enter the ``val`` loop stage (remembering a running train)."""
        self._last_loop_stage = runner.message_hub.get_info('loop_stage')
        runner.message_hub.update_info('loop_stage', 'val')

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, Any]] = None) -> None:
        """Record the validation metrics as ``val/<metric>``."""
        self._record_metrics(runner, metrics, 'val')

    def after_val(self, runner) -> None:
        """Go back to the ``train`` stage if validation ran inside it."""
        if self._last_loop_stage == 'train':
            runner.message_hub.update_info('loop_stage', 'train')
        else:
            runner.message_hub.pop_info('loop_stage')
        self._last_loop_stage = None

    def before_test(self, runner) -> None:
        """Enter the ``test`` loop stage."""
        runner.message_hub.update_info('loop_stage', 'test')

    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, Any]] = None) -> None:
        """Record the test metrics as ``test/<metric>``."""
        self._record_metrics(runner, metrics, 'test')

    def after_test(self, runner) -> None:
        """Leave the ``test`` loop stage."""
        runner.message_hub.pop_info('loop_stage')

    @staticmethod
    def _record_metrics(runner, metrics: Optional[Dict[str, Any]],
                        mode: str) -> None:
        if metrics is None:
            return
        hub = runner.message_hub
        for key, value in metrics.items():
            name = f'{mode}/{key}'
            if _is_scalar(value):
                hub.update_scalar(name, value)
            else:
                hub.update_info(name, value)
