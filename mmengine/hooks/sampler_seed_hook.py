"""``DistSamplerSeedHook``: reshuffle distributed samplers every epoch."""
from mmengine.registry import HOOKS
from .hook import Hook


@HOOKS.register_module()
class DistSamplerSeedHook(Hook):
    """Tells the training sampler which epoch starts.

    Before each training epoch, calls ``set_epoch(runner.epoch)`` on the
    train data loader's ``sampler``, or, when that has no ``set_epoch`` (a
    loader built with a ``batch_sampler``), on ``batch_sampler.sampler``.
    Samplers seed their shuffling with the epoch, so every epoch sees a new
    order that is the same on all ranks.
    """

    priority = 'NORMAL'

    def before_train_epoch(self, runner) -> None:
        """Pass the current epoch to the training sampler."""
        dataloader = runner.train_loop.dataloader
        sampler = getattr(dataloader, 'sampler', None)
        if sampler is not None and hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(runner.epoch)
            return
        batch_sampler = getattr(dataloader, 'batch_sampler', None)
        inner = getattr(batch_sampler, 'sampler', None)
        if inner is not None and hasattr(inner, 'set_epoch'):
            inner.set_epoch(runner.epoch)
