"""Single-process tests of mmengine.dist.utils: fallbacks, launchers (with
torch's init mocked), device helpers and their errors. The real
multi-process behaviour is tested in test_dist.py."""
import datetime
import os
from collections import OrderedDict, namedtuple
from unittest.mock import patch

import numpy as np
import pytest
import torch

import mmengine.dist as dist
from mmengine.dist import utils as dist_utils

_LAUNCH_VARS = ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'LOCAL_WORLD_SIZE',
                'MASTER_ADDR', 'MASTER_PORT', 'SLURM_PROCID', 'SLURM_NTASKS',
                'SLURM_NODELIST', 'SLURM_LOCALID', 'SLURM_NTASKS_PER_NODE',
                'OMPI_COMM_WORLD_LOCAL_RANK', 'OMPI_COMM_WORLD_SIZE',
                'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_LOCAL_SIZE')


@pytest.fixture
def clean_env():
    """An environment without launcher variables, restored afterwards."""
    with patch.dict(os.environ):
        for name in _LAUNCH_VARS:
            os.environ.pop(name, None)
        yield os.environ


@pytest.fixture
def fake_init():
    """Record init_process_group calls instead of starting a group; keep
    the global multiprocessing start method untouched."""
    with patch.object(dist_utils.torch_dist, 'init_process_group') as init, \
            patch.object(dist_utils.mp, 'get_start_method',
                         return_value='fork'):
        yield init


def test_non_distributed_fallbacks():
    assert not dist.is_distributed()
    assert dist.get_world_size() == 1
    assert dist.get_rank() == 0
    assert dist.get_backend() is None
    assert dist.get_local_rank() == 0
    assert dist.get_local_size() == 1
    assert dist.get_dist_info() == (0, 1)
    assert dist.is_main_process()
    assert dist.get_default_group() is None
    assert dist.get_local_group() is None
    assert dist.get_comm_device() == torch.device('cpu')
    assert dist.barrier() is None


def test_master_only_single_process():
    calls = []

    @dist.master_only
    def record(x, y=1):
        """Docstring kept."""
        calls.append((x, y))
        return x + y

    assert record(1, y=2) == 3
    assert calls == [(1, 2)]
    assert record.__doc__ == 'Docstring kept.'
    assert record.__name__ == 'record'
    with patch.object(dist_utils, 'get_rank', return_value=1):
        assert record(5) is None
    assert calls == [(1, 2)]


@pytest.mark.parametrize('env,expected', [
    ({}, 'none'),
    ({'WORLD_SIZE': '2'}, 'pytorch'),
    ({'SLURM_NTASKS': '4'}, 'slurm'),
    ({'OMPI_COMM_WORLD_LOCAL_RANK': '0'}, 'mpi'),
    ({'WORLD_SIZE': '2', 'SLURM_NTASKS': '4'}, 'pytorch'),
])
def test_infer_launcher(clean_env, env, expected):
    clean_env.update(env)
    assert dist.infer_launcher() == expected


def test_init_dist_invalid_arguments(clean_env, fake_init):
    with pytest.raises(ValueError, match='Invalid launcher type'):
        dist.init_dist('torchrun')
    with pytest.raises(TypeError, match='in seconds'):
        dist.init_dist('pytorch', backend='gloo', timeout='30')
    with pytest.raises(ValueError, match='positive'):
        dist.init_dist('pytorch', backend='gloo', timeout=0)
    clean_env.update(RANK='0', LOCAL_RANK='0')
    with pytest.raises(ValueError, match='init_backend'):
        dist.init_dist('pytorch', backend='gloo', init_backend='horovod')
    fake_init.assert_not_called()


def test_init_dist_pytorch(clean_env, fake_init):
    # the error names the missing variable
    with pytest.raises(KeyError, match='RANK'):
        dist.init_dist('pytorch', backend='gloo')
    clean_env.update(RANK='x', LOCAL_RANK='0')
    with pytest.raises(ValueError, match='RANK.*integer'):
        dist.init_dist('pytorch', backend='gloo')
    clean_env.update(RANK='1', LOCAL_RANK='1', WORLD_SIZE='2')
    dist.init_dist('pytorch', backend='gloo', timeout=5)
    fake_init.assert_called_once_with(
        backend='gloo', timeout=datetime.timedelta(seconds=5))
    fake_init.reset_mock()
    # a timedelta passes through unchanged
    dist.init_dist(
        'pytorch', backend='gloo', timeout=datetime.timedelta(minutes=1))
    assert fake_init.call_args.kwargs['timeout'] == datetime.timedelta(
        minutes=1)


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a CPU host')
def test_init_dist_nccl_without_cuda(clean_env, fake_init):
    clean_env.update(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1')
    with pytest.raises(RuntimeError, match="backend='gloo'"):
        dist.init_dist('pytorch', backend='nccl')
    fake_init.assert_not_called()


def test_init_dist_sets_spawn_start_method(clean_env):
    clean_env.update(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1')
    with patch.object(dist_utils.torch_dist, 'init_process_group'), \
            patch.object(dist_utils.mp, 'get_start_method',
                         return_value=None), \
            patch.object(dist_utils.mp, 'set_start_method') as set_method:
        dist.init_dist('pytorch', backend='gloo')
    set_method.assert_called_once_with('spawn')


def test_init_dist_slurm(clean_env, fake_init):
    with pytest.raises(KeyError, match='SLURM_PROCID'):
        dist.init_dist('slurm', backend='gloo')
    clean_env.update(
        SLURM_PROCID='5',
        SLURM_NTASKS='8',
        SLURM_LOCALID='1',
        SLURM_NTASKS_PER_NODE='4(x2)',
        SLURM_NODELIST='gpu[07-08]')
    with patch.object(dist_utils.shutil, 'which', return_value=None):
        dist.init_dist('slurm', backend='gloo', timeout=10)
    assert os.environ['MASTER_ADDR'] == 'gpu07'
    assert os.environ['MASTER_PORT'] == '29500'
    assert os.environ['WORLD_SIZE'] == '8'
    assert os.environ['RANK'] == '5'
    assert os.environ['LOCAL_RANK'] == '1'
    assert os.environ['LOCAL_WORLD_SIZE'] == '4'
    fake_init.assert_called_once_with(
        backend='gloo', timeout=datetime.timedelta(seconds=10))
    # an explicit port wins over MASTER_PORT; MASTER_ADDR is kept
    clean_env.update(MASTER_PORT='1234', MASTER_ADDR='10.0.0.1')
    with patch.object(dist_utils.shutil, 'which', return_value=None):
        dist.init_dist('slurm', backend='gloo', port=29999)
    assert os.environ['MASTER_PORT'] == '29999'
    assert os.environ['MASTER_ADDR'] == '10.0.0.1'
    assert 'port' not in fake_init.call_args.kwargs


def test_slurm_uses_scontrol_when_present(clean_env, fake_init):
    clean_env.update(
        SLURM_PROCID='0', SLURM_NTASKS='2', SLURM_NODELIST='n[1-2]')
    completed = dist_utils.subprocess.CompletedProcess([], 0, 'n1\nn2\n', '')
    with patch.object(dist_utils.shutil, 'which',
                      return_value='/usr/bin/scontrol'), \
            patch.object(dist_utils.subprocess, 'run',
                         return_value=completed) as run:
        dist.init_dist('slurm', backend='gloo')
    run.assert_called_once()
    assert run.call_args.args[0] == ['scontrol', 'show', 'hostnames', 'n[1-2]']
    assert os.environ['MASTER_ADDR'] == 'n1'


def test_slurm_scontrol_that_hangs_falls_back_to_parsing(
        clean_env, fake_init):
    clean_env.update(
        SLURM_PROCID='0', SLURM_NTASKS='2', SLURM_NODELIST='n[7-8]')
    hang = dist_utils.subprocess.TimeoutExpired('scontrol', 30)
    with patch.object(dist_utils.shutil, 'which',
                      return_value='/usr/bin/scontrol'), \
            patch.object(dist_utils.subprocess, 'run',
                         side_effect=hang) as run:
        dist.init_dist('slurm', backend='gloo')
    assert run.call_args.kwargs['timeout'] > 0
    assert os.environ['MASTER_ADDR'] == 'n7'


@pytest.mark.parametrize('node_list,first', [
    ('node1', 'node1'),
    ('node1,node2', 'node1'),
    ('gpu[03-05,9]', 'gpu03'),
    ('gpu[3,5],cpu1', 'gpu3'),
    ('rack[1-2]-n[4-6]', 'rack1-n4'),
    ('a-b.example.org', 'a-b.example.org'),
])
def test_slurm_first_host(node_list, first):
    assert dist_utils._first_host(node_list) == first


def test_slurm_first_host_empty():
    with pytest.raises(ValueError, match='SLURM_NODELIST'):
        dist_utils._first_host('  ')


def test_init_dist_mpi(clean_env, fake_init):
    clean_env.update(
        OMPI_COMM_WORLD_LOCAL_RANK='0',
        OMPI_COMM_WORLD_SIZE='2',
        OMPI_COMM_WORLD_RANK='1',
        OMPI_COMM_WORLD_LOCAL_SIZE='1')
    with pytest.raises(KeyError, match='MASTER_ADDR'):
        dist.init_dist('mpi', backend='gloo')
    clean_env['MASTER_ADDR'] = '10.1.2.3'
    dist.init_dist('mpi', backend='gloo', timeout=7.5)
    assert os.environ['MASTER_PORT'] == '29500'
    assert os.environ['WORLD_SIZE'] == '2'
    assert os.environ['RANK'] == '1'
    assert os.environ['LOCAL_RANK'] == '0'
    assert os.environ['LOCAL_WORLD_SIZE'] == '1'
    fake_init.assert_called_once_with(
        backend='gloo', timeout=datetime.timedelta(seconds=7.5))


def test_init_dist_mpi_missing_env(clean_env, fake_init):
    with pytest.raises(KeyError, match='OMPI_COMM_WORLD_LOCAL_RANK'):
        dist.init_dist('mpi', backend='gloo')


def test_get_local_group_errors():
    with pytest.raises(RuntimeError, match='init_dist'):
        dist.init_local_group(0, 1)


def test_get_data_device():
    t = torch.zeros(2)
    assert dist.get_data_device(t) == torch.device('cpu')
    assert dist.get_data_device([t, (t, )]) == torch.device('cpu')
    assert dist.get_data_device({'a': t, 'b': [t]}) == torch.device('cpu')
    with pytest.raises(ValueError, match='empty'):
        dist.get_data_device([])
    with pytest.raises(ValueError, match='empty'):
        dist.get_data_device({})
    with pytest.raises(TypeError, match="<class 'int'>"):
        dist.get_data_device(1)
    with pytest.raises(TypeError, match='str'):
        dist.get_data_device('cpu')
    meta = torch.zeros(2, device='meta')
    with pytest.raises(ValueError, match='same device'):
        dist.get_data_device([t, meta])


def test_cast_data_device():
    cpu = torch.device('cpu')
    meta = torch.device('meta')
    t = torch.arange(3)
    assert dist.cast_data_device(t, cpu) is t
    assert dist.cast_data_device(t, 'cpu') is t
    moved = dist.cast_data_device(t, meta)
    assert moved.device == meta
    # containers keep their type
    out = dist.cast_data_device(OrderedDict(a=t, b=[t, t]), meta)
    assert type(out) is OrderedDict and type(out['b']) is list
    assert out['b'][1].device == meta
    out = dist.cast_data_device((t, t), meta)
    assert type(out) is tuple and out[0].device == meta
    Pair = namedtuple('Pair', 'x y')
    out = dist.cast_data_device(Pair(t, t), meta)
    assert type(out) is Pair and out.y.device == meta
    # `out` receives the values in place
    src = [torch.tensor([1., 2.]), torch.tensor([3.])]
    dst = [torch.zeros(2), torch.zeros(1)]
    dist.cast_data_device(src, cpu, out=dst)
    assert dst[0].tolist() == [1., 2.] and dst[1].tolist() == [3.]
    dst = {'a': torch.zeros(2, dtype=torch.int64)}
    dist.cast_data_device({'a': torch.tensor([1.7, 2.2])}, cpu, out=dst)
    assert dst['a'].tolist() == [1, 2]


def test_cast_data_device_errors():
    cpu = torch.device('cpu')
    t = torch.zeros(1)
    with pytest.raises(TypeError, match='same type'):
        dist.cast_data_device([t], cpu, out=(t, ))
    with pytest.raises(TypeError, match='set'):
        dist.cast_data_device({t}, cpu, out={t})
    with pytest.raises(ValueError, match='length'):
        dist.cast_data_device({'a': t}, cpu, out={'a': t, 'b': t})
    with pytest.raises(ValueError, match='length'):
        dist.cast_data_device([t], cpu, out=[t, t])
    with pytest.raises(KeyError, match='same keys'):
        dist.cast_data_device({'a': t}, cpu, out={'b': t})
    with pytest.raises(ValueError, match='empty'):
        dist.cast_data_device([], cpu)
    with pytest.raises(ValueError, match='empty'):
        dist.cast_data_device({}, cpu)
    with pytest.raises(TypeError, match='ndarray'):
        dist.cast_data_device(np.zeros(2), cpu)
    with pytest.raises(TypeError, match='str'):
        dist.cast_data_device('abc', cpu)
