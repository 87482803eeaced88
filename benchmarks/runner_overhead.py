"""Framework overhead of the Runner per training iteration (DESIGN §3).

A tiny model on CPU, so the engine's own work shows: the same
forward/backward/step is run by

* a plain PyTorch loop over the same ``DataLoader``,
* a loop calling ``model.train_step(batch, optim_wrapper)`` (the model /
  optimizer-wrapper side of the engine, no Runner), and
* ``Runner.train()`` with the default hooks (logging every 10 iterations to
  a file, checkpoint at the end), iteration-based.

Prints the median wall-clock and CPU time (``time.process_time``) per
iteration of each (several alternating rounds) and the overhead in percent,
plus the ``Runner(...)`` construction + train setup time. The machine may be
shared: the CPU time is the less noisy figure.

    python benchmarks/runner_overhead.py [--iters 2000] [--rounds 5]
"""
import argparse
import logging
import statistics
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from mmengine.model import BaseModel

IN, HIDDEN, OUT, BATCH = 64, 128, 10, 32


class Net(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(IN, HIDDEN)
        self.fc2 = nn.Linear(HIDDEN, OUT)

    def forward(self, inputs, labels=None, mode='tensor'):
        logits = self.fc2(F.relu(self.fc1(inputs)))
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, labels))
        return logits


def make_loader(num_samples):
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(
        torch.randn(num_samples, IN, generator=g),
        torch.randint(0, OUT, (num_samples, ), generator=g))
    return DataLoader(data, batch_size=BATCH, shuffle=False, num_workers=0)


def plain_loop(iters):
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loader = make_loader(BATCH * 100)
    done = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while done < iters:
        for inputs, labels in loader:
            loss = F.cross_entropy(model(inputs), labels)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            done += 1
            if done == iters:
                break
    return ((time.perf_counter() - t0) / iters,
            (time.process_time() - c0) / iters)


def train_step_loop(iters):
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    model = Net()
    model.train()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    loader = make_loader(BATCH * 100)
    done = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while done < iters:
        for data_batch in loader:
            model.train_step(data_batch, optim_wrapper)
            done += 1
            if done == iters:
                break
    return ((time.perf_counter() - t0) / iters,
            (time.process_time() - c0) / iters)


def runner_loop(iters, work_dir):
    from mmengine.hooks import Hook
    from mmengine.runner import Runner
    torch.manual_seed(0)
    t0 = time.perf_counter()
    runner = Runner(
        model=Net(),
        work_dir=work_dir,
        train_dataloader=make_loader(BATCH * 100),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=iters, val_interval=10**9),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=10**9)),
        log_processor=dict(by_epoch=False),
        log_level='WARNING')
    built = time.perf_counter() - t0
    times = {}

    class ClockHook(Hook):
        """Times the loop itself, between the last before_train hook and
        the first after_train hook."""

        def before_train(self, runner):
            times['setup'] = time.perf_counter() - t0
            times['start'] = time.perf_counter()
            times['cpu_start'] = time.process_time()

        def after_train(self, runner):
            times['end'] = time.perf_counter()
            times['cpu_end'] = time.process_time()

    runner.register_hook(ClockHook(), priority='LOWEST')
    runner.train()
    return ((times['end'] - times['start']) / iters,
            (times['cpu_end'] - times['cpu_start']) / iters, built,
            times['setup'])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--iters', type=int, default=2000)
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.disable(logging.WARNING)
    rows = {'plain': ([], []), 'train_step': ([], []), 'runner': ([], [])}
    builds, setups = [], []
    for _ in range(args.rounds):
        for name, fn in (('plain', plain_loop),
                         ('train_step', train_step_loop)):
            wall, cpu = fn(args.iters)
            rows[name][0].append(wall)
            rows[name][1].append(cpu)
        with tempfile.TemporaryDirectory() as work_dir:
            wall, cpu, built, setup = runner_loop(args.iters, work_dir)
        rows['runner'][0].append(wall)
        rows['runner'][1].append(cpu)
        builds.append(built)
        setups.append(setup)
    med = {name: (statistics.median(w), statistics.median(c))
           for name, (w, c) in rows.items()}
    p, pc = med['plain']
    labels = {'plain': 'plain PyTorch loop', 'train_step': 'train_step loop',
              'runner': 'Runner, default hooks'}
    for name, (w, c) in med.items():
        extra = '' if name == 'plain' else (
            f'  ({100 * (w / p - 1):+.1f} % wall,'
            f' {100 * (c / pc - 1):+.1f} % cpu)')
        print(f'{labels[name]:22s}: {w * 1e6:8.1f} us/iter wall,'
              f' {c * 1e6:8.1f} us/iter cpu{extra}')
    e, ec = med['runner']
    print(f'overhead           : {100 * (e / p - 1):+.1f} % wall,'
          f' {100 * (ec / pc - 1):+.1f} % cpu  (target <= +5 %)')
    build_ms = statistics.median(builds) * 1e3
    print(f'Runner(...) construction: {build_ms:.1f} ms;'
          f' construction + train setup: {statistics.median(setups) * 1e3:.1f}'
          ' ms (target < 100 ms)')


if __name__ == '__main__':
    main()
