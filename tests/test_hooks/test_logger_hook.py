import copy
import json
import os
import os.path as osp
import re
from unittest.mock import Mock

import numpy as np
import pytest
import torch

from mmengine.hooks import LoggerHook
from mmengine.testing import RunnerTestCase


def _log_text(runner):
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        return f.read()


class TestLoggerHook(RunnerTestCase):

    def test_init_errors(self):
        with pytest.raises(TypeError, match='interval'):
            LoggerHook(interval='10')
        with pytest.raises(ValueError, match='interval'):
            LoggerHook(interval=0)
        with pytest.raises(TypeError, match='ignore_last'):
            LoggerHook(ignore_last=1)
        with pytest.raises(ValueError, match='interval_exp_name'):
            LoggerHook(interval_exp_name=-1)
        with pytest.raises(TypeError, match='out_dir'):
            LoggerHook(out_dir=1)
        with pytest.raises(TypeError, match='out_suffix'):
            LoggerHook(out_suffix=[1])
        with pytest.raises(ValueError, match='out_dir'):
            LoggerHook(file_client_args=dict(backend='disk'))
        with pytest.raises(ValueError, match='same time'):
            with pytest.warns(DeprecationWarning):
                LoggerHook(
                    out_dir='x', file_client_args={}, backend_args={})

    def test_mmcv_era_arguments(self):
        with pytest.warns(DeprecationWarning, match='log_metric_by_epoch'):
            hook = LoggerHook(by_epoch=False)
        assert hook.log_metric_by_epoch is False
        with pytest.warns(DeprecationWarning, match='reset_flag'):
            LoggerHook(reset_flag=True)
        with pytest.raises(TypeError, match='by_epoch must be a bool'):
            LoggerHook(by_epoch='no')

    def test_loader_length_follows_the_loader(self):
        hook = LoggerHook(interval=100, ignore_last=False)
        runner = Mock()
        runner.iter = 0
        runner.log_processor.get_log_after_iter.return_value = ({}, 'line')
        runner.train_dataloader = [0] * 5
        hook.after_train_iter(runner, 4)  # last batch of 5: logged
        assert runner.logger.info.call_args[0][0] == 'line'
        runner.logger.info.reset_mock()
        runner.train_dataloader = [0] * 8  # another loader
        hook.after_train_iter(runner, 4)
        runner.logger.info.assert_not_called()
        hook.after_train_iter(runner, 7)
        assert runner.logger.info.call_args[0][0] == 'line'

    def _train(self, **hook_kwargs):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.default_hooks = dict(logger=dict(type='LoggerHook', **hook_kwargs))
        runner = self.build_runner(cfg)
        runner.train()
        return runner

    def test_interval_and_ignore_last(self):
        # 4 iterations per epoch, interval 3 -> only iteration 3 logged.
        runner = self._train(interval=3)
        text = _log_text(runner)
        lines = re.findall(r'Epoch\(train\) +\[(\d)\]\[(\d)/4\]', text)
        assert lines == [('1', '3'), ('2', '3')]
        assert 'Exp name: ' in text
        assert re.search(r'Epoch\(val\) +\[1\]\[4/4\]  acc: 1.0000', text)
        self.clear_work_dir()
        runner = self._train(interval=3, ignore_last=False)
        lines = re.findall(r'Epoch\(train\) +\[(\d)\]\[(\d)/4\]',
                           _log_text(runner))
        assert lines == [('1', '3'), ('1', '4'), ('2', '3'), ('2', '4')]
        self.clear_work_dir()
        # An epoch shorter than the interval logs its last iteration.
        runner = self._train(interval=10)
        lines = re.findall(r'Epoch\(train\) +\[(\d)\]\[(\d)/4\]',
                           _log_text(runner))
        assert lines == [('1', '4'), ('2', '4')]

    def test_json_scalar_log(self):
        runner = self._train(interval=2)
        path = osp.join(runner.log_dir, 'vis_data',
                        f'{runner.timestamp}.json')
        with open(path) as f:
            records = [json.loads(line) for line in f]
        train = [r for r in records if 'lr' in r]
        assert [r['step'] for r in train] == [2, 4, 6, 8]
        assert all('loss' in r and 'time' in r for r in train)
        val = [r for r in records if 'acc' in r]
        assert [r['step'] for r in val] == [1, 2]  # epochs

        self.clear_work_dir()
        runner = self._train(interval=2, log_metric_by_epoch=False)
        path = osp.join(runner.log_dir, 'vis_data',
                        f'{runner.timestamp}.json')
        with open(path) as f:
            val = [json.loads(line) for line in f if '"acc"' in line]
        assert [r['step'] for r in val] == [4, 8]  # iterations

    def test_test_metrics_dumped(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        runner = self.build_runner(cfg)
        runner.test()
        with open(osp.join(runner.log_dir,
                           f'{runner.timestamp}.json')) as f:
            assert json.load(f)['acc'] == 1.0

    def test_out_dir(self):
        out_dir = osp.join(self.temp_dir.name, 'remote')
        runner = self._train(out_dir=out_dir, keep_local=False)
        # Files keep their path relative to log_dir.
        target = osp.join(out_dir, osp.basename(self.temp_dir.name))
        assert osp.isfile(osp.join(target, f'{runner.timestamp}.log'))
        assert osp.isfile(
            osp.join(target, 'vis_data', f'{runner.timestamp}.json'))
        assert not osp.exists(
            osp.join(runner.log_dir, f'{runner.timestamp}.log'))

    def test_out_dir_train_then_test(self):
        out_dir = osp.join(self.temp_dir.name, 'remote')
        runner = self._train(out_dir=out_dir)
        runner.test()  # before_run runs again
        target = osp.join(out_dir, osp.basename(self.temp_dir.name))
        assert osp.isfile(osp.join(target, f'{runner.timestamp}.log'))
        # The test metrics dumped by the second run were copied too.
        assert osp.isfile(osp.join(target, f'{runner.timestamp}.json'))
        nested = osp.join(target, osp.basename(self.temp_dir.name))
        assert not osp.exists(nested)

    def test_process_tags(self):
        tags = LoggerHook._process_tags(
            dict(
                a=torch.tensor([1, 2]),
                b=np.float32(0.5),
                c=[1, object()],
                d=object(),
                e={'x': None}))
        assert tags == dict(a=[1, 2], b=0.5, c=[1], e={'x': None})

    def test_val_without_train_loop_uses_step_0(self):
        hook = LoggerHook()
        runner = Mock()
        runner._train_loop = None
        runner.log_processor.get_log_after_epoch.return_value = ({
            'acc': 1
        }, 'line')
        runner.val_dataloader = [1, 2]
        hook.after_val_epoch(runner)
        runner.logger.info.assert_called_with('line')
        _, kwargs = runner.visualizer.add_scalars.call_args
        assert kwargs['step'] == 0
        assert not os.environ.get('NOT_SET_BY_TEST')
