import copy
import hashlib
import os
import os.path as osp

import pytest
import torch

from mmengine.evaluator import BaseMetric
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import METRICS
from mmengine.testing import RunnerTestCase


class SequenceMetric(BaseMetric):
    """Reports the next values of fixed sequences at each evaluation."""
    acc_values = [0.1, 0.5, 0.3, 0.7, 0.2, 0.2]
    calls = 0

    def process(self, data_batch, predictions):
        self.results.append(1)

    def compute_metrics(self, results):
        value = self.acc_values[SequenceMetric.calls % len(self.acc_values)]
        SequenceMetric.calls += 1
        return {'acc': value, 'loss': -value, 'coco/mAP': value}


def _ckpts(work_dir):
    return sorted(f for f in os.listdir(work_dir) if f.endswith('.pth'))


class TestCheckpointHook(RunnerTestCase):

    def setUp(self):
        super().setUp()
        SequenceMetric.calls = 0
        METRICS.register_module(module=SequenceMetric, force=True)

    def tearDown(self):
        METRICS.module_dict.pop('SequenceMetric', None)
        super().tearDown()

    def _cfg(self, max_epochs=4, **hook_kwargs):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.train_cfg.max_epochs = max_epochs
        cfg.val_evaluator = [dict(type='SequenceMetric')]
        cfg.default_hooks = dict(
            checkpoint=dict(type='CheckpointHook', **hook_kwargs))
        return cfg

    # ------------------------------------------------------------------
    def test_init_errors(self):
        with pytest.raises(TypeError, match='interval'):
            CheckpointHook(interval='1')
        with pytest.raises(TypeError, match='by_epoch'):
            CheckpointHook(by_epoch=1)
        with pytest.raises(ValueError, match='save_begin'):
            CheckpointHook(save_begin=-1)
        with pytest.raises(TypeError, match='out_dir'):
            CheckpointHook(out_dir=3)
        with pytest.raises(ValueError, match='filename_tmpl'):
            CheckpointHook(filename_tmpl='ckpt.pth')
        with pytest.raises(TypeError, match='save_best'):
            CheckpointHook(save_best=3)
        with pytest.raises(ValueError, match="'auto'"):
            CheckpointHook(save_best=['auto', 'acc'])
        with pytest.raises(ValueError, match='duplicate'):
            CheckpointHook(save_best=['acc', 'acc'])
        with pytest.raises(ValueError, match='rule'):
            CheckpointHook(save_best='acc', rule='bigger')
        with pytest.raises(ValueError, match='one per'):
            CheckpointHook(save_best=['acc', 'mAP'], rule=['less'] * 3)
        with pytest.raises(ValueError, match='save_best is None'):
            CheckpointHook(rule='less')
        with pytest.raises(ValueError, match='cannot infer the rule'):
            CheckpointHook(save_best='f1')
        with pytest.raises(ValueError, match='duplicate'):
            CheckpointHook(
                save_best='acc', published_keys=['meta', 'meta'])
        with pytest.raises(ValueError, match='save_last'):
            CheckpointHook(save_last=False, published_keys='meta')
        with pytest.raises(ValueError, match='same time'):
            with pytest.warns(DeprecationWarning):
                CheckpointHook(file_client_args={}, backend_args={})

    def test_rule_inference(self):
        hook = CheckpointHook(save_best=['acc', 'loss', 'coco/bbox_mAP'])
        assert hook.rules == ['greater', 'less', 'greater']
        hook = CheckpointHook(save_best='f1', greater_keys=['f1'])
        assert hook.rules == ['greater']
        hook = CheckpointHook(save_best=['acc', 'mAP'], rule='less')
        assert hook.rules == ['less', 'less']
        assert CheckpointHook(by_epoch=False).filename_tmpl == 'iter_{}.pth'

    def test_interval_and_max_keep(self):
        cfg = self._cfg(max_epochs=5, interval=2, max_keep_ckpts=2)
        runner = self.build_runner(cfg)
        runner.train()
        work_dir = self.temp_dir.name
        # epochs 2, 4 by interval, 5 as the last; epoch_2 pruned.
        assert _ckpts(work_dir) == ['epoch_4.pth', 'epoch_5.pth']
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            assert f.read() == osp.join(work_dir, 'epoch_5.pth')
        ckpt = torch.load(
            osp.join(work_dir, 'epoch_5.pth'), weights_only=True)
        info = ckpt['message_hub']['runtime_info']
        assert info['keep_ckpt_ids'] == [4, 5]
        assert info['last_ckpt'] == osp.join(work_dir, 'epoch_5.pth')

    def test_save_last_false_and_save_begin(self):
        cfg = self._cfg(
            max_epochs=5, interval=2, save_begin=1, save_last=False)
        self.build_runner(cfg).train()
        assert _ckpts(self.temp_dir.name) == ['epoch_1.pth', 'epoch_3.pth',
                                              'epoch_5.pth']
        self.clear_work_dir()
        cfg = self._cfg(max_epochs=3, interval=-1, save_last=False)
        self.build_runner(cfg).train()
        assert _ckpts(self.temp_dir.name) == []

    def test_iteration_based(self):
        cfg = copy.deepcopy(self.iter_based_cfg)
        cfg.default_hooks = dict(
            checkpoint=dict(
                type='CheckpointHook',
                interval=5,
                by_epoch=False,
                max_keep_ckpts=1))
        runner = self.build_runner(cfg)
        runner.train()
        assert _ckpts(self.temp_dir.name) == ['iter_12.pth']
        ckpt = torch.load(
            osp.join(self.temp_dir.name, 'iter_12.pth'), weights_only=True)
        assert ckpt['meta']['iter'] == 12

    def test_save_best(self):
        cfg = self._cfg(max_epochs=4, interval=1, save_best='auto')
        runner = self.build_runner(cfg)
        runner.train()
        files = _ckpts(self.temp_dir.name)
        # acc: 0.1, 0.5, 0.3, 0.7 -> best at epoch 4, older bests removed.
        assert [f for f in files if f.startswith('best')] == \
            ['best_acc_epoch_4.pth']
        hub = runner.message_hub
        assert hub.get_info('best_score') == 0.7
        assert hub.get_info('best_ckpt') == osp.join(self.temp_dir.name,
                                                     'best_acc_epoch_4.pth')
        # The periodic checkpoint was rewritten with the new best score.
        ckpt = torch.load(
            osp.join(self.temp_dir.name, 'epoch_4.pth'), weights_only=True)
        assert ckpt['message_hub']['runtime_info']['best_score'] == 0.7
        best = torch.load(
            osp.join(self.temp_dir.name, 'best_acc_epoch_4.pth'),
            weights_only=True)
        assert 'optimizer' not in best
        assert best['meta']['epoch'] == 4

    def test_save_best_less_and_several_metrics(self):
        cfg = self._cfg(
            max_epochs=4, save_best=['acc', 'coco/mAP'], rule='less')
        runner = self.build_runner(cfg)
        runner.train()
        best = [f for f in _ckpts(self.temp_dir.name) if 'best' in f]
        # 'less' keeps epoch 1 (0.1); '/' is replaced in file names.
        assert best == ['best_acc_epoch_1.pth', 'best_coco_mAP_epoch_1.pth']
        assert runner.message_hub.get_info('best_score_acc') == 0.1
        assert runner.message_hub.get_info('best_score_coco/mAP') == 0.1

    def test_missing_metric(self):
        cfg = self._cfg(max_epochs=1, save_best='bbox_mAP')
        runner = self.build_runner(cfg)
        with pytest.raises(KeyError, match='bbox_mAP'):
            runner.train()

    def test_published_keys(self):
        cfg = self._cfg(
            max_epochs=2,
            interval=1,
            save_best='acc',
            rule='less',
            published_keys=['meta', 'state_dict'])
        self.build_runner(cfg).train()
        published = [f for f in _ckpts(self.temp_dir.name) if '-' in f]
        assert len(published) == 2  # last and best
        for name in published:
            path = osp.join(self.temp_dir.name, name)
            with open(path, 'rb') as f:
                sha = hashlib.sha256(f.read()).hexdigest()
            assert name.endswith(f'-{sha[:8]}.pth')
            ckpt = torch.load(path, weights_only=True)
            assert list(ckpt) == ['meta', 'state_dict']

        self.clear_work_dir()
        cfg = self._cfg(max_epochs=1, published_keys=['meta', 'ema'])
        with pytest.raises(KeyError, match='ema'):
            self.build_runner(cfg).train()

    def test_out_dir(self):
        out_dir = osp.join(self.temp_dir.name, 'out')
        cfg = self._cfg(max_epochs=2, interval=1, out_dir=out_dir)
        self.build_runner(cfg).train()
        target = osp.join(out_dir, osp.basename(self.temp_dir.name))
        assert _ckpts(target) == ['epoch_1.pth', 'epoch_2.pth']
        with open(osp.join(self.temp_dir.name, 'last_checkpoint')) as f:
            assert f.read() == osp.join(target, 'epoch_2.pth')

    def test_resume_keeps_bookkeeping(self):
        cfg = self._cfg(
            max_epochs=2, interval=1, max_keep_ckpts=2, save_best='acc')
        self.build_runner(cfg).train()  # acc 0.1, 0.5 -> best epoch 2
        assert 'best_acc_epoch_2.pth' in _ckpts(self.temp_dir.name)
        cfg = self._cfg(
            max_epochs=4, interval=1, max_keep_ckpts=2, save_best='acc')
        cfg.resume = True
        runner = self.build_runner(cfg)
        runner.train()  # acc 0.3, 0.7 -> best at epoch 4
        files = _ckpts(self.temp_dir.name)
        # Old periodic and best files of the first run were removed.
        assert files == ['best_acc_epoch_4.pth', 'epoch_3.pth', 'epoch_4.pth']
        assert runner.message_hub.get_info('best_score') == 0.7

    def test_resume_from_checkpoint_patched_with_best_is_exact(self):
        """The periodic checkpoint of a step that improved the best score is
        patched after validation; resuming from it is still exact."""

        class Interrupt(Hook):
            priority = 'LOWEST'

            def after_train_iter(self, runner, batch_idx, data_batch=None,
                                 outputs=None):
                if runner.iter + 1 == 9:  # first iteration of epoch 3
                    raise KeyboardInterrupt

        def cfg(resume=False):
            c = self._cfg(max_epochs=4, interval=1, save_best='acc')
            c.randomness = dict(seed=1)
            c.resume = resume
            return c

        straight = self.build_runner(cfg())
        straight.train()
        expected = copy.deepcopy(straight.model.state_dict())
        self.clear_work_dir()
        SequenceMetric.calls = 0
        runner = self.build_runner(cfg())
        runner.register_hook(Interrupt())
        with pytest.raises(KeyboardInterrupt):
            runner.train()
        # acc 0.1, 0.5: epoch_2.pth was saved before the validation that
        # made epoch 2 the best, then patched.
        ckpt = torch.load(
            osp.join(self.temp_dir.name, 'epoch_2.pth'), weights_only=True)
        info = ckpt['message_hub']['runtime_info']
        assert info['best_score'] == 0.5
        assert info['best_ckpt'].endswith('best_acc_epoch_2.pth')
        assert ckpt['meta']['epoch'] == 2 and ckpt['meta']['iter'] == 8
        runner = self.build_runner(cfg(resume=True))
        runner.train()  # acc 0.3, 0.7
        assert runner.iter == 16
        for key, value in runner.model.state_dict().items():
            assert torch.equal(value, expected[key]), key
        assert [f for f in _ckpts(self.temp_dir.name) if 'best' in f] == \
            ['best_acc_epoch_4.pth']
        assert runner.message_hub.get_info('best_score') == 0.7

    def test_filename_tmpl(self):
        cfg = self._cfg(
            max_epochs=2, interval=1, filename_tmpl='ckpt_{:03d}.pth',
            save_best='acc')
        self.build_runner(cfg).train()
        assert _ckpts(self.temp_dir.name) == [
            'best_acc_ckpt_002.pth', 'ckpt_001.pth', 'ckpt_002.pth'
        ]
        for bad in ('ckpt.pth', 'ckpt_{}_{}.pth', 'ckpt_{:q}.pth',
                    'ckpt_{name}.pth'):
            with pytest.raises(ValueError, match='filename_tmpl'):
                CheckpointHook(filename_tmpl=bad)
        with pytest.raises(TypeError, match='filename_tmpl'):
            CheckpointHook(filename_tmpl=1)

    def test_val_only_does_not_save(self):
        cfg = self._cfg(max_epochs=1, save_best='acc')
        runner = self.build_runner(cfg)
        runner.val()
        assert _ckpts(self.temp_dir.name) == []


def test_non_numeric_best_metric():
    from unittest.mock import MagicMock
    hook = CheckpointHook(save_best='acc')
    runner = MagicMock()
    runner.work_dir = '/tmp/unused'
    with pytest.raises(TypeError, match="'acc' must be a single number"):
        hook._save_best_checkpoint(runner, dict(acc=[0.1, 0.2]))
