import copy
import os.path as osp
from unittest.mock import MagicMock

import pytest

from mmengine.hooks import NPUProfilerHook, ProfilerHook
from mmengine.hooks.profiler_hook import check_kineto
from mmengine.testing import RunnerTestCase

pytestmark = pytest.mark.skipif(
    not check_kineto(), reason='torch built without Kineto')


class TestProfilerHook(RunnerTestCase):

    def test_init_errors(self):
        with pytest.raises(ValueError, match='profile_times'):
            ProfilerHook(profile_times=0)
        with pytest.raises(ValueError, match='profile 1 epoch'):
            ProfilerHook(by_epoch=True, profile_times=2)
        with pytest.raises(TypeError, match='by_epoch'):
            ProfilerHook(by_epoch=1)
        with pytest.raises(TypeError, match='schedule'):
            ProfilerHook(schedule=[1])
        with pytest.raises(TypeError):
            ProfilerHook(schedule=dict())
        with pytest.raises(ValueError, match='activities'):
            ProfilerHook(activities=('tpu', ))
        hook = ProfilerHook(
            by_epoch=False, profile_iters=3, activities=('cuda', ))
        assert hook.profile_times == 3
        assert not hook.activity_with_cpu and hook.activity_with_cuda

    def test_trace_config(self):
        runner = MagicMock()
        hook = ProfilerHook()
        assert hook._parse_trace_config(runner) is None
        hook.on_trace_ready = print
        assert hook._parse_trace_config(runner) is print
        hook.on_trace_ready = dict(type='log_trace', row_limit=5)
        assert callable(hook._parse_trace_config(runner))
        hook.on_trace_ready = dict(type='unknown')
        with pytest.raises(ValueError, match='unknown'):
            hook._parse_trace_config(runner)
        hook.on_trace_ready = 0
        with pytest.raises(ValueError, match='on_trace_ready'):
            hook._parse_trace_config(runner)

    def test_too_many_times(self):
        runner = MagicMock()
        runner.max_iters = 5
        with pytest.raises(ValueError, match='greater than 5'):
            ProfilerHook(by_epoch=False, profile_times=6).before_run(runner)

    def test_with_runner(self):
        json_path = osp.join(self.temp_dir.name, 'trace.json')
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.custom_hooks = [
            dict(type='ProfilerHook', json_trace_path=json_path)
        ]
        self.build_runner(cfg).train()
        assert osp.getsize(json_path) > 0

        json_path = osp.join(self.temp_dir.name, 'trace_iter.json')
        cfg = copy.deepcopy(self.iter_based_cfg)
        cfg.custom_hooks = [
            dict(
                type='ProfilerHook',
                by_epoch=False,
                profile_times=2,
                json_trace_path=json_path,
                on_trace_ready=dict(type='log_trace', row_limit=3))
        ]
        runner = self.build_runner(cfg)
        runner.train()
        hook = [h for h in runner.hooks if isinstance(h, ProfilerHook)][0]
        assert hook._closed and osp.isfile(json_path)


def test_npu_profiler_needs_torch_npu(tmp_path):
    with pytest.raises(ValueError, match='begin'):
        NPUProfilerHook(begin=2, end=1, result_path=str(tmp_path))
    try:
        import torch_npu  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match='torch_npu'):
            NPUProfilerHook(result_path=str(tmp_path))
