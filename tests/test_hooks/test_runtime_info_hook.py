import copy
from unittest.mock import Mock

import numpy as np
import pytest
import torch

from mmengine.hooks import RuntimeInfoHook
from mmengine.logging import MessageHub
from mmengine.testing import RunnerTestCase


class TestRuntimeInfoHook(RunnerTestCase):

    def test_with_runner(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        runner = self.build_runner(cfg)
        runner.train()
        hub = runner.message_hub
        # epoch/iter are recorded before each epoch/iteration.
        assert hub.get_info('epoch') == 1
        assert hub.get_info('iter') == 7
        assert hub.get_info('max_epochs') == 2
        assert hub.get_info('max_iters') == 8
        assert hub.get_info('dataset_meta') == {}
        assert hub.get_info('seed') == runner.seed
        assert hub.get_info('experiment_name') == runner.experiment_name
        assert 'ToyModel' in hub.get_info('cfg')
        assert hub.get_info('loop_stage') is None  # popped after train
        assert list(hub.get_scalar('train/lr').data[0]) == [0.1] * 8
        assert len(hub.get_scalar('train/loss').data[0]) == 8
        assert hub.get_scalar('val/acc').current() == 1

    def test_lr_of_several_optimizers_and_errors(self):
        hook = RuntimeInfoHook()
        runner = Mock()
        runner.iter = 3
        runner.message_hub = MessageHub.get_instance('test_rih_lr')
        runner.optim_wrapper.get_lr.return_value = {
            'gen.lr': [0.1, 0.5],
            'disc.lr': [0.2]
        }
        hook.before_train_iter(runner, 0)
        assert runner.message_hub.get_info('iter') == 3
        assert runner.message_hub.get_scalar('train/gen.lr').current() == 0.1
        assert runner.message_hub.get_scalar('train/disc.lr').current() == 0.2
        runner.optim_wrapper.get_lr.return_value = [0.1]
        with pytest.raises(TypeError, match='get_lr'):
            hook.before_train_iter(runner, 0)

    def test_outputs_and_metrics(self):
        hook = RuntimeInfoHook()
        runner = Mock()
        hub = runner.message_hub = MessageHub.get_instance('test_rih_out')
        hook.after_train_iter(
            runner,
            0,
            outputs=dict(
                loss=torch.tensor(1.5),
                acc=np.float32(0.5),
                vec=torch.ones(3),
                name='skip'))
        assert hub.get_scalar('train/loss').current() == 1.5
        assert hub.get_scalar('train/acc').current() == 0.5
        assert 'train/vec' not in hub.log_scalars
        hook.after_train_iter(runner, 0, outputs=None)

        hook.before_test(runner)
        assert hub.get_info('loop_stage') == 'test'
        hook.after_test_epoch(runner, dict(acc=0.9, per_class=[0.1, 0.2]))
        assert hub.get_scalar('test/acc').current() == 0.9
        assert hub.get_info('test/per_class') == [0.1, 0.2]
        hook.after_test(runner)
        assert hub.get_info('loop_stage') is None

    def test_val_inside_train_restores_stage(self):
        hook = RuntimeInfoHook()
        runner = Mock()
        hub = runner.message_hub = MessageHub.get_instance('test_rih_stage')
        hub.update_info('loop_stage', 'train')
        hook.before_val(runner)
        assert hub.get_info('loop_stage') == 'val'
        hook.after_val_epoch(runner, None)
        hook.after_val(runner)
        assert hub.get_info('loop_stage') == 'train'
        hub.pop_info('loop_stage')
        hook.before_val(runner)
        hook.after_val(runner)
        assert hub.get_info('loop_stage') is None

    def test_deprecated_argument(self):
        with pytest.warns(DeprecationWarning, match='enable_tensorboard'):
            RuntimeInfoHook(enable_tensorboard=True)
        with pytest.raises(TypeError):
            RuntimeInfoHook(interval=1)
