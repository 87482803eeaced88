"""``ParamSchedulerHook``: steps the parameter schedulers."""
from typing import Callable, Dict, Optional

from mmengine.registry import HOOKS
from .hook import DATA_BATCH, Hook


def _is_built_scheduler(obj) -> bool:
    # Duck-typed so that this module does not import mmengine.optim.
    return hasattr(obj, 'step') and hasattr(obj, 'by_epoch')


@HOOKS.register_module()
class ParamSchedulerHook(Hook):
    """Calls ``step()`` on ``runner.param_schedulers`` at the right time.

    - schedulers with ``by_epoch=False`` step after every training iteration;
    - schedulers with ``by_epoch=True`` step after every training epoch;
    - schedulers that need validation results (``need_val_args = True``,
      e.g. ``ReduceOnPlateauLR``) additionally get ``step(metrics)`` after
      every validation epoch.

    ``runner.param_schedulers`` is a list of schedulers or, with several
    optimizers (``OptimWrapperDict``), a dict of such lists.
    """

    priority = 'LOW'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Step the iteration-based schedulers."""

        def step(schedulers: list) -> None:
            for scheduler in schedulers:
                if not scheduler.by_epoch:
                    scheduler.step()

        self._apply(runner, step)

    def after_train_epoch(self, runner) -> None:
        """Step the epoch-based schedulers."""

        def step(schedulers: list) -> None:
            for scheduler in schedulers:
                if scheduler.by_epoch:
                    scheduler.step()

        self._apply(runner, step)

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Give the validation metrics to schedulers that need them."""
        if metrics is None:
            return

        def step(schedulers: list) -> None:
            # Validation may run before the schedulers are built (e.g.
            # ``runner.val()`` alone), in which case there is nothing to do.
            if not all(_is_built_scheduler(s) for s in schedulers):
                return
            for scheduler in schedulers:
                if getattr(scheduler, 'need_val_args', False):
                    scheduler.step(metrics)

        self._apply(runner, step, built_only=True)

    @staticmethod
    def _apply(runner,
               step: Callable[[list], None],
               built_only: bool = False) -> None:
        """Run ``step`` on each list of schedulers.

        With ``built_only``, a value that is not a list of schedulers (the
        unbuilt config of a val/test-only run) is skipped instead of raising.
        """
        schedulers = runner.param_schedulers
        if schedulers is None:
            return
        if isinstance(schedulers, list):
            step(schedulers)
        elif isinstance(schedulers, dict):
            for name, group in schedulers.items():
                if built_only and not isinstance(group, list):
                    continue
                if not isinstance(group, list):
                    raise TypeError(
                        'runner.param_schedulers should be list of '
                        'ParamScheduler or a dict containing list of '
                        f'ParamScheduler, but runner.param_schedulers'
                        f'[{name!r}] is a {type(group).__name__}')
                step(group)
        else:
            raise TypeError(
                'runner.param_schedulers should be list of ParamScheduler or '
                'a dict containing list of ParamScheduler, but got '
                f'{type(schedulers).__name__}')
