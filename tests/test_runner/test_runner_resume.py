"""Exact, O(1) resume (DESIGN §4): train N iterations straight, or train,
stop (exception or kill -9) and resume; final weights are bitwise equal."""
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch

# Model/dataset source shared by this process and the kill -9 subprocess.
SRC = textwrap.dedent('''
    import random
    import numpy as np
    import torch
    import torch.nn as nn
    from torch.utils.data import Dataset
    from mmengine.hooks import Hook
    from mmengine.model import BaseModel
    from mmengine.registry import DATASETS, HOOKS, MODELS


    @MODELS.register_module(name='ResumeNoisyModel', force=True)
    class NoisyModel(BaseModel):
        """Dropout uses torch's RNG; the loss adds torch noise."""

        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(
                nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1))

        def forward(self, inputs, data_samples=None, mode='tensor'):
            out = self.net(torch.stack(inputs)).squeeze(1)
            if mode == 'loss':
                target = torch.stack(data_samples)
                noise = 0.01 * torch.randn(())
                return dict(loss=((out - target)**2).mean() + noise)
            return out


    @DATASETS.register_module(name='ResumeNoisyDataset', force=True)
    class NoisyDataset(Dataset):
        """Augmentation draws from python's and numpy's global RNGs."""
        metainfo = dict(classes=('a', 'b'))

        def __init__(self, size=10, jitter=True):
            self.jitter = jitter
            gen = torch.Generator().manual_seed(0)
            self.x = torch.randn(size, 2, generator=gen)
            self.y = self.x.sum(1)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            jitter = 0.0
            if self.jitter:
                jitter = float(np.random.rand()) * 0.1 + random.random() * 0.1
            return dict(inputs=self.x[i] + jitter, data_samples=self.y[i])


    class CrashError(RuntimeError):
        pass


    @HOOKS.register_module(name='ResumeCrashHook', force=True)
    class CrashHook(Hook):
        """Interrupt training before iteration ``at``."""

        def __init__(self, at, kill=False):
            self.at, self.kill = at, kill

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter == self.at:
                if self.kill:
                    import os, signal
                    os.kill(os.getpid(), signal.SIGKILL)
                raise CrashError(f'crash at {self.at}')


    def make_cfg(work_dir, name, mode='epoch', sampler='DefaultSampler',
                 ckpt_by_epoch=False, interval=5, crash_at=None, kill=False,
                 resume=False, num_workers=0, worker_jitter=False):
        loader = dict(
            dataset=dict(type='ResumeNoisyDataset',
                         jitter=worker_jitter or not num_workers),
            sampler=dict(type=sampler, shuffle=True),
            batch_size=3, num_workers=num_workers)
        if num_workers:
            loader['persistent_workers'] = False
        val_loader = dict(
            dataset=dict(type='ResumeNoisyDataset'),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4)
        if mode == 'epoch':
            train_cfg = dict(by_epoch=True, max_epochs=3)
        else:
            train_cfg = dict(by_epoch=False, max_iters=11, val_interval=4)
        cfg = dict(
            model=dict(type='ResumeNoisyModel'),
            work_dir=work_dir,
            experiment_name=name,
            train_dataloader=loader,
            train_cfg=train_cfg,
            val_dataloader=val_loader,
            val_cfg=dict(),
            val_evaluator=dict(type='ResumeMSE'),
            optim_wrapper=dict(
                optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
            param_scheduler=dict(
                type='StepLR', step_size=2, gamma=0.5, by_epoch=False),
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=1),
                checkpoint=dict(
                    type='CheckpointHook', interval=interval,
                    by_epoch=ckpt_by_epoch)),
            custom_hooks=[] if crash_at is None else [
                dict(type='ResumeCrashHook', at=crash_at, kill=kill)],
            randomness=dict(seed=1234),
            resume=resume)
        return cfg
''')

METRIC_SRC = textwrap.dedent('''
    from mmengine.evaluator import BaseMetric
    from mmengine.registry import METRICS


    @METRICS.register_module(name='ResumeMSE', force=True)
    class MSE(BaseMetric):
        default_prefix = 'val'

        def process(self, data_batch, data_samples):
            target = torch.stack(data_batch['data_samples'])
            preds = data_samples if isinstance(
                data_samples, torch.Tensor) else torch.stack(data_samples)
            self.results.append(((preds - target)**2).sum().item())

        def compute_metrics(self, results):
            return dict(mse=sum(results))
''')

NS: dict = {}
exec(SRC + METRIC_SRC, NS)  # noqa: S102 - trusted test source


_RUNS = [0]


def _train(cfg):
    from mmengine.runner import Runner

    # Unique names: runners built in the same second would share a logger.
    _RUNS[0] += 1
    cfg['experiment_name'] += f'_{os.getpid()}_{_RUNS[0]}'
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def _straight(tmp_path, **kwargs):
    cfg = NS['make_cfg'](str(tmp_path / 'straight'), 'straight', **kwargs)
    return _train(cfg)


def _interrupted_then_resumed(tmp_path, crash_at, **kwargs):
    work_dir = str(tmp_path / 'resumed')
    cfg = NS['make_cfg'](work_dir, 'first', crash_at=crash_at, **kwargs)
    with pytest.raises(NS['CrashError']):
        _train(cfg)
    cfg = NS['make_cfg'](work_dir, 'second', resume=True, **kwargs)
    return _train(cfg)


def _assert_same_run(a, b):
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    assert (a.epoch, a.iter) == (b.epoch, b.iter)
    oa = a.optim_wrapper.state_dict()['state']
    ob = b.optim_wrapper.state_dict()['state']
    for key in oa:
        assert torch.equal(oa[key]['momentum_buffer'],
                           ob[key]['momentum_buffer'])
    assert a.optim_wrapper.get_lr() == b.optim_wrapper.get_lr()


@pytest.mark.parametrize(
    'kwargs,crash_at',
    [
        # mid-epoch checkpoint (iter 5 = 2nd batch of epoch 2)
        (dict(mode='epoch'), 7),
        # iteration checkpoint on the last batch of epoch 1
        (dict(mode='epoch', interval=4), 6),
        # epoch-end checkpoints
        (dict(mode='epoch', ckpt_by_epoch=True, interval=1), 6),
        # iteration-based, endless sampler
        (dict(mode='iter', sampler='InfiniteSampler', interval=4), 6),
        # iteration-based with DefaultSampler (restarts every 4 batches;
        # the checkpoint at iter 4 sits exactly at the end of a pass)
        (dict(mode='iter', interval=4), 7),
        (dict(mode='iter', interval=5), 7),
    ])
def test_exact_resume_after_interruption(tmp_path, kwargs, crash_at):
    straight = _straight(tmp_path, **kwargs)
    resumed = _interrupted_then_resumed(tmp_path, crash_at, **kwargs)
    _assert_same_run(straight, resumed)


def test_exact_resume_with_workers(tmp_path):
    """Data loader workers: exact as long as the data pipeline does not
    draw random numbers in the workers (their RNGs restart from the
    worker seed after a resume; see the resume notes in loops.py)."""
    kwargs = dict(mode='epoch', num_workers=2)
    straight = _straight(tmp_path, **kwargs)
    resumed = _interrupted_then_resumed(tmp_path, 7, **kwargs)
    _assert_same_run(straight, resumed)


def test_exact_resume_at_epoch_end_with_random_workers(tmp_path):
    """Workers that draw random numbers (augmentation): resuming from an
    epoch-end checkpoint is exact, since non-persistent workers are
    re-seeded from the run's seed at every epoch in both runs. (Resuming in
    the middle of an epoch is not exact for such pipelines: a worker's RNG
    position inside the interrupted epoch is not recoverable without
    replaying the data.)"""
    kwargs = dict(mode='epoch', num_workers=2, worker_jitter=True,
                  ckpt_by_epoch=True, interval=1)
    straight = _straight(tmp_path, **kwargs)
    resumed = _interrupted_then_resumed(tmp_path, 6, **kwargs)
    _assert_same_run(straight, resumed)


def test_resume_does_not_replay_dataloader(tmp_path):
    """The resumed run fetches only the batches it trains on."""
    work_dir = str(tmp_path / 'w')
    kwargs = dict(mode='iter', sampler='InfiniteSampler', interval=4)
    with pytest.raises(NS['CrashError']):
        _train(NS['make_cfg'](work_dir, 'a', crash_at=9, **kwargs))
    calls = []
    dataset_cls = NS['NoisyDataset']
    original = dataset_cls.__getitem__

    def counting(self, i):
        calls.append(i)
        return original(self, i)

    dataset_cls.__getitem__ = counting
    try:
        cfg = NS['make_cfg'](work_dir, 'b', resume=True, **kwargs)
        cfg['val_cfg'] = cfg['val_dataloader'] = cfg['val_evaluator'] = None
        runner = _train(cfg)
    finally:
        dataset_cls.__getitem__ = original
    assert runner.iter == 11
    # resumed at iteration 8: 3 iterations of 3 samples, nothing replayed
    assert len(calls) == 3 * 3


def test_checkpoint_is_pickle_free_and_has_resume_state(tmp_path):
    runner = _straight(tmp_path, mode='epoch')
    path = osp.join(runner.work_dir, 'iter_5.pth')
    ckpt = torch.load(path, weights_only=True)
    assert set(ckpt) >= {
        'meta', 'state_dict', 'optimizer', 'param_schedulers', 'message_hub',
        'resume_state'
    }
    assert ckpt['meta']['iter'] == 5 and ckpt['meta']['epoch'] == 1
    state = ckpt['resume_state']
    assert state['batch_offset'] == 1
    assert state['sampler']['start'] == 3 and state['sampler']['epoch'] == 1
    assert set(state['rng']) >= {'python', 'numpy', 'torch'}
    assert ckpt['meta']['dataset_meta'] == dict(classes=('a', 'b'))


def test_auto_resume_skips_broken_checkpoint(tmp_path):
    kwargs = dict(mode='iter', sampler='InfiniteSampler', interval=4)
    straight = _straight(tmp_path, **kwargs)
    work_dir = str(tmp_path / 'resumed')
    with pytest.raises(NS['CrashError']):
        _train(NS['make_cfg'](work_dir, 'a', crash_at=10, **kwargs))
    # The newest checkpoint is torn, and a crashed atomic write left a
    # hidden temp file behind.
    with open(osp.join(work_dir, 'iter_8.pth'), 'r+b') as f:
        f.truncate(100)
    temp = osp.join(work_dir, '.iter_12.pth.k2j4h5_a.tmp')
    with open(temp, 'wb') as f:
        f.write(b'partial')
    cfg = NS['make_cfg'](work_dir, f'b_{os.getpid()}', resume=True, **kwargs)
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert not osp.exists(temp)
    with open(runner.logger.log_file) as f:
        log = f.read()
    assert 'Skip checkpoint' in log and 'iter_8.pth' in log
    # resumed from iter_4 instead, still exact
    _assert_same_run(straight, runner)


def test_auto_resume_without_checkpoint_starts_fresh(tmp_path):
    cfg = NS['make_cfg'](str(tmp_path / 'w'), 'fresh', resume=True)
    runner = _train(cfg)
    assert runner.iter == 12 and runner.epoch == 3


def test_resume_from_explicit_checkpoint_and_load_from(tmp_path):
    straight = _straight(tmp_path, mode='epoch', ckpt_by_epoch=True,
                         interval=1)
    ckpt = osp.join(straight.work_dir, 'epoch_2.pth')
    from mmengine.runner import Runner

    # EX-RUN-07: load_from + resume continues from epoch 3
    cfg = NS['make_cfg'](str(tmp_path / 'b'), 'explicit', ckpt_by_epoch=True,
                         interval=1)
    cfg.update(load_from=ckpt, resume=True)
    runner = Runner.from_cfg(cfg)
    runner.train()
    _assert_same_run(straight, runner)

    # load_from without resume: weights only, training restarts at epoch 0
    cfg = NS['make_cfg'](str(tmp_path / 'c'), 'weights_only',
                         ckpt_by_epoch=True, interval=1)
    cfg.update(load_from=ckpt, resume=False)
    runner = Runner.from_cfg(cfg)
    seen = []
    runner.register_hook(_EpochRecorder(seen))
    runner.train()
    assert seen == [0, 1, 2]


class _EpochRecorder(NS['Hook']):

    def __init__(self, seen):
        self.seen = seen

    def before_train_epoch(self, runner):
        self.seen.append(runner.epoch)


def test_exact_resume_after_kill_9(tmp_path):
    """Kill the training process with SIGKILL, then resume."""
    kwargs = dict(mode='iter', sampler='InfiniteSampler', interval=4)
    straight = _straight(tmp_path, **kwargs)
    work_dir = str(tmp_path / 'killed')
    script = tmp_path / 'train_and_die.py'
    script.write_text(SRC + METRIC_SRC + textwrap.dedent(f'''
        from mmengine.runner import Runner
        cfg = make_cfg({work_dir!r}, 'killed', crash_at=9, kill=True,
                       **{kwargs!r})
        Runner.from_cfg(cfg).train()
    '''))
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))] +
        sys.path)
    proc = subprocess.run([sys.executable, str(script)],
                          env=env,
                          capture_output=True,
                          timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    assert osp.isfile(osp.join(work_dir, 'iter_8.pth'))
    resumed = _train(NS['make_cfg'](work_dir, 'after_kill', resume=True,
                                    **kwargs))
    _assert_same_run(straight, resumed)
