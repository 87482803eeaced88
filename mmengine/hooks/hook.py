"""``Hook``: the base class of everything the Runner calls at its 22 points."""
from typing import Dict, Optional, Sequence, Tuple, Union

from mmengine.utils import is_method_overridden

#: A batch as yielded by a data loader: a dict, tuple or list, or ``None``.
DATA_BATCH = Optional[Union[dict, tuple, list]]


class Hook:
    """Base hook: every call point is a no-op; subclasses override some.

    The Runner (and its loops) call the points below through
    ``runner.call_hook(name, **kwargs)``, running hooks in priority order
    (smaller value first; equal priorities in registration order). A hook
    sets its default priority with the class attribute :attr:`priority`
    (a ``Priority`` name such as ``'ABOVE_NORMAL'`` or an int in 0-100).

    Point signatures:

    - run / loop / epoch level: ``before_run(runner)``, ``after_run``,
      ``before_train``, ``after_train``, ``before_val``, ``after_val``,
      ``before_test``, ``after_test``, ``before_{train,val,test}_epoch``,
      ``after_train_epoch(runner)``,
      ``after_{val,test}_epoch(runner, metrics=None)``;
    - iteration level: ``before_{mode}_iter(runner, batch_idx,
      data_batch=None)`` and ``after_{mode}_iter(runner, batch_idx,
      data_batch=None, outputs=None)``; for training ``outputs`` is the dict
      returned by ``train_step``, for val/test the list of predictions;
    - checkpoints: ``before_save_checkpoint(runner, checkpoint)`` may edit the
      dict before it is written, ``after_load_checkpoint(runner,
      checkpoint)`` sees the loaded dict.

    The train/val/test epoch and iteration points forward by default to
    :meth:`_before_epoch`, :meth:`_after_epoch`, :meth:`_before_iter` and
    :meth:`_after_iter` with a ``mode`` argument, so a hook that does the same
    thing in every mode overrides only those.
    """

    priority: Union[int, str] = 'NORMAL'

    #: Every call point, in the order a full train + test run reaches them.
    stages: Tuple[str, ...] = (
        'before_run', 'after_load_checkpoint', 'before_train',
        'before_train_epoch', 'before_train_iter', 'after_train_iter',
        'after_train_epoch', 'before_val', 'before_val_epoch',
        'before_val_iter', 'after_val_iter', 'after_val_epoch', 'after_val',
        'before_save_checkpoint', 'after_train', 'before_test',
        'before_test_epoch', 'before_test_iter', 'after_test_iter',
        'after_test_epoch', 'after_test', 'after_run')

    # The generic methods and the points that forward to them.
    _forwarded_stages: Dict[str, Tuple[str, ...]] = {
        '_before_epoch':
        ('before_train_epoch', 'before_val_epoch', 'before_test_epoch'),
        '_after_epoch':
        ('after_train_epoch', 'after_val_epoch', 'after_test_epoch'),
        '_before_iter':
        ('before_train_iter', 'before_val_iter', 'before_test_iter'),
        '_after_iter':
        ('after_train_iter', 'after_val_iter', 'after_test_iter'),
    }

    # ------------------------------------------------------------------
    # run and loop level
    def before_run(self, runner) -> None:
        """Called once before the train/val/test process starts."""

    def after_run(self, runner) -> None:
        """Called once after the train/val/test process ends."""

    def before_train(self, runner) -> None:
        """Called before the training loop starts."""

    def after_train(self, runner) -> None:
        """Called after the training loop ends."""

    def before_val(self, runner) -> None:
        """Called before a validation loop starts."""

    def after_val(self, runner) -> None:
        """Called after a validation loop ends."""

    def before_test(self, runner) -> None:
        """Called before the test loop starts."""

    def after_test(self, runner) -> None:
        """Called after the test loop ends."""

    # ------------------------------------------------------------------
    # checkpoints
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Called before ``checkpoint`` is written; may modify it in place."""

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Called after ``checkpoint`` has been loaded (load or resume)."""

    # ------------------------------------------------------------------
    # epochs
    def before_train_epoch(self, runner) -> None:
        """Called before each training epoch."""
        self._before_epoch(runner, mode='train')

    def before_val_epoch(self, runner) -> None:
        """Called before each validation epoch."""
        self._before_epoch(runner, mode='val')

    def before_test_epoch(self, runner) -> None:
        """Called before each test epoch."""
        self._before_epoch(runner, mode='test')

    def after_train_epoch(self, runner) -> None:
        """Called after each training epoch."""
        self._after_epoch(runner, mode='train')

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Called after each validation epoch with the evaluator's metrics."""
        self._after_epoch(runner, mode='val')

    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        """Called after each test epoch with the evaluator's metrics."""
        self._after_epoch(runner, mode='test')

    # ------------------------------------------------------------------
    # iterations
    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        """Called before each training iteration."""
        self._before_iter(
            runner, batch_idx=batch_idx, data_batch=data_batch, mode='train')

    def before_val_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: DATA_BATCH = None) -> None:
        """Called before each validation iteration."""
        self._before_iter(
            runner, batch_idx=batch_idx, data_batch=data_batch, mode='val')

    def before_test_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None) -> None:
        """Called before each test iteration."""
        self._before_iter(
            runner, batch_idx=batch_idx, data_batch=data_batch, mode='test')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Called after each training iteration (``outputs``: log vars)."""
        self._after_iter(
            runner,
            batch_idx=batch_idx,
            data_batch=data_batch,
            outputs=outputs,
            mode='train')

    def after_val_iter(self,
                       runner,
                       batch_idx: int,
                       data_batch: DATA_BATCH = None,
                       outputs: Optional[Sequence] = None) -> None:
        """Called after each validation iteration (``outputs``: preds)."""
        self._after_iter(
            runner,
            batch_idx=batch_idx,
            data_batch=data_batch,
            outputs=outputs,
            mode='val')

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: DATA_BATCH = None,
                        outputs: Optional[Sequence] = None) -> None:
        """Called after each test iteration (``outputs``: predictions)."""
        self._after_iter(
            runner,
            batch_idx=batch_idx,
            data_batch=data_batch,
            outputs=outputs,
            mode='test')

    # ------------------------------------------------------------------
    # mode-generic points
    def _before_epoch(self, runner, mode: str = 'train') -> None:
        """Shared body of ``before_{mode}_epoch``."""

    def _after_epoch(self, runner, mode: str = 'train') -> None:
        """Shared body of ``after_{mode}_epoch``."""

    def _before_iter(self,
                     runner,
                     batch_idx: int,
                     data_batch: DATA_BATCH = None,
                     mode: str = 'train') -> None:
        """Shared body of ``before_{mode}_iter``."""

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: DATA_BATCH = None,
                    outputs: Optional[Union[Sequence, dict]] = None,
                    mode: str = 'train') -> None:
        """Shared body of ``after_{mode}_iter``."""

    # ------------------------------------------------------------------
    # helpers
    def every_n_epochs(self, runner, n: int, start: int = 0) -> bool:
        """Whether the current epoch ends a period of ``n`` epochs.

        True when ``runner.epoch + 1 - start`` is a non-negative multiple of
        ``n``; always False for ``n <= 0``.
        """
        dividend = runner.epoch + 1 - start
        return n > 0 and dividend >= 0 and dividend % n == 0

    def every_n_inner_iters(self, batch_idx: int, n: int) -> bool:
        """Whether ``batch_idx + 1`` (iteration in the epoch) divides by n."""
        return n > 0 and (batch_idx + 1) % n == 0

    def every_n_train_iters(self, runner, n: int, start: int = 0) -> bool:
        """Whether the current training iteration ends a period of ``n``.

        True when ``runner.iter + 1 - start`` is a non-negative multiple of
        ``n``; always False for ``n <= 0``.
        """
        dividend = runner.iter + 1 - start
        return n > 0 and dividend >= 0 and dividend % n == 0

    def end_of_epoch(self, dataloader, batch_idx: int) -> bool:
        """Whether ``batch_idx`` is the last batch of ``dataloader``."""
        return batch_idx + 1 == len(dataloader)

    def is_last_train_epoch(self, runner) -> bool:
        """Whether the current epoch is the last training epoch."""
        return runner.epoch + 1 == runner.max_epochs

    def is_last_train_iter(self, runner) -> bool:
        """Whether the current iteration is the last training iteration."""
        return runner.iter + 1 == runner.max_iters

    def get_triggered_stages(self) -> list:
        """The call points this hook overrides, in :attr:`stages` order.

        A point counts when the hook overrides it directly or overrides the
        mode-generic method it forwards to (``_before_iter`` counts for the
        three ``before_*_iter`` points).
        """
        triggered = set()
        for stage in Hook.stages:
            if is_method_overridden(stage, Hook, self):
                triggered.add(stage)
        for method, stages in Hook._forwarded_stages.items():
            if is_method_overridden(method, Hook, self):
                triggered.update(stages)
        return [stage for stage in Hook.stages if stage in triggered]
