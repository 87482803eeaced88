"""The Runner's visualizer end to end (EX-VIS-02, EX-VIS-04)."""
import glob
import json
import os.path as osp

import pytest

from mmengine.testing import RunnerTestCase


class TestVisualizerInRunner(RunnerTestCase):

    def test_ex_vis_02_tensorboard_and_local_files(self):
        pytest.importorskip('tensorboard')
        from tensorboard.backend.event_processing.event_accumulator import \
            EventAccumulator
        cfg = self.epoch_based_cfg
        cfg.visualizer = dict(
            type='Visualizer',
            vis_backends=[
                dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')
            ])
        runner = self.build_runner(cfg)
        runner.train()
        vis_dir = osp.join(runner.log_dir, 'vis_data')

        # EX-VIS-02: event files with loss, lr and the validation accuracy
        assert glob.glob(osp.join(vis_dir, 'events.out.tfevents.*'))
        acc = EventAccumulator(vis_dir)
        acc.Reload()
        scalars = set(acc.Tags()['scalars'])
        assert {'loss', 'lr', 'acc'} <= scalars, scalars
        # one loss point per logged iteration: 2 epochs x 4 iterations
        assert [e.step for e in acc.Scalars('loss')] == list(range(1, 9))

        # EX-VIS-04: one JSON object per logged step, and the config
        with open(osp.join(vis_dir, 'scalars.json')) as f:
            records = [json.loads(line) for line in f]
        train = [r for r in records if 'loss' in r]
        assert [r['step'] for r in train] == list(range(1, 9))
        assert any('acc' in r for r in records)
        assert osp.isfile(osp.join(vis_dir, 'config.py'))
