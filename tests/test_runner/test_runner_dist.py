"""EX-RUN-19: a real 2-process (gloo, CPU) run launched with torchrun;
EX-RUN-11: FSDP in the same processes."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

SCRIPT = '''
import argparse, json, os
import torch
from mmengine.hooks import Hook
from mmengine.registry import DATASETS, METRICS, MODELS
from mmengine.runner import Runner, set_random_seed
from mmengine.testing.runner_test_case import ToyDataset, ToyMetric, ToyModel

parser = argparse.ArgumentParser()
parser.add_argument('work_dir')
parser.add_argument('--launcher', default='none')
args = parser.parse_args()
# Same data on every rank (ToyDataset draws its points at import).
ToyDataset.data = torch.arange(24.).view(12, 2) / 10
MODELS.register_module(module=ToyModel, force=True)
DATASETS.register_module(module=ToyDataset, force=True)
METRICS.register_module(module=ToyMetric, force=True)
seen = []
saves = []


class Seen(Hook):

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        seen.extend(float(x.sum()) for x in data_batch['inputs'])

    def before_save_checkpoint(self, runner, checkpoint):
        saves.append(checkpoint['meta']['epoch'])


def loader(shuffle):
    return dict(dataset=dict(type='ToyDataset'),
                sampler=dict(type='DefaultSampler', shuffle=shuffle),
                batch_size=3)


runner = Runner(
    model=dict(type='ToyModel'), work_dir=args.work_dir,
    train_dataloader=loader(True), val_dataloader=loader(False),
    val_evaluator=dict(type='ToyMetric'),
    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
    train_cfg=dict(by_epoch=True, max_epochs=2), val_cfg=dict(),
    launcher=args.launcher, env_cfg=dict(dist_cfg=dict(backend='gloo')),
    custom_hooks=[Seen()], experiment_name='dist')
runner.train()
out = dict(rank=runner.rank, world_size=runner.world_size,
           model_type=type(runner.model).__name__, iters=runner.iter,
           weights={k: v.tolist()
                    for k, v in runner.model.state_dict().items()},
           seen=seen, saves=saves, metrics=runner.val(), seed=runner.seed,
           timestamp=runner.timestamp,
           diff_rank_seed=set_random_seed(5, diff_rank_seed=True))


# EX-RUN-11: FSDP (cfg.model_wrapper_cfg) trains, checkpoints hold the full
# (gathered) weights, and resuming from them is exact.
def fsdp_runner(work_dir, name, **kwargs):
    return Runner(
        model=dict(type='ToyModel'), work_dir=work_dir,
        train_dataloader=loader(True),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        launcher=args.launcher, experiment_name=name,
        randomness=dict(seed=3),
        cfg=dict(model_wrapper_cfg=dict(type='MMFullyShardedDataParallel')),
        **kwargs)


def saved_weights(path):
    state = torch.load(path, weights_only=True)['state_dict']
    return {k: v.tolist() for k, v in state.items()}


fsdp_dir = args.work_dir + '_fsdp'
straight = fsdp_runner(os.path.join(fsdp_dir, 'a'), 'fsdp_a')
straight.train()
torch.distributed.barrier()
resumed = fsdp_runner(os.path.join(fsdp_dir, 'b'), 'fsdp_b', resume=True,
                      load_from=os.path.join(fsdp_dir, 'a', 'epoch_1.pth'))
resumed.train()
torch.distributed.barrier()
out['fsdp'] = dict(
    model_type=type(straight.model).__name__, iters=resumed.iter,
    straight=saved_weights(os.path.join(fsdp_dir, 'a', 'epoch_2.pth')),
    resumed=saved_weights(os.path.join(fsdp_dir, 'b', 'epoch_2.pth')))
with open(os.path.join(args.work_dir, f'result_{runner.rank}.json'), 'w') as f:
    json.dump(out, f)
'''


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.skipif(sys.platform == 'win32', reason='torchrun + gloo on CPU')
def test_two_process_gloo_training(tmp_path):
    script = tmp_path / 'train.py'
    script.write_text(SCRIPT)
    work_dir = tmp_path / 'work_dir'
    env = dict(os.environ)
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    env['PYTHONPATH'] = os.pathsep.join([root] + sys.path)
    env.pop('CUDA_VISIBLE_DEVICES', None)
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         f'--master_port={_free_port()}', str(script), str(work_dir),
         '--launcher', 'pytorch'],
        env=env, capture_output=True, timeout=240)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    results = []
    for rank in (0, 1):
        with open(work_dir / f'result_{rank}.json') as f:
            results.append(json.load(f))
    r0, r1 = results
    assert (r0['rank'], r1['rank']) == (0, 1)
    assert r0['world_size'] == r1['world_size'] == 2
    assert r0['model_type'] == 'MMDistributedDataParallel'
    # DefaultSampler shards the 12 samples: 2 iterations per epoch per rank
    assert r0['iters'] == r1['iters'] == 4
    # each epoch, the two ranks see disjoint halves of the dataset
    for epoch in range(2):
        a = r0['seen'][epoch * 6:(epoch + 1) * 6]
        b = r1['seen'][epoch * 6:(epoch + 1) * 6]
        assert sorted(a + b) == pytest.approx(
            [(4 * i + 1) / 10 for i in range(12)])
    # DDP keeps the replicas identical; seed, timestamp, metrics agree
    assert r0['weights'] == r1['weights']
    assert r0['seed'] == r1['seed'] and r0['timestamp'] == r1['timestamp']
    assert r0['metrics'] == r1['metrics'] == dict(acc=1)
    # EX-RUN-11: FSDP checkpoints hold full-shape weights; resume is exact
    fsdp = r0['fsdp']
    assert fsdp['model_type'] == 'MMFullyShardedDataParallel'
    assert fsdp['iters'] == 4
    assert [len(w) for w in fsdp['straight'].values()] == [2, 2, 1, 1]
    assert len(fsdp['straight']['linear1.weight'][0]) == 2
    assert fsdp['straight'] == fsdp['resumed'] == r1['fsdp']['straight']
    # randomness.diff_rank_seed: seed + rank
    assert (r0['diff_rank_seed'], r1['diff_rank_seed']) == (5, 6)
    # only rank 0 writes checkpoints and the (single) log file
    assert r0['saves'] == [1, 2] and r1['saves'] == []
    names = sorted(os.listdir(work_dir))
    assert names == sorted([
        r0['timestamp'], 'epoch_1.pth', 'epoch_2.pth', 'last_checkpoint',
        'result_0.json', 'result_1.json'
    ])
    logs = [n for n in os.listdir(work_dir / r0['timestamp'])
            if n.endswith('.log')]
    assert logs == [f"{r0['timestamp']}.log"]
