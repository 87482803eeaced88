"""collect_results benchmark: shared-directory (cpu) vs tensor (gpu) mode.

Two gloo processes on the CPU each hold half of N small results (dicts with
a few numbers and a short string, like per-sample metric results); rank 0
collects all of them in dataset order. Each mode is timed REPEATS times
(median, seconds, between two barriers on rank 0).

    python benchmarks/dist.py [--num 10000] [--repeats 5]

``device='gpu'`` means "through the communication backend": with gloo the
results are pickled into CPU tensors and sent over TCP; with NCCL they
would travel as CUDA tensors.
"""
import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from queue import Empty


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, num: int, repeats: int, queue) -> None:
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE='2')
    import mmengine.dist as dist
    dist.init_dist('pytorch', backend='gloo', timeout=300)
    world_size = dist.get_world_size()
    # sampler-style sharding: rank r holds samples r, r + ws, ...
    part = [{
        'idx': i,
        'score': i * 0.5,
        'pred': [i % 7, i % 11],
        'name': f'img_{i:06d}.jpg'
    } for i in range(rank, num, world_size)]
    times = {}
    with tempfile.TemporaryDirectory() as cwd:
        os.chdir(cwd)  # the cpu mode's default tmpdir goes under ./
        for device in ('cpu', 'gpu'):
            samples = []
            for _ in range(repeats):
                dist.barrier()
                start = time.perf_counter()
                out = dist.collect_results(part, num, device=device)
                dist.barrier()
                samples.append(time.perf_counter() - start)
                if rank == 0:
                    assert [r['idx'] for r in out] == list(range(num))
            times[device] = samples
    if rank == 0:
        queue.put(times)
    import torch.distributed as torch_dist
    torch_dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num', type=int, default=10000)
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()

    import torch.multiprocessing as mp
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    port = _free_port()
    procs = [
        ctx.Process(
            target=_worker, args=(r, port, args.num, args.repeats, queue))
        for r in range(2)
    ]
    for p in procs:
        p.start()
    # Poll, so that a worker that dies ends the benchmark at once instead
    # of leaving the other one waiting in a collective.
    deadline = time.time() + 600
    times = None
    while times is None:
        try:
            times = queue.get(timeout=1)
        except Empty:
            if (any(p.exitcode not in (None, 0) for p in procs)
                    or time.time() > deadline):
                break
    for p in procs:
        p.join(60 if times is not None else 0)
        if p.is_alive():
            p.kill()
            p.join()
    if times is None or any(p.exitcode != 0 for p in procs):
        sys.exit(f'worker failed: exit codes {[p.exitcode for p in procs]}')
    print(f'collect_results of {args.num} small results on 2 gloo ranks '
          f'(median of {args.repeats}):')
    for device, samples in times.items():
        med = statistics.median(samples)
        print(f"  device={device!r:6} {med * 1e3:8.1f} ms   "
              f"(min {min(samples) * 1e3:.1f}, max {max(samples) * 1e3:.1f})")
    ratio = statistics.median(times['cpu']) / statistics.median(times['gpu'])
    print(f'  cpu / gpu time ratio: {ratio:.2f}')


if __name__ == '__main__':
    main()
