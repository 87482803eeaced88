"""``ProfilerHook`` (torch.profiler) and ``NPUProfilerHook`` (Ascend)."""
import os
import os.path as osp
import sys
import warnings
from typing import Callable, Optional, Sequence, Union

import torch

from mmengine.registry import HOOKS
from .hook import DATA_BATCH, Hook


def check_kineto() -> bool:
    """Whether torch was built with Kineto, which ``torch.profiler`` needs."""
    try:
        return bool(torch.autograd.kineto_available())
    except AttributeError:
        warnings.warn('torch.autograd.kineto_available is missing: this '
                      'torch cannot profile with torch.profiler')
        return False


_ACTIVITY_NAMES = ('cpu', 'cuda')


@HOOKS.register_module()
class ProfilerHook(Hook):
    """Profiles the first epoch(s) or iterations with ``torch.profiler``.

    The profiler starts in ``before_run`` and stops after ``profile_times``
    epochs (``by_epoch=True``) or iterations, then exports/prints its result.

    Args:
        by_epoch (bool): Profile epochs (then ``profile_times`` must be 1) or
            iterations. Defaults to True.
        profile_times (int): How many epochs/iterations to profile.
            Defaults to 1.
        activity_with_cpu (bool): Record CPU activity. Defaults to True.
        activity_with_cuda (bool): Record CUDA activity. Defaults to False.
        schedule (dict, optional): Arguments of
            ``torch.profiler.schedule`` (``wait``, ``warmup``, ``active``,
            ``repeat``, ``skip_first``).
        on_trace_ready (callable or dict, optional): Called with the profiler
            when a trace is ready; or ``dict(type='log_trace', **kwargs)`` to
            print ``key_averages().table(**kwargs)``, or
            ``dict(type='tb_trace', dir_name=...)`` for TensorBoard traces
            (needs ``torch-tb-profiler``; relative ``dir_name`` is under
            ``runner.log_dir``).
        record_shapes (bool): Record operator input shapes.
        profile_memory (bool): Track tensor memory.
        with_stack (bool): Record source locations.
        with_flops (bool): Estimate FLOPs.
        json_trace_path (str, optional): Export a Chrome trace JSON here.
        profile_iters (int, optional): Spelling of ``profile_times`` in early
            docs; used when given.
        activities (sequence of str, optional): Spelling of early docs,
            e.g. ``('cpu', 'cuda')``; overrides ``activity_with_*``.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 *,
                 by_epoch: bool = True,
                 profile_times: int = 1,
                 activity_with_cpu: bool = True,
                 activity_with_cuda: bool = False,
                 schedule: Optional[dict] = None,
                 on_trace_ready: Union[Callable, dict, None] = None,
                 record_shapes: bool = False,
                 profile_memory: bool = False,
                 with_stack: bool = False,
                 with_flops: bool = False,
                 json_trace_path: Optional[str] = None,
                 profile_iters: Optional[int] = None,
                 activities: Optional[Sequence[str]] = None) -> None:
        if not check_kineto():
            raise ImportError('ProfilerHook needs torch built with Kineto '
                              '(pytorch >= 1.8.1; on Windows >= 1.9.1)')
        if not isinstance(by_epoch, bool):
            raise TypeError('ProfilerHook: by_epoch should be a bool, but '
                            f'got {type(by_epoch).__name__}')
        if profile_iters is not None:
            profile_times = profile_iters
        if not isinstance(profile_times, int) or profile_times < 1:
            raise ValueError('ProfilerHook: profile_times should be an int '
                             f'greater than 0, but got {profile_times!r}')
        if by_epoch and profile_times > 1:
            raise ValueError(
                f'ProfilerHook would profile epochs 0-{profile_times}. Since '
                'the profiler slows training down, profile 1 epoch '
                '(profile_times=1), or profile iterations with '
                'by_epoch=False.')
        if activities is not None:
            names = [str(a).lower() for a in activities]
            unknown = [a for a in names if a not in _ACTIVITY_NAMES]
            if unknown:
                raise ValueError(
                    f'ProfilerHook: unknown activities {unknown}; expected '
                    f'some of {_ACTIVITY_NAMES}')
            activity_with_cpu = 'cpu' in names
            activity_with_cuda = 'cuda' in names
        for name, value in (('activity_with_cpu', activity_with_cpu),
                            ('activity_with_cuda', activity_with_cuda)):
            if not isinstance(value, bool):
                raise TypeError(f'ProfilerHook: {name} should be a bool, but '
                                f'got {type(value).__name__}')
        if schedule is not None:
            if not isinstance(schedule, dict):
                raise TypeError('ProfilerHook: schedule should be a dict of '
                                'torch.profiler.schedule arguments, but got '
                                f'{type(schedule).__name__}')
            # Missing wait/warmup/active raises TypeError from torch.
            self.schedule = torch.profiler.schedule(**schedule)
        else:
            self.schedule = None
        self.by_epoch = by_epoch
        self.profile_times = profile_times
        self.activity_with_cpu = activity_with_cpu
        self.activity_with_cuda = activity_with_cuda
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.json_trace_path = json_trace_path
        self.profiler = None
        self._closed = False

    def before_run(self, runner) -> None:
        """Check the profiling length and start the profiler."""
        max_times = runner.max_epochs if self.by_epoch else runner.max_iters
        if max_times < self.profile_times:
            unit = 'epochs' if self.by_epoch else 'iterations'
            raise ValueError('ProfilerHook: profile_times should not be '
                             f'greater than {max_times} (the number of '
                             f'training {unit})')
        self.profiler = torch.profiler.profile(
            activities=self._get_activities(),
            schedule=self.schedule,
            on_trace_ready=self._parse_trace_config(runner),
            record_shapes=self.record_shapes,
            profile_memory=self.profile_memory,
            with_stack=self.with_stack,
            with_flops=self.with_flops)
        self.profiler.__enter__()
        self._closed = False
        runner.logger.info('profiler is profiling...')

    def _parse_trace_config(self, runner) -> Optional[Callable]:
        """Turn ``on_trace_ready`` into a callable (or None)."""
        if self.on_trace_ready is None:
            return None
        if callable(self.on_trace_ready):
            return self.on_trace_ready
        if not isinstance(self.on_trace_ready, dict):
            raise ValueError('ProfilerHook: on_trace_ready should be a '
                             'callable, a dict or None, but got '
                             f'{self.on_trace_ready!r}')
        trace_cfg = dict(self.on_trace_ready)
        trace_type = trace_cfg.pop('type', None)
        if trace_type == 'log_trace':

            def _log_handler(prof) -> None:
                print(prof.key_averages().table(**trace_cfg))

            return _log_handler
        if trace_type == 'tb_trace':
            try:
                import torch_tb_profiler  # noqa: F401
            except ImportError:
                raise ImportError(
                    'ProfilerHook on_trace_ready=dict(type="tb_trace") needs '
                    'torch-tb-profiler: pip install torch-tb-profiler')
            dir_name = trace_cfg.get('dir_name')
            if dir_name is None:
                trace_cfg['dir_name'] = osp.join(runner.log_dir,
                                                 'tf_tracing_logs')
            elif not osp.isabs(dir_name):
                trace_cfg['dir_name'] = osp.join(runner.log_dir, dir_name)
            runner.logger.info('trace_files of ProfilerHook will be saved to '
                               f'{trace_cfg["dir_name"]}.')
            if self.json_trace_path is not None:
                runner.logger.warning(
                    'With tb_trace, name the json files with `worker_name` '
                    'instead of setting `json_trace_path`.')
            return torch.profiler.tensorboard_trace_handler(**trace_cfg)
        raise ValueError('ProfilerHook: on_trace_ready type should be '
                         f'"log_trace" or "tb_trace", but got {trace_type!r}')

    def _get_activities(self) -> list:
        activities = []
        if self.activity_with_cpu:
            activities.append(torch.profiler.ProfilerActivity.CPU)
        if self.activity_with_cuda:
            activities.append(torch.profiler.ProfilerActivity.CUDA)
        return activities

    def after_train_epoch(self, runner) -> None:
        """Stop after the first epoch (also ends an iteration profile)."""
        if not self._closed:
            self._export_chrome_trace(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Advance the profiler schedule; stop after ``profile_times``."""
        if self._closed:
            return
        self.profiler.step()
        if not self.by_epoch and runner.iter == self.profile_times - 1:
            self._export_chrome_trace(runner)

    def after_run(self, runner) -> None:
        """Make sure the profiler is stopped."""
        if self.profiler is not None and not self._closed:
            self._export_chrome_trace(runner)

    def _export_chrome_trace(self, runner) -> None:
        self._closed = True
        runner.logger.info('profiler may take a few minutes...')
        self.profiler.__exit__(None, None, None)
        if self.json_trace_path is not None:
            self.profiler.export_chrome_trace(self.json_trace_path)


@HOOKS.register_module()
class NPUProfilerHook(Hook):
    """Profiles training iterations on Ascend NPUs with ``torch_npu``.

    Args:
        begin (int): First profiled iteration. Defaults to 0.
        end (int): Iteration after the last profiled one. Defaults to 1.
        result_path (str): Folder of the CANN profiling results. Defaults to
            ``'cann_profiling'``.
        exit_after_profiling (bool): Exit the program once profiling is done.
            Defaults to True.
        use_e2e_profiler (bool): Use the end-to-end profiler. Defaults to
            False.
        ge_profiling_to_std_out (bool): Set ``GE_PROFILING_TO_STD_OUT=1`` to
            also profile the graph engine. Defaults to False.

    Raises:
        ImportError: when ``torch_npu`` (Ascend PyTorch) is not installed.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 *,
                 begin: int = 0,
                 end: int = 1,
                 result_path: str = 'cann_profiling',
                 exit_after_profiling: bool = True,
                 use_e2e_profiler: bool = False,
                 ge_profiling_to_std_out: bool = False) -> None:
        if begin >= end:
            raise ValueError('NPUProfilerHook: the iteration to start '
                             'profiling (begin) should be smaller than the '
                             f'end, but got begin={begin}, end={end}')
        try:
            import torch_npu
        except ImportError:
            raise ImportError(
                'NPUProfilerHook needs Ascend PyTorch: install torch_npu '
                '(https://gitee.com/ascend/pytorch) on a machine with NPUs; '
                'use ProfilerHook elsewhere')
        self.begin = begin
        self.end = end
        self.result_path = result_path
        self.exit_after_profiling = exit_after_profiling
        if ge_profiling_to_std_out:
            os.environ['GE_PROFILING_TO_STD_OUT'] = '1'
        os.makedirs(self.result_path, exist_ok=True)
        self.profiler = torch_npu.npu.profile(
            self.result_path, use_e2e_profiler=use_e2e_profiler)

    def before_run(self, runner) -> None:
        """Check that profiling ends within training."""
        if self.end > runner.max_iters:
            raise ValueError('NPUProfilerHook: the profiling end iteration '
                             f'({self.end}) should not be greater than the '
                             f'max iteration ({runner.max_iters})')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        """Start profiling at ``begin``."""
        if runner.iter == self.begin:
            self.profiler.__enter__()
            runner.logger.info('NPUProfiler starts profiling...')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Stop profiling at ``end`` (and exit if configured)."""
        if runner.iter == self.end - 1:
            runner.logger.info('profiler may take a few minutes to save the '
                               'profiling result.')
            self.profiler.__exit__(None, None, None)
            if self.exit_after_profiling:
                sys.exit()
