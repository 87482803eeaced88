"""``SyncBuffersHook``: average model buffers across ranks."""
from mmengine.dist import all_reduce_params, is_distributed
from mmengine.registry import HOOKS
from .hook import Hook


@HOOKS.register_module()
class SyncBuffersHook(Hook):
    """All-reduces (mean) the model's buffers across ranks.

    Buffers such as BatchNorm running statistics are computed per rank; this
    hook averages them at the end of every training epoch and, when that did
    not happen since the last validation (iteration-based training), before
    validation. Nothing happens when not distributed.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self.called_in_train = False

    def after_train_epoch(self, runner) -> None:
        """Average the buffers after each training epoch."""
        if is_distributed():
            all_reduce_params(runner.model.buffers(), op='mean')
            self.called_in_train = True

    def before_val_epoch(self, runner) -> None:
        """Average the buffers unless the last train epoch just did."""
        if is_distributed():
            if not self.called_in_train:
                all_reduce_params(runner.model.buffers(), op='mean')
            self.called_in_train = False


# The spelling of the MMCV migration table.
SyncBufferHook = SyncBuffersHook
HOOKS.register_module(name='SyncBufferHook', module=SyncBuffersHook)
