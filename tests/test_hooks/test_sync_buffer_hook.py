import copy
from unittest.mock import MagicMock, patch

from mmengine.hooks import SyncBufferHook, SyncBuffersHook
from mmengine.registry import HOOKS
from mmengine.testing import RunnerTestCase

MODULE = 'mmengine.hooks.sync_buffer_hook'


def test_alias():
    assert SyncBufferHook is SyncBuffersHook
    assert HOOKS.get('SyncBufferHook') is SyncBuffersHook


def test_not_distributed_is_noop():
    hook = SyncBuffersHook()
    runner = MagicMock()
    with patch(f'{MODULE}.all_reduce_params') as reduce:
        hook.after_train_epoch(runner)
        hook.before_val_epoch(runner)
    reduce.assert_not_called()


def test_distributed_reduces_once_per_validation():
    hook = SyncBuffersHook()
    runner = MagicMock()
    with patch(f'{MODULE}.is_distributed', return_value=True), \
            patch(f'{MODULE}.all_reduce_params') as reduce:
        hook.after_train_epoch(runner)
        assert reduce.call_count == 1
        assert reduce.call_args.kwargs == dict(op='mean')
        hook.before_val_epoch(runner)  # just synced: skipped
        assert reduce.call_count == 1
        hook.before_val_epoch(runner)  # e.g. iteration-based: sync
        assert reduce.call_count == 2


class TestSyncBuffersHook(RunnerTestCase):

    def test_with_runner(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.custom_hooks = [dict(type='SyncBuffersHook')]
        self.build_runner(cfg).train()
