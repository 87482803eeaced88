"""Collectives of mmengine.dist: single-process identities, and the real
thing on 2 spawned gloo processes (every collective checked on every
rank), launchers run for real, and a dead/silent rank making the survivor
raise within the configured timeout."""
import glob
import json
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from unittest.mock import patch

import pytest
import torch
import torch.distributed as torch_dist

import mmengine.dist as dist
from mmengine.testing._internal import MultiProcessTestCase


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# single process: identities / no-ops and argument errors
# --------------------------------------------------------------------------


def test_single_process_collectives():
    t = torch.tensor([1, 2])
    for op in ('sum', 'mean', 'max', 'min', 'product', 'MEAN'):
        dist.all_reduce(t, op)
        assert t.tolist() == [1, 2]
    out = dist.all_gather(t)
    assert len(out) == 1 and out[0] is t
    assert dist.gather(t)[0] is t
    dist.broadcast(t)
    assert t.tolist() == [1, 2]
    objs = ['a', {1: 2}]
    dist.broadcast_object_list(objs)
    assert objs == ['a', {1: 2}]
    assert dist.all_gather_object({'r': 0}) == [{'r': 0}]
    assert dist.gather_object('x') == ['x']
    data = {'b': torch.tensor([1.]), 'a': torch.tensor([2])}
    dist.all_reduce_dict(data, 'mean')
    assert data['b'].tolist() == [1.] and data['a'].tolist() == [2]
    params = [torch.nn.Parameter(torch.ones(2))]
    dist.all_reduce_params(params, op='mean')
    assert params[0].tolist() == [1., 1.]
    seed = dist.sync_random_seed()
    assert isinstance(seed, int) and 0 <= seed < 2**31


def test_single_process_collect_results():
    for device in ('cpu', 'gpu'):
        assert dist.collect_results([1, 2, 3], 2, device=device) == [1, 2]
        assert dist.collect_results([None, 2], 5, device=device) == [None, 2]
        # size=None: no truncation
        assert dist.collect_results([1, 2, 3], None, device=device) == [
            1, 2, 3
        ]
    assert dist.collect_results_cpu(['a'], 1) == ['a']
    assert dist.collect_results_gpu(['a'], 0) == []


def test_argument_errors():
    t = torch.tensor([1.])
    with pytest.raises(ValueError, match="'avg'"):
        dist.all_reduce(t, 'avg')
    with pytest.raises(ValueError, match='reduce op'):
        dist.all_reduce_dict({'a': t}, 'avg')
    with pytest.raises(ValueError, match='reduce op'):
        dist.all_reduce_params([t], op='median')
    # the original raised AssertionError; ours is also a TypeError
    for bad in ('foo', ('a', )):
        with pytest.raises(AssertionError, match='list'):
            dist.broadcast_object_list(bad)
        with pytest.raises(TypeError, match='list'):
            dist.broadcast_object_list(bad)
    with pytest.raises(TypeError, match='dict'):
        dist.all_reduce_dict([t])
    with pytest.raises(TypeError, match="key 'x'"):
        dist.all_reduce_dict({'x': 1.0})
    with pytest.raises(ValueError, match="'cuda'"):
        dist.collect_results([1], 1, device='cuda')
    with pytest.raises(ValueError, match='tmpdir'):
        dist.collect_results([1], 1, device='gpu', tmpdir='/tmp/x')
    with pytest.raises(TypeError, match='list'):
        dist.collect_results((1, 2), 2)
    with pytest.raises(TypeError, match='size.*int or None.*-1'):
        dist.collect_results([1], -1)
    with pytest.raises(TypeError, match='size'):
        dist.collect_results([1], 2.0)
    with pytest.raises(TypeError, match='size'):
        dist.collect_results_gpu([1], '1')


# --------------------------------------------------------------------------
# two real gloo processes
# --------------------------------------------------------------------------


def _check_collectives(rank: int) -> None:
    ws = 2
    other = 1 - rank

    # all_reduce: every op, float and int
    for op, expected in [('sum', [4., 6.]), ('mean', [2., 3.]),
                         ('max', [3., 4.]), ('min', [1., 2.]),
                         ('product', [3., 8.])]:
        t = torch.tensor([1., 2.]) if rank == 0 else torch.tensor([3., 4.])
        dist.all_reduce(t, op)
        assert t.tolist() == expected, (op, t)
    t = torch.tensor([rank + 1])
    dist.all_reduce(t)
    assert t.tolist() == [3] and t.dtype == torch.int64
    t = torch.tensor([rank + 1])
    dist.all_reduce(t, 'mean')  # 1.5 truncated into the int64 tensor
    assert t.tolist() == [1] and t.dtype == torch.int64
    t = torch.tensor([rank + 1.])
    dist.all_reduce(t, 'mean')
    assert t.tolist() == [1.5]
    t = torch.arange(6.).reshape(2, 3).t() * (rank + 1)  # non-contiguous
    dist.all_reduce(t)
    assert t.tolist() == (torch.arange(6.).reshape(2, 3).t() * 3).tolist()
    t = torch.tensor([0b0110 if rank == 0 else 0b0011])
    dist.all_reduce(t, 'bor')
    assert t.tolist() == [0b0111]

    # all_gather / gather (to either rank)
    t = torch.tensor([rank, rank * 10])
    out = dist.all_gather(t)
    assert [o.tolist() for o in out] == [[0, 0], [1, 10]]
    for dst in (0, 1):
        out = dist.gather(t, dst=dst)
        if rank == dst:
            assert [o.tolist() for o in out] == [[0, 0], [1, 10]]
        else:
            assert out == []

    # broadcast from either rank, non-contiguous input
    for src in (0, 1):
        t = torch.arange(6).reshape(2, 3).t() + rank * 100
        dist.broadcast(t, src=src)
        assert t.tolist() == (torch.arange(6).reshape(2, 3).t() +
                              src * 100).tolist()

    # sync_random_seed: rank 0 decides
    seeds = dist.all_gather_object(dist.sync_random_seed())
    assert seeds[0] == seeds[1]

    # objects
    objs = ['a' if rank == 0 else 'b', {'r': rank}]
    dist.broadcast_object_list(objs)
    assert objs == ['a', {'r': 0}]
    objs = [None]
    dist.broadcast_object_list(objs, src=1)
    assert objs == [None]
    assert dist.all_gather_object({'r': rank}) == [{'r': 0}, {'r': 1}]
    for dst in (0, 1):
        out = dist.gather_object([rank], dst=dst)
        assert out == ([[0], [1]] if rank == dst else None)

    # all_reduce_dict: keys in different insertion order, mixed dtypes
    if rank == 0:
        data = {'x': torch.tensor(0), 'y': torch.tensor([1., 2.])}
    else:
        data = {'y': torch.tensor([3., 4.]), 'x': torch.tensor(1)}
    dist.all_reduce_dict(data)
    assert data['x'].tolist() == 1 and data['x'].dtype == torch.int64
    assert data['y'].tolist() == [4., 6.]
    data = {'y': torch.tensor([rank * 2.]), 'z': torch.ones(2, 2) * rank}
    dist.all_reduce_dict(data, 'mean')
    assert data['y'].tolist() == [1.] and data['z'].tolist() == [[.5, .5]] * 2
    # mismatching keys: a clear error on both ranks instead of garbage
    with pytest.raises(ValueError, match='same keys'):
        dist.all_reduce_dict({f'k{rank}': torch.zeros(1)})

    # all_reduce_params: coalesced, per tensor, bucketed
    for kwargs in (dict(), dict(coalesce=False), dict(bucket_size_mb=1)):
        params = [
            torch.nn.Parameter(torch.full((3, ), float(rank))),
            torch.tensor([rank, rank * 2]),
        ]
        dist.all_reduce_params(iter(params), op='sum', **kwargs)
        assert params[0].tolist() == [1., 1., 1.], kwargs
        assert params[1].tolist() == [1, 2], kwargs

    # master_only runs on rank 0 only, once
    shared = [tempfile.mkdtemp() if rank == 0 else None]
    dist.broadcast_object_list(shared)
    calls_file = osp.join(shared[0], 'calls.txt')

    @dist.master_only
    def write(tag):
        with open(calls_file, 'a') as f:
            f.write(f'{tag} {dist.get_rank()}\n')
        return 'done'

    result = write('x')
    dist.barrier()
    with open(calls_file) as f:
        assert f.read().splitlines() == ['x 0']
    assert result == ('done' if rank == 0 else None)

    # collect_results: sampler-style interleaved shards, uneven and padded
    # dataset of 5 samples -> rank 0: 0, 2, 4; rank 1: 1, 3, 0 (padding)
    part = [0, 2, 4] if rank == 0 else [1, 3, 0]
    # a result that is None must survive the merge
    part_with_none = [None, 2] if rank == 0 else [1]
    user_dir = osp.join(shared[0], 'user_tmpdir')
    cwd = os.getcwd()
    os.chdir(shared[0])  # the default tmpdir goes under ./.dist_test
    try:
        for device in ('cpu', 'gpu'):
            out = dist.collect_results(part, 5, device=device)
            assert out == ([0, 1, 2, 3, 4] if rank == 0 else None), device
            out = dist.collect_results(part, 2, device=device)
            assert out == ([0, 1] if rank == 0 else None), device
            out = dist.collect_results(part_with_none, 3, device=device)
            assert out == ([None, 1, 2] if rank == 0 else None), device
            # size=None: no truncation (the padding sample 0 stays)
            out = dist.collect_results(part, None, device=device)
            assert out == ([0, 1, 2, 3, 4, 0] if rank == 0 else None), device
            # rank 0 holds more than rank 1 (no padding)
            out = dist.collect_results(
                [0, 2, 4] if rank == 0 else [1, 3], None, device=device)
            assert out == ([0, 1, 2, 3, 4] if rank == 0 else None), device
        # back-to-back calls on one user tmpdir: a fast rank 1 must not
        # write its next part where rank 0 still reads the previous one
        for i in range(3):
            out = dist.collect_results([i, rank], 4, 'cpu', tmpdir=user_dir)
            assert out == ([i, i, 0, 1] if rank == 0 else None)
        dist.barrier()
        # the temp dirs are cleaned on rank 0; an emptied user dir goes too
        assert not osp.exists(user_dir)
        assert not osp.exists(osp.join(shared[0], '.dist_test'))
        dist.barrier()  # both ranks checked before rank 0 recreates it
        # ... but what the user keeps in tmpdir is not deleted
        if rank == 0:
            os.makedirs(user_dir)
            with open(osp.join(user_dir, 'keep.txt'), 'w') as f:
                f.write('mine')
        dist.barrier()
        out = dist.collect_results(part, 5, 'cpu', tmpdir=user_dir)
        assert out == ([0, 1, 2, 3, 4] if rank == 0 else None)
        dist.barrier()
        assert os.listdir(user_dir) == ['keep.txt']
        dist.barrier()
        assert dist.collect_results_gpu(part, 6) == (
            [0, 1, 2, 3, 4, 0] if rank == 0 else None)
        assert dist.collect_results_cpu(part, 6) == (
            [0, 1, 2, 3, 4, 0] if rank == 0 else None)
    finally:
        os.chdir(cwd)
    dist.barrier()
    if rank == 0:
        shutil.rmtree(shared[0])
    assert other in (0, 1) and ws == dist.get_world_size()


class TestGlooProcesses(MultiProcessTestCase):
    """Each test method below runs in 2 spawned processes."""

    timeout = 120

    def setUp(self):
        super().setUp()
        self.port = _free_port()
        # children inherit the environment at spawn time
        with patch.dict(
                os.environ, {
                    'MASTER_ADDR': '127.0.0.1',
                    'MASTER_PORT': str(self.port),
                    'MMENGINE_TEST_PORT2': str(_free_port()),
                }):
            self._spawn_processes()

    def test_pytorch_launcher_and_collectives(self):
        os.environ.update(
            RANK=str(self.rank),
            LOCAL_RANK=str(self.rank),
            WORLD_SIZE=str(self.world_size),
            LOCAL_WORLD_SIZE=str(self.world_size))
        dist.init_dist('pytorch', backend='gloo', timeout=60)
        assert dist.is_distributed()
        assert dist.get_dist_info() == (self.rank, 2)
        assert dist.get_backend() == 'gloo'
        assert dist.get_local_rank() == self.rank
        assert dist.get_local_size() == 2
        assert dist.get_world_size(dist.get_local_group()) == 2
        assert dist.get_default_group() is not None
        assert dist.is_main_process() == (self.rank == 0)
        assert dist.get_comm_device() == torch.device('cpu')
        _check_collectives(self.rank)

    def test_slurm_and_mpi_launchers(self):
        rank = self.rank
        for name in ('MASTER_ADDR', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
            os.environ.pop(name, None)
        # slurm: master address from the node list, port from the argument
        os.environ.update(
            SLURM_PROCID=str(rank),
            SLURM_NTASKS='2',
            SLURM_NODELIST='localhost',
            SLURM_LOCALID=str(rank),
            SLURM_NTASKS_PER_NODE='2')
        with patch('shutil.which', return_value=None):
            dist.init_dist(
                'slurm',
                backend='gloo',
                port=int(os.environ.pop('MASTER_PORT')),
                timeout=60)
        assert os.environ['MASTER_ADDR'] == 'localhost'
        assert dist.get_dist_info() == (rank, 2)
        assert (dist.get_local_rank(), dist.get_local_size()) == (rank, 2)
        t = torch.tensor([rank + 1.])
        dist.all_reduce(t)
        assert t.tolist() == [3.]
        torch_dist.destroy_process_group()
        assert not dist.is_distributed() and dist.get_local_group() is None

        # mpi: ranks from OMPI_* variables
        os.environ.update(
            MASTER_ADDR='127.0.0.1',
            MASTER_PORT=os.environ['MMENGINE_TEST_PORT2'],
            OMPI_COMM_WORLD_RANK=str(rank),
            OMPI_COMM_WORLD_SIZE='2',
            OMPI_COMM_WORLD_LOCAL_RANK=str(rank),
            OMPI_COMM_WORLD_LOCAL_SIZE='2')
        dist.init_dist('mpi', backend='gloo', timeout=60)
        assert dist.get_dist_info() == (rank, 2)
        assert (dist.get_local_rank(), dist.get_local_size()) == (rank, 2)
        assert dist.all_gather_object(rank) == [0, 1]


# --------------------------------------------------------------------------
# a rank that dies (or never joins) must not hang the others
# --------------------------------------------------------------------------

_DEAD_RANK_SCRIPT = textwrap.dedent('''
    import datetime, json, multiprocessing, os, sys, time

    TIMEOUT = 3  # seconds, passed to init_dist

    def wait_for(path, limit=60):
        start = time.time()
        while not os.path.exists(path):
            if time.time() - start > limit:
                raise TimeoutError(path)
            time.sleep(0.02)

    def worker(rank, port, out_dir):
        os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
                          RANK=str(rank), LOCAL_RANK=str(rank),
                          WORLD_SIZE='2')
        import torch
        import torch.distributed as torch_dist
        import mmengine.dist as dist
        # Both ranks have imported torch before the short-timeout group is
        # created: on a loaded machine one may start seconds later.
        open(os.path.join(out_dir, f'ready{rank}'), 'w').close()
        wait_for(os.path.join(out_dir, f'ready{1 - rank}'))
        dist.init_dist('pytorch', backend='gloo', timeout=TIMEOUT)
        # for the dead-rank case; its own (long) timeout, so that only the
        # death of rank 1 can make it fail fast
        spare = torch_dist.new_group(
            [0, 1], timeout=datetime.timedelta(seconds=60))
        dist.barrier()
        dead_flag = os.path.join(out_dir, 'rank1_exits')
        if rank == 1:
            # alive but silent on the default group until rank 0 is done
            # with it (so only the timeout can end rank 0's wait), then dies
            wait_for(os.path.join(out_dir, 'silent_done'), limit=30)
            open(dead_flag, 'w').close()
            os._exit(1)
        report = {}
        for name, group in (('silent', None), ('dead', spare)):
            if name == 'dead':
                open(os.path.join(out_dir, 'silent_done'), 'w').close()
                wait_for(dead_flag)
                time.sleep(0.5)
            start = time.time()
            try:
                dist.all_reduce(torch.ones(1), group=group)
                report[name] = {'raised': None}
            except Exception as e:
                report[name] = {'raised': type(e).__name__,
                                'message': str(e)[:300],
                                'seconds': time.time() - start}
        with open(os.path.join(out_dir, 'report.json'), 'w') as f:
            json.dump(report, f)
        sys.stdout.flush()
        os._exit(0)

    if __name__ == '__main__':
        port, out_dir = int(sys.argv[1]), sys.argv[2]
        ctx = multiprocessing.get_context('spawn')
        procs = [ctx.Process(target=worker, args=(r, port, out_dir))
                 for r in range(2)]
        for p in procs:
            p.start()
        deadline = time.time() + 60
        for p in procs:
            p.join(max(0.1, deadline - time.time()))
        for p in procs:
            if p.is_alive():
                p.kill()
        print('exitcodes', [p.exitcode for p in procs])
''')


def test_dead_or_silent_rank_raises_within_timeout(tmp_path):
    script = tmp_path / 'dead_rank.py'
    script.write_text(_DEAD_RANK_SCRIPT)
    out_file = tmp_path / 'report.json'
    # the whole scenario is bounded: if a collective hung, this times out
    proc = subprocess.run(
        [sys.executable,
         str(script),
         str(_free_port()),
         str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=str(tmp_path))
    assert out_file.exists(), proc.stdout + proc.stderr
    report = json.loads(out_file.read_text())
    # a rank that is alive but absent: the survivor raises after the
    # timeout given to init_dist (3 s), so it did reach the default group
    # (without it, rank 0 would wait until rank 1 gives up after 30 s)
    assert report['silent']['raised'] is not None, report
    assert 2.5 <= report['silent']['seconds'] < 20, report
    assert 'timed out' in report['silent']['message'].lower(), report
    # a rank that died: the survivor raises at once, long before the 60 s
    # timeout of that group, instead of hanging
    assert report['dead']['raised'] is not None, report
    assert report['dead']['seconds'] < 30, report
    assert 'exitcodes [0, 1]' in proc.stdout, proc.stdout + proc.stderr
    assert not glob.glob(str(tmp_path / '.dist_test*'))
