"""InstanceData boolean-indexing throughput.

Times ``inst[inst.scores > thr]`` on an ``InstanceData`` holding typical
detection fields, against the floor of indexing the same tensors by hand
(the work any implementation must do). Reports the best microseconds per
call over interleaved rounds, the structure's own overhead (the
difference) and calls per second. Times are CPU time of this process
(``time.process_time``), so other load on a shared machine inflates them
far less than wall-clock time would; pass ``--wall`` for wall-clock time.

    python benchmarks/structures.py [--instances 1000] [--repeat 2000]
"""
import argparse
import time

import numpy as np
import torch

from mmengine.structures import InstanceData


def _make(num: int, with_numpy: bool, with_list: bool) -> InstanceData:
    g = torch.Generator().manual_seed(0)
    inst = InstanceData(metainfo=dict(img_shape=(800, 1333), img_id=1))
    inst.bboxes = torch.rand((num, 4), generator=g)
    inst.scores = torch.rand((num, ), generator=g)
    inst.labels = torch.randint(0, 80, (num, ), generator=g)
    if with_numpy:
        inst.areas = np.random.default_rng(0).random(num)
    if with_list:
        inst.names = [f'obj{i}' for i in range(num)]
    return inst


def _time_pair(fn_a, fn_b, repeat: int, rounds: int = 7, clock=None):
    """Best seconds per call of two functions over ``rounds`` interleaved
    rounds of ``repeat`` calls (the minimum is the least disturbed by
    other load on the machine)."""
    clock = clock or time.process_time
    best_a = best_b = float('inf')
    for _ in range(rounds):
        for fn, which in ((fn_a, 'a'), (fn_b, 'b')):
            t0 = clock()
            for _ in range(repeat):
                fn()
            dt = (clock() - t0) / repeat
            if which == 'a':
                best_a = min(best_a, dt)
            else:
                best_b = min(best_b, dt)
    return best_a, best_b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--instances', type=int, default=1000)
    parser.add_argument('--repeat', type=int, default=2000)
    parser.add_argument(
        '--wall', action='store_true', help='time wall-clock, not CPU time')
    args = parser.parse_args()
    torch.set_num_threads(1)
    clock = time.perf_counter if args.wall else time.process_time

    print(f'InstanceData bool indexing, {args.instances} instances, '
          f'torch {torch.__version__}, 1 thread, '
          f'{"wall-clock" if args.wall else "CPU"} time')
    print(f'{"fields":<34}{"InstanceData":>14}{"raw floor":>12}'
          f'{"overhead":>11}{"calls/s":>10}')
    for label, with_np, with_list in (
        ('3 tensors', False, False),
        ('3 tensors + ndarray', True, False),
        ('3 tensors + ndarray + list[str]', True, True),
    ):
        inst = _make(args.instances, with_np, with_list)
        mask = inst.scores > 0.5
        fields = dict(inst.items())
        np_mask = mask.numpy()

        def raw():
            out = {}
            for k, v in fields.items():
                if isinstance(v, torch.Tensor):
                    out[k] = v[mask]
                elif isinstance(v, np.ndarray):
                    out[k] = v[np_mask]
                else:
                    idx = mask.nonzero().view(-1).tolist()
                    out[k] = [v[i] for i in idx]
            return out

        result = inst[mask]
        assert len(result) == int(mask.sum())
        t_inst, t_raw = _time_pair(
            lambda: inst[mask], raw, args.repeat, clock=clock)
        print(f'{label:<34}{t_inst * 1e6:>11.1f} us{t_raw * 1e6:>9.1f} us'
              f'{(t_inst - t_raw) * 1e6:>8.1f} us{1 / t_inst:>10.0f}')


if __name__ == '__main__':
    main()
