"""Runner construction, building, entry points, hooks and work-dir layout."""
import json
import logging
import os
import os.path as osp
import random

import numpy as np
import pytest
import torch
import torch.nn as nn
from torch.utils.data import Dataset

from mmengine.config import Config
from mmengine.dataset import DefaultSampler, pseudo_collate
from mmengine.hooks import Hook
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS, RUNNERS
from mmengine.runner import (IterBasedTrainLoop, Runner,
                             set_random_seed)
from mmengine.testing.runner_test_case import (ToyDataset, ToyMetric,
                                               ToyModel)


@pytest.fixture(autouse=True)
def _registered():
    saved = [(reg, dict(reg.module_dict))
             for reg in (MODELS, DATASETS, METRICS)]
    MODELS.register_module(module=ToyModel, force=True)
    DATASETS.register_module(module=ToyDataset, force=True)
    METRICS.register_module(module=ToyMetric, force=True)
    yield
    logging.shutdown()
    for reg, modules in saved:  # leave the registries as found
        reg.module_dict.clear()
        reg.module_dict.update(modules)


_COUNTER = [0]


def _name(prefix='t'):
    _COUNTER[0] += 1
    return f'{prefix}_{os.getpid()}_{_COUNTER[0]}'


def _loader(sampler='DefaultSampler', shuffle=False, **kwargs):
    return dict(
        dataset=dict(type='ToyDataset'),
        sampler=dict(type=sampler, shuffle=shuffle),
        batch_size=3,
        num_workers=0,
        **kwargs)


def _cfg(tmp_path, **overrides):
    cfg = dict(
        model=dict(type='ToyModel'),
        work_dir=str(tmp_path),
        train_dataloader=_loader(shuffle=True),
        val_dataloader=_loader(),
        test_dataloader=_loader(),
        val_evaluator=dict(type='ToyMetric'),
        test_evaluator=dict(type='ToyMetric'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        val_cfg=dict(),
        test_cfg=dict(),
        experiment_name=_name(),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)))
    cfg.update(overrides)
    return cfg


# ---------------------------------------------------------------- construct
@pytest.mark.parametrize('phase,keys', [
    ('train', ('train_dataloader', 'train_cfg', 'optim_wrapper')),
    ('val', ('val_dataloader', 'val_cfg', 'val_evaluator')),
    ('test', ('test_dataloader', 'test_cfg', 'test_evaluator')),
])
def test_partial_triples_raise_value_error(tmp_path, phase, keys):
    for missing in keys:
        cfg = _cfg(tmp_path)
        cfg[missing] = None
        with pytest.raises(ValueError, match=f'{missing}=None'):
            Runner(**cfg)


def test_param_scheduler_requires_optim_wrapper(tmp_path):
    cfg = _cfg(tmp_path, param_scheduler=dict(type='MultiStepLR',
                                              milestones=[1]))
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper'):
        cfg[key] = None
    with pytest.raises(ValueError, match='param_scheduler should be None'):
        Runner(**cfg)


def test_bad_arguments_have_clear_errors(tmp_path):
    with pytest.raises(TypeError, match='work_dir'):
        Runner(model=ToyModel(), work_dir=3)
    with pytest.raises(ValueError, match='launcher'):
        Runner(model=ToyModel(), work_dir=str(tmp_path), launcher='srun')
    with pytest.raises(TypeError, match='model should be'):
        Runner(model='ToyModel', work_dir=str(tmp_path))
    with pytest.raises(KeyError, match='work_dir'):
        Runner.from_cfg(dict(model=dict(type='ToyModel')))
    with pytest.raises(TypeError, match='param_scheduler'):
        Runner(**_cfg(tmp_path, param_scheduler='StepLR'))


def test_lazy_building_and_minimal_runner(tmp_path):
    runner = Runner(**_cfg(tmp_path))
    # dict components are kept until an entry point needs them
    assert isinstance(runner._train_loop, dict)
    assert isinstance(runner._val_loop, dict)
    assert isinstance(runner._test_loop, dict)
    assert isinstance(runner.optim_wrapper, dict)
    runner.test()
    assert isinstance(runner._train_loop, dict)
    assert isinstance(runner._val_loop, dict)

    # model + work_dir only: a runner that can do nothing but say so
    bare = Runner(
        model=ToyModel(), work_dir=str(tmp_path), experiment_name=_name())
    with pytest.raises(RuntimeError, match='val_dataloader'):
        bare.val()
    with pytest.raises(RuntimeError, match='test_dataloader'):
        bare.test()
    with pytest.raises(RuntimeError, match='train_dataloader'):
        bare.train()
    assert bare.epoch == 0 and bare.iter == 0 and bare.max_epochs is None


def test_attributes_and_work_dir_layout(tmp_path):
    runner = Runner.from_cfg(
        _cfg(tmp_path / 'rel', experiment_name='layout'))
    assert runner.work_dir == osp.abspath(str(tmp_path / 'rel'))
    assert runner.experiment_name == f'layout_{runner.timestamp}'
    assert runner.log_dir == osp.join(runner.work_dir, runner.timestamp)
    assert runner.logger.instance_name == runner.experiment_name
    assert runner.message_hub.instance_name == runner.experiment_name
    assert runner.visualizer.instance_name == runner.experiment_name
    assert (runner.rank, runner.world_size, runner.distributed,
            runner.launcher) == (0, 1, False, 'none')
    assert runner.model_name == 'ToyModel'
    assert len(runner.hooks) == 6
    runner.train()
    assert (runner.epoch, runner.iter, runner.max_epochs,
            runner.max_iters) == (2, 8, 2, 8)
    log_file = osp.join(runner.log_dir, f'{runner.timestamp}.log')
    with open(log_file) as f:
        log = f.read()
    # environment banner, config text and hook table
    for text in ('System environment:', 'Runtime environment:',
                 'numpy_random_seed', 'Config:', "type='ToyModel'",
                 'Hooks will be executed in the following order',
                 '(VERY_HIGH   ) RuntimeInfoHook', 'Epoch(train) [1][4/4]',
                 'Saving checkpoint at 2 epochs'):
        assert text in log, text
    vis_data = osp.join(runner.log_dir, 'vis_data')
    assert osp.isfile(osp.join(vis_data, 'scalars.json'))
    assert osp.isfile(osp.join(runner.work_dir, f'{runner.timestamp}.py'))
    for name in ('epoch_1.pth', 'epoch_2.pth', 'last_checkpoint'):
        assert osp.isfile(osp.join(runner.work_dir, name))
    with open(osp.join(vis_data, 'scalars.json')) as f:
        first = json.loads(f.readline())
    assert 'loss' in first and 'lr' in first


def test_from_cfg_config_file_and_runner_type(tmp_path):
    cfg_file = tmp_path / 'my_exp.py'
    cfg_file.write_text(
        "model = dict(type='ToyModel')\n"
        f'work_dir = {str(tmp_path / "w")!r}\n')
    cfg = Config.fromfile(str(cfg_file))
    runner = Runner.from_cfg(cfg)
    assert runner.experiment_name.startswith('my_exp_')
    assert osp.isfile(osp.join(runner.work_dir, 'my_exp.py'))
    assert runner.cfg.model == dict(type='ToyModel')

    calls = []

    @RUNNERS.register_module(force=True)
    class EnvRecordingRunner(Runner):  # EX-RUN-17

        def setup_env(self, env_cfg):
            calls.append(env_cfg)
            super().setup_env(env_cfg)

    try:
        cfg = Config(_cfg(tmp_path, runner_type='EnvRecordingRunner'))
        runner = RUNNERS.build(cfg)
        assert type(runner) is EnvRecordingRunner
        assert calls and 'dist_cfg' in calls[0]
        # Runner.from_cfg dispatches on runner_type too
        cfg = Config(_cfg(tmp_path, runner_type='EnvRecordingRunner'))
        assert type(Runner.from_cfg(cfg)) is EnvRecordingRunner
        with pytest.raises(KeyError, match='NoSuchRunner'):
            Runner.from_cfg(_cfg(tmp_path, runner_type='NoSuchRunner'))
    finally:
        RUNNERS.module_dict.pop('EnvRecordingRunner')


def test_env_cfg_backend_alias(tmp_path):
    runner = Runner(**_cfg(
        tmp_path,
        env_cfg=dict(cudnn_benchmark=False, backend='gloo',
                     mp_cfg=dict(mp_start_method='fork'))))
    with open(runner.logger.log_file) as f:
        assert "dist_cfg: {'backend': 'gloo'}" in f.read()


def test_data_preprocessor_goes_into_model_cfg(tmp_path):
    from mmengine.model import ImgDataPreprocessor
    runner = Runner(**_cfg(
        tmp_path, data_preprocessor=dict(type='ImgDataPreprocessor')))
    assert isinstance(runner.model.data_preprocessor, ImgDataPreprocessor)


# ----------------------------------------------------------- randomness
def test_set_random_seed_seeds_everything():
    assert set_random_seed(7) == 7
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    set_random_seed(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a
    seed = set_random_seed(None)
    assert isinstance(seed, int)
    assert set_random_seed(5, diff_rank_seed=True) == 5  # rank 0
    with pytest.raises(TypeError, match='seed must be an int'):
        set_random_seed('7')


def test_rng_state_round_trip_is_plain_data(tmp_path):
    from mmengine.runner.utils import (get_rng_state, preserve_rng_state,
                                       set_rng_state)
    set_random_seed(1)
    state = get_rng_state()
    path = str(tmp_path / 'rng.pth')
    torch.save(state, path)
    expected = (random.random(), np.random.rand(), torch.rand(2).tolist())
    set_rng_state(torch.load(path, weights_only=True))
    assert (random.random(), np.random.rand(),
            torch.rand(2).tolist()) == expected
    with preserve_rng_state():
        torch.rand(5), np.random.rand(), random.random()
    after = (random.random(), np.random.rand(), torch.rand(2).tolist())
    set_rng_state(state)
    random.random(), np.random.rand(), torch.rand(2)  # the first draw
    assert after == (random.random(), np.random.rand(),
                     torch.rand(2).tolist())
    with pytest.raises(TypeError, match='set_rng_state'):
        set_rng_state(dict(torch=state['torch']))


def test_set_random_seed_deterministic():
    try:
        set_random_seed(3, deterministic=True)
        assert torch.backends.cudnn.deterministic
        assert not torch.backends.cudnn.benchmark
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False


def test_seeded_runs_are_identical(tmp_path):  # EX-RUN-12
    losses = []
    for i in range(2):
        runner = Runner(**_cfg(tmp_path / str(i), randomness=dict(seed=0)))
        runner.train()
        assert runner.seed == 0
        losses.append([
            float(v) for v in
            runner.message_hub.get_scalar('train/loss').data[0]
        ])
    assert losses[0] == losses[1]


# ------------------------------------------------------------ dataloader
class _LazyDataset(Dataset):
    """Raises unless full_init() ran first."""

    def __init__(self):
        self.ready = False

    def full_init(self):
        self.ready = True

    def __len__(self):
        if not self.ready:
            raise RuntimeError('full_init was not called')
        return 4

    def __getitem__(self, i):
        return torch.tensor([float(i)])


def test_build_dataloader_from_dict():
    loader = Runner.build_dataloader(
        dict(dataset=_LazyDataset(), sampler=dict(type='DefaultSampler',
                                                  shuffle=False),
             batch_size=2), seed=3)
    assert isinstance(loader.sampler, DefaultSampler)
    assert loader.sampler.seed == 3
    assert loader.collate_fn.func is pseudo_collate
    assert loader.worker_init_fn.keywords['seed'] == 3
    assert next(iter(loader)) == [torch.tensor([0.]), torch.tensor([1.])]
    # no seed -> no worker_init_fn; built DataLoader returned as is
    loader = Runner.build_dataloader(_loader())
    assert loader.worker_init_fn is None
    assert Runner.build_dataloader(loader) is loader
    # num_batch_per_epoch slices the dataset but keeps its metainfo
    loader = Runner.build_dataloader(_loader(num_batch_per_epoch=2))
    assert len(loader.dataset) == 6 and loader.dataset.metainfo == {}


def test_build_dataloader_errors():
    with pytest.raises(KeyError, match='sampler'):
        Runner.build_dataloader(dict(dataset=dict(type='ToyDataset'),
                                     batch_size=1))
    with pytest.raises(ValueError, match='shuffle'):
        Runner.build_dataloader(dict(_loader(), shuffle=True))
    with pytest.raises(TypeError, match='collate_fn should be a dict'):
        Runner.build_dataloader(dict(_loader(), collate_fn='pseudo'))
    with pytest.raises(KeyError, match='not registered'):
        Runner.build_dataloader(
            dict(_loader(), collate_fn=dict(type='no_such_collate')))
    with pytest.raises(TypeError, match='DataLoader object or a config'):
        Runner.build_dataloader([1, 2])


def test_seeded_workers_are_reproducible():
    class RandomDataset(Dataset):

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.random.rand()

    def draw():
        loader = Runner.build_dataloader(
            dict(dataset=RandomDataset(),
                 sampler=dict(type='DefaultSampler', shuffle=False),
                 batch_size=2, num_workers=2), seed=11)
        return [list(map(float, b)) for b in loader]

    assert draw() == draw()


# ----------------------------------------------------------------- hooks
class _Recorder(Hook):

    def __init__(self):
        self.calls = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.calls.append(('before_train_iter', batch_idx))

    def custom_point(self, runner, value):
        self.calls.append(('custom_point', value))


def test_call_hook_dispatch(tmp_path):
    runner = Runner(**_cfg(tmp_path))
    recorder = _Recorder()
    runner.register_hook(recorder, priority='HIGHEST')
    assert runner.hooks[0] is recorder
    # hooks that do not implement a point are not called for it
    assert recorder not in runner._hooks_for('after_train_iter')
    assert recorder in runner._hooks_for('before_train_iter')
    runner.call_hook('custom_point', value=1)  # custom points work
    runner.call_hooks('custom_point', value=2)  # documented plural alias
    assert recorder.calls == [('custom_point', 1), ('custom_point', 2)]
    with pytest.raises(TypeError, match='_Recorder'):
        runner.call_hook('custom_point', wrong=1)
    with pytest.raises(TypeError, match='instance of Hook or dict'):
        runner.register_hook('LoggerHook')


def test_default_hooks_merge_and_removal(tmp_path):
    runner = Runner(**_cfg(
        tmp_path, default_hooks=dict(timer=None, checkpoint=None),
        custom_hooks=[dict(type='EMAHook')]))
    names = [type(h).__name__ for h in runner.hooks]
    assert names == ['RuntimeInfoHook', 'DistSamplerSeedHook', 'EMAHook',
                     'LoggerHook', 'ParamSchedulerHook']
    runner.train()
    assert not osp.exists(osp.join(runner.work_dir, 'epoch_2.pth'))


# ------------------------------------------------------------ train/val/test
def test_val_test_return_metrics_and_model_mode(tmp_path):
    runner = Runner(**_cfg(tmp_path))
    assert runner.val() == dict(acc=1)
    assert runner.test() == dict(acc=1)
    assert not runner.model.training
    model = runner.train()
    assert model is runner.model and model.training


def test_iter_based_train_and_log_format(tmp_path):  # EX-RUN-13/14
    runner = Runner(**_cfg(
        tmp_path,
        train_dataloader=_loader('InfiniteSampler', True),
        train_cfg=dict(by_epoch=False, max_iters=10, val_interval=5),
        log_processor=dict(by_epoch=False),
        param_scheduler=dict(type='MultiStepLR', by_epoch=False,
                             milestones=[6, 8]),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=2,
                        log_metric_by_epoch=False),
            checkpoint=dict(type='CheckpointHook', by_epoch=False,
                            interval=5))))
    runner.train()
    assert isinstance(runner.train_loop, IterBasedTrainLoop)
    assert runner.iter == 10
    assert sorted(f for f in os.listdir(runner.work_dir)
                  if f.endswith('.pth')) == ['iter_10.pth', 'iter_5.pth']
    with open(runner.logger.log_file) as f:
        log = f.read()
    assert 'Iter(train) [ 2/10]' in log or 'Iter(train) [2/10]' in log
    assert runner.optim_wrapper.get_lr()['lr'][0] == pytest.approx(1e-4)


def test_auto_scale_lr(tmp_path):
    runner = Runner(**_cfg(
        tmp_path, auto_scale_lr=dict(enable=True, base_batch_size=6),
        param_scheduler=dict(type='ConstantLR', factor=1.0)))
    runner.train()
    # batch size 3 x 1 process vs base 6: lr halves
    assert runner.optim_wrapper.get_lr()['lr'][0] == pytest.approx(0.005)


def test_compile_option(tmp_path, monkeypatch):  # EX-RUN-09
    # Real compilation is torch's job (and slow); check the wiring.
    calls = []

    def fake_compile(fn, **kwargs):
        calls.append((fn.__name__, kwargs))
        return fn

    monkeypatch.setattr(torch, 'compile', fake_compile)
    runner = Runner(**_cfg(
        tmp_path, cfg=dict(compile=dict(backend='inductor', mode='default'))))
    runner.train()
    runner.test()
    assert calls == [('train_step', dict(backend='inductor', mode='default')),
                     ('test_step', dict(backend='inductor', mode='default'))]
    runner = Runner(**_cfg(tmp_path / 'a', cfg=dict(compile=True)))
    runner.val()
    assert calls[-1] == ('val_step', {})
    with pytest.raises(TypeError, match='cfg.compile'):
        Runner(**_cfg(tmp_path / 'b', cfg=dict(compile='yes'))).train()


def test_model_without_val_step(tmp_path):

    class NoVal(nn.Module):

        def __init__(self):
            super().__init__()
            self.p = nn.Parameter(torch.zeros(1))

        def train_step(self, data, optim_wrapper):
            return dict(loss=self.p.sum())

    with pytest.raises(AssertionError, match='val_step'):
        Runner(**_cfg(tmp_path, model=NoVal())).train()
    cfg = _cfg(tmp_path, model=NoVal())
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator'):
        cfg.pop(key)
    Runner(**cfg).train()


def test_save_checkpoint_meta_errors(tmp_path):
    runner = Runner(**_cfg(tmp_path))
    runner.train()
    with pytest.raises(TypeError, match='meta should be a dict'):
        runner.save_checkpoint(runner.work_dir, 'x.pth', meta=[1])
    with pytest.raises(ValueError, match='cannot be set at the same time'):
        runner.save_checkpoint(
            runner.work_dir, 'x.pth', file_client_args=dict(),
            backend_args=dict())
    runner.save_checkpoint(runner.work_dir, 'x.pth', meta=dict(note='hi'))
    ckpt = torch.load(osp.join(runner.work_dir, 'x.pth'), weights_only=True)
    assert ckpt['meta']['note'] == 'hi' and ckpt['meta']['epoch'] == 3


def test_resume_rejects_weights_only_file(tmp_path):
    runner = Runner(**_cfg(tmp_path))
    path = osp.join(str(tmp_path), 'weights.pth')
    torch.save(dict(state_dict=ToyModel().state_dict()), path)
    with pytest.raises(KeyError, match='no "meta"'):
        runner.resume(path)
    runner.load_checkpoint(path)  # weights alone load fine
    assert runner._has_loaded


def test_hooks_see_runner_attributes(tmp_path):
    seen = {}

    @HOOKS.register_module(force=True)
    class AttrHook(Hook):

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            seen.setdefault('iters', []).append(runner.iter)
            seen['outputs'] = outputs

        def after_val_epoch(self, runner, metrics=None):
            seen.setdefault('metrics', []).append((runner.epoch, metrics))

    try:
        runner = Runner(**_cfg(tmp_path, custom_hooks=[dict(type='AttrHook')],
                               train_cfg=dict(by_epoch=True, max_epochs=3,
                                              val_begin=2)))
        runner.train()
    finally:
        HOOKS.module_dict.pop('AttrHook')
    assert seen['iters'] == list(range(12))  # counted before increment
    assert 'loss' in seen['outputs']
    assert seen['metrics'] == [(2, dict(acc=1)), (3, dict(acc=1))]


def test_runners_started_in_the_same_second_do_not_share_state(
        tmp_path, monkeypatch):
    """Same timestamp, no experiment name: each runner still gets its own
    logger, message hub and visualizer, so the second run's logs (e.g. the
    optimizer wrapper's grad_norm) land in its own history."""
    import time
    import types

    import mmengine.runner._runner_env as runner_module
    frozen = types.SimpleNamespace(
        time=time.time,
        localtime=time.localtime,
        strftime=lambda fmt, t=None: '20260101_000000')
    monkeypatch.setattr(runner_module, 'time', frozen)
    clip = dict(optim_wrapper=dict(
        optimizer=dict(type='SGD', lr=0.01), clip_grad=dict(max_norm=1.0)))
    first = Runner(**_cfg(tmp_path / 'a', **clip, experiment_name=None))
    second = Runner(**_cfg(tmp_path / 'b', **clip, experiment_name=None))
    assert first.experiment_name != second.experiment_name
    assert first.message_hub is not second.message_hub
    assert first.visualizer is not second.visualizer
    assert first.logger is not second.logger
    second.train()
    assert len(second.message_hub.get_scalar('train/grad_norm').data[0]) > 0
    assert 'train/grad_norm' not in first.message_hub.log_scalars


def test_build_evaluator_refuses_a_bare_metric_with_a_hint(tmp_path):
    from mmengine.evaluator import Evaluator
    runner = Runner(**_cfg(tmp_path))
    with pytest.raises(TypeError, match=r'wrap a metric instance as '
                       r'dict\(metrics=metric\)'):
        runner.build_evaluator(ToyMetric())
    evaluator = runner.build_evaluator(dict(metrics=ToyMetric()))
    assert isinstance(evaluator, Evaluator)
    assert isinstance(evaluator.metrics[0], ToyMetric)


# ------------------------------------------- §2 constructor arguments
def test_log_level_visualizer_and_default_scope(tmp_path):
    from mmengine.registry import DefaultScope
    from mmengine.visualization import Visualizer
    runner = Runner(**_cfg(tmp_path / 'a', log_level='DEBUG',
                           default_scope='my_scope'))
    runner.logger.debug('a debug line')
    with open(runner.logger.log_file) as f:
        assert 'a debug line' in f.read()
    assert DefaultScope.get_current_instance().scope_name == 'my_scope'
    assert runner.default_scope.scope_name == 'my_scope'
    # default visualizer: LocalVisBackend under <log_dir>/vis_data
    assert type(runner.visualizer.get_backend('LocalVisBackend')).__name__ \
        == 'LocalVisBackend'
    runner = Runner(**_cfg(tmp_path / 'info'))
    runner.logger.debug('a hidden line')
    with open(runner.logger.log_file) as f:
        assert 'a hidden line' not in f.read()
    runner = Runner(**_cfg(
        tmp_path / 'b',
        visualizer=dict(type='Visualizer',
                        vis_backends=[dict(type='LocalVisBackend')])))
    assert runner.visualizer.instance_name == runner.experiment_name
    vis = Visualizer(name=_name('vis'))
    runner = Runner(**_cfg(tmp_path / 'c', visualizer=vis))
    assert runner.visualizer is vis
    with pytest.raises(TypeError, match='visualizer should be'):
        Runner(**_cfg(tmp_path / 'd', visualizer='Visualizer'))


def test_env_cfg_cudnn_benchmark_and_errors(tmp_path):
    saved = torch.backends.cudnn.benchmark
    try:
        Runner(**_cfg(tmp_path, env_cfg=dict(cudnn_benchmark=True)))
        assert torch.backends.cudnn.benchmark
    finally:
        torch.backends.cudnn.benchmark = saved
    with pytest.raises(TypeError, match='env_cfg should be a dict'):
        Runner(**_cfg(tmp_path, env_cfg='nccl'))
    with pytest.raises(TypeError, match='env_cfg.mp_cfg should be a dict'):
        Runner(**_cfg(tmp_path, env_cfg=dict(mp_cfg='fork')))
    with pytest.raises(ValueError, match='mp_start_method'):
        Runner(**_cfg(tmp_path,
                      env_cfg=dict(mp_cfg=dict(mp_start_method='nope'))))


def test_randomness_argument(tmp_path):
    runner = Runner(**_cfg(tmp_path, randomness=dict(seed=5)))
    assert runner.seed == 5 and not runner.deterministic
    assert isinstance(Runner(**_cfg(tmp_path)).seed, int)  # drawn
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['seeds'\]"):
        Runner(**_cfg(tmp_path, randomness=dict(seeds=5)))
    with pytest.raises(TypeError, match='randomness should be a dict'):
        Runner(**_cfg(tmp_path, randomness=5))
    with pytest.raises(TypeError, match='seed must be an int'):
        Runner(**_cfg(tmp_path, randomness=dict(seed='5')))


def test_loop_cfg_and_hook_argument_errors(tmp_path):
    with pytest.raises(TypeError, match='train_cfg should be a dict'):
        Runner(**_cfg(tmp_path, train_cfg='EpochBasedTrainLoop'))
    with pytest.raises(TypeError, match='val_cfg should be a dict'):
        Runner(**_cfg(tmp_path, val_cfg=['ValLoop']))
    for bad in (0, -1, 1.5, True):
        runner = Runner(**_cfg(
            tmp_path, train_cfg=dict(max_epochs=2, val_interval=bad)))
        with pytest.raises(ValueError, match='train_cfg.val_interval'):
            runner.train()
    runner = Runner(**_cfg(
        tmp_path, train_cfg=dict(max_iters=4, val_begin=-1)))
    with pytest.raises(ValueError, match='train_cfg.val_begin'):
        runner.train()
    with pytest.raises(TypeError, match='default_hooks should be a dict'):
        Runner(**_cfg(tmp_path, default_hooks=[dict(type='LoggerHook')]))
    with pytest.raises(TypeError, match='custom_hooks should be a list'):
        Runner(**_cfg(tmp_path, custom_hooks=dict(type='EMAHook')))
    with pytest.raises(TypeError, match='cfg should be a dict, Config'):
        Runner(**_cfg(tmp_path, cfg='config.py'))
    with pytest.raises(TypeError, match='optimizer wrapper should be'):
        Runner(**_cfg(tmp_path, optim_wrapper='SGD')).train()


def test_optim_wrapper_with_a_built_optimizer(tmp_path):
    model = ToyModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    runner = Runner(**_cfg(tmp_path, model=model,
                           optim_wrapper=dict(optimizer=optimizer)))
    runner.train()
    assert type(runner.optim_wrapper).__name__ == 'OptimWrapper'
    assert runner.optim_wrapper.optimizer is optimizer


def test_runtime_change_of_val_interval_is_kept(tmp_path):
    """Without dynamic_intervals the loop does not reset val_interval."""
    epochs = []

    class Record(Hook):

        def after_val_epoch(self, runner, metrics=None):
            epochs.append(runner.epoch)

    runner = Runner(**_cfg(tmp_path, custom_hooks=[Record()],
                           train_cfg=dict(max_epochs=4)))
    runner.train_loop.val_interval = 2
    runner.train()
    assert epochs == [2, 4]


def test_dict_of_optim_wrappers_and_schedulers_by_name(tmp_path):
    """§8: a dict of built OptimWrappers becomes an OptimWrapperDict; the
    param_scheduler dict is keyed by optimizer name."""
    from mmengine.optim import OptimWrapper, OptimWrapperDict

    class TwoOptimModel(ToyModel):

        def train_step(self, data, optim_wrapper):
            assert isinstance(optim_wrapper, OptimWrapperDict)
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
            loss, log_vars = self.parse_losses(losses)
            loss.backward()
            for wrapper in optim_wrapper.values():
                wrapper.step()
                wrapper.zero_grad()
            return log_vars

    model = TwoOptimModel()
    wrappers = dict(
        first=OptimWrapper(torch.optim.SGD(model.linear1.parameters(),
                                           lr=0.1)),
        second=OptimWrapper(torch.optim.SGD(model.linear2.parameters(),
                                            lr=0.2)))
    runner = Runner(**_cfg(
        tmp_path, model=model, optim_wrapper=wrappers,
        param_scheduler=dict(
            first=dict(type='MultiStepLR', milestones=[1], gamma=0.1),
            second=[dict(type='ConstantLR', factor=1.0)])))
    runner.train()
    assert isinstance(runner.optim_wrapper, OptimWrapperDict)
    assert set(runner.param_schedulers) == {'first', 'second'}
    lrs = runner.optim_wrapper.get_lr()
    assert lrs['first.lr'][0] == pytest.approx(0.01)
    assert lrs['second.lr'][0] == pytest.approx(0.2)
    with pytest.raises(ValueError, match='second'):
        Runner(**_cfg(tmp_path, model=TwoOptimModel(),
                      optim_wrapper=dict(first=wrappers['first'],
                                         second='SGD'))).train()


# ------------------------------------------------ scheduler defaults (03 §8)
def _lrs(runner):
    return [float(v) for v in runner.message_hub.get_scalar('train/lr').data[0]]


def test_converted_scheduler_in_iteration_loop_spans_all_iterations(
        tmp_path):
    """convert_to_iter_based=True in an iteration-based loop: the default
    end is max_iters (not the loop's single "epoch")."""
    runner = Runner(**_cfg(
        tmp_path,
        train_cfg=dict(by_epoch=False, max_iters=24, val_interval=100),
        log_processor=dict(by_epoch=False),
        param_scheduler=dict(
            type='MultiStepLR', by_epoch=True, milestones=[2, 4],
            gamma=0.1, convert_to_iter_based=True)))
    runner.train()
    per_epoch = len(runner.train_dataloader)  # ToyDataset: 4 batches of 3
    lrs = _lrs(runner)
    assert lrs[0] == pytest.approx(0.01)
    assert lrs[2 * per_epoch] == pytest.approx(0.001)
    assert lrs[4 * per_epoch] == pytest.approx(0.0001)


def test_unconverted_epoch_scheduler_in_iteration_loop_warns(tmp_path):
    runner = Runner(**_cfg(
        tmp_path,
        train_cfg=dict(by_epoch=False, max_iters=8, val_interval=100),
        log_processor=dict(by_epoch=False),
        param_scheduler=dict(type='MultiStepLR', by_epoch=True,
                             milestones=[1], gamma=0.1)))
    logger = runner.logger
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        runner.train()
    finally:
        logger.removeHandler(handler)
    assert any('convert_to_iter_based=True' in r.getMessage()
               for r in records)


def test_defaulted_end_before_begin_is_named(tmp_path):
    runner = Runner(**_cfg(
        tmp_path,
        param_scheduler=dict(type='LinearLR', begin=10, by_epoch=True)))
    with pytest.raises(ValueError, match=r'begin=10 .*max_epochs=2.*default '
                       r'`end`'):
        runner.train()


def test_scheduler_dict_keys_must_match_optimizer_names(tmp_path):
    from mmengine.optim import OptimWrapper, OptimWrapperDict
    cfg = _cfg(tmp_path)
    model = ToyModel()
    wrappers = OptimWrapperDict(
        a=OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)),
        b=OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    cfg.update(model=model, optim_wrapper=wrappers)
    lin = dict(type='LinearLR', by_epoch=True)
    runner = Runner(**dict(cfg, param_scheduler=dict(a=[lin])))
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    with pytest.raises(KeyError, match=r"missing: \['b'\], unknown: \[\]"):
        runner.build_param_scheduler(dict(a=[lin]))
    with pytest.raises(KeyError, match=r"unknown: \['c'\]"):
        runner.build_param_scheduler(dict(a=[lin], b=[lin], c=[lin]))
    built = runner.build_param_scheduler(dict(a=[lin], b=[]))
    assert sorted(built) == ['a', 'b'] and built['b'] == []
