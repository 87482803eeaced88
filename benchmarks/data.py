"""Memory of DataLoader workers reading a large ``BaseDataset``.

Builds a ``BaseDataset`` of ``--num-items`` (default 1 000 000) annotation
dicts, reads ``--epochs`` (default 3) shuffled epochs through a
``DataLoader`` with ``--workers`` (default 8) forked persistent workers, and
reports the memory of the workers at the end, with ``serialize_data=True``
(one shared numpy buffer) and ``serialize_data=False`` (a Python list of
dicts).

Figures per configuration, summed over the workers (from
``/proc/<pid>/smaps_rollup``, Linux only):

- RSS: resident pages, shared pages counted once per worker;
- PSS: proportional set size, shared pages split between the processes that
  map them (the fair "real" footprint);
- USS: private pages (``Private_Clean + Private_Dirty``), what each worker
  costs on top of the parent. Copy-on-write copies of the annotations show
  up here.

Each configuration runs in a fresh interpreter so the two do not share
allocator state. Usage::

    python benchmarks/data.py                       # 1 M items, 8 workers
    python benchmarks/data.py --num-items 100000 --workers 4

Afterwards it runs ``benchmarks/structures.py`` (``InstanceData`` boolean
indexing throughput), the second figure the dataset issue asks for; pass
``--no-instance-data`` to skip it.
"""
import argparse
import json
import os
import subprocess
import sys
import time

KB = 1024


def read_smaps_rollup(pid: int) -> dict:
    """RSS, PSS and USS of ``pid`` in bytes, read from /proc."""
    values = {}
    with open(f'/proc/{pid}/smaps_rollup') as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == 'kB':
                values[parts[0].rstrip(':')] = int(parts[1]) * KB
    return dict(
        rss=values.get('Rss', 0),
        pss=values.get('Pss', 0),
        uss=values.get('Private_Clean', 0) + values.get('Private_Dirty', 0))


def child_pids(pid: int) -> list:
    """Direct children of ``pid`` (all threads), from /proc."""
    pids = []
    for tid in os.listdir(f'/proc/{pid}/task'):
        with open(f'/proc/{pid}/task/{tid}/children') as f:
            pids.extend(int(p) for p in f.read().split())
    return pids


def run_one(num_items: int, workers: int, batch_size: int, epochs: int,
            serialize: bool) -> dict:
    """Build the dataset, read ``epochs`` shuffled epochs, measure the
    workers."""
    from torch.utils.data import DataLoader

    from mmengine.dataset import BaseDataset

    class SyntheticDataset(BaseDataset):
        """Annotation dicts shaped like a detection dataset's."""

        def load_data_list(self):
            return [
                dict(
                    img_path=f'data/train/{i:08d}.jpg',
                    height=480 + i % 7,
                    width=640 + i % 5,
                    instances=[
                        dict(bbox=[i % 50, 1.0, 100.5, 200.25],
                             bbox_label=i % 80)
                    ]) for i in range(self.num_items)
            ]

        def __init__(self, num_items, **kwargs):
            self.num_items = num_items
            super().__init__(**kwargs)

    t0 = time.perf_counter()
    dataset = SyntheticDataset(num_items, serialize_data=serialize)
    build_s = time.perf_counter() - t0
    parent = read_smaps_rollup(os.getpid())
    buffer_bytes = int(dataset.data_bytes.nbytes +
                       dataset.data_address.nbytes) if serialize else 0

    def count_collate(batch):
        # Return only a count so the IPC back to the parent stays tiny.
        return len(batch)

    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=workers,
        # Shuffled like training: over epochs every worker touches every
        # sample, so copy-on-write copies of a list grow towards the full
        # dataset per worker.
        shuffle=True,
        collate_fn=count_collate,
        persistent_workers=True,  # keep workers alive to measure them
        multiprocessing_context='fork')
    t0 = time.perf_counter()
    for _ in range(epochs):
        seen = sum(loader)
        assert seen == num_items, (seen, num_items)
    epoch_s = (time.perf_counter() - t0) / epochs

    pids = child_pids(os.getpid())
    per_worker = [read_smaps_rollup(p) for p in pids]
    total = {k: sum(w[k] for w in per_worker) for k in ('rss', 'pss', 'uss')}
    del loader
    return dict(
        serialize_data=serialize,
        num_items=num_items,
        workers=len(pids),
        build_s=round(build_s, 2),
        epoch_s=round(epoch_s, 2),
        parent_rss=parent['rss'],
        buffer=buffer_bytes,
        workers_rss=total['rss'],
        workers_pss=total['pss'],
        workers_uss=total['uss'])


def mib(n: int) -> str:
    return f'{n / KB / KB:,.0f}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-items', type=int, default=1_000_000)
    parser.add_argument('--workers', type=int, default=8)
    parser.add_argument('--batch-size', type=int, default=1000)
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--no-instance-data', action='store_true',
                        help='skip the InstanceData indexing benchmark')
    parser.add_argument('--child', choices=['serialized', 'list'],
                        help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        result = run_one(args.num_items, args.workers, args.batch_size,
                         args.epochs, args.child == 'serialized')
        print(json.dumps(result))
        return

    if not os.path.exists('/proc/self/smaps_rollup'):
        sys.exit('benchmarks/data.py needs Linux /proc/<pid>/smaps_rollup')
    results = []
    for mode in ('serialized', 'list'):
        out = subprocess.run([
            sys.executable, __file__, '--child', mode, '--num-items',
            str(args.num_items), '--workers',
            str(args.workers), '--batch-size',
            str(args.batch_size), '--epochs',
            str(args.epochs)
        ],
                             check=True,
                             capture_output=True,
                             text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))

    print(f'BaseDataset of {args.num_items:,} items, {args.workers} '
          f'DataLoader workers (fork), {args.epochs} shuffled epochs, '
          f'batch {args.batch_size}; memory at the end (epoch s = mean)')
    header = (f'{"serialize_data":>15} {"build s":>8} {"epoch s":>8} '
              f'{"parent RSS":>11} {"workers RSS":>12} {"workers PSS":>12} '
              f'{"workers USS":>12}  (MiB)')
    print(header)
    for r in results:
        print(f'{str(r["serialize_data"]):>15} {r["build_s"]:>8} '
              f'{r["epoch_s"]:>8} {mib(r["parent_rss"]):>11} '
              f'{mib(r["workers_rss"]):>12} {mib(r["workers_pss"]):>12} '
              f'{mib(r["workers_uss"]):>12}')
    ser, lst = results
    print(f'serialized buffer (bytes + offsets): {mib(ser["buffer"])} MiB')
    if ser['workers_pss']:
        print(f'workers PSS: list / serialized = '
              f'{lst["workers_pss"] / ser["workers_pss"]:.1f}x; '
              f'workers USS: list / serialized = '
              f'{lst["workers_uss"] / max(ser["workers_uss"], 1):.1f}x')

    if not args.no_instance_data:
        print('\nInstanceData boolean indexing (benchmarks/structures.py):',
              flush=True)
        subprocess.run([
            sys.executable,
            os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         'structures.py')
        ],
                       check=True)


if __name__ == '__main__':
    main()
