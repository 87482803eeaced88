"""Import-time benchmark.

Median of 5 fresh interpreter processes for each import, net of the
interpreter start-up, and net of ``import torch`` where the module pulls
torch in.

    python benchmarks/imports.py
"""
import os
import statistics
import subprocess
import sys

RUNS = 5
TARGETS = ['mmengine', 'mmengine.fileio', 'mmengine.logging', 'mmengine.runner']

_PROBE = r'''
import sys, time
pre = sys.argv[1]
target = sys.argv[2]
if pre:
    __import__(pre)
t0 = time.perf_counter()
__import__(target)
dt = time.perf_counter() - t0
print(dt, 'torch' in sys.modules)
'''


# Byte-code caches are written and used, as in an installed package (a
# PYTHONDONTWRITEBYTECODE=1 environment would time source compilation).
_ENV = {k: v for k, v in os.environ.items() if k != 'PYTHONDONTWRITEBYTECODE'}


def _time_import(target: str, pre: str = ''):
    out = subprocess.run([sys.executable, '-c', _PROBE, pre, target],
                         check=True, capture_output=True, text=True,
                         env=_ENV).stdout
    seconds, torch_loaded = out.split()
    return float(seconds), torch_loaded == 'True'


def measure(target: str):
    """Median seconds to import ``target`` in a fresh process.

    If the import pulls torch in, torch is imported first (untimed) so the
    figure is net of torch.
    """
    times, pulled_torch = [], False
    for _ in range(RUNS):
        seconds, torch_loaded = _time_import(target)
        pulled_torch = pulled_torch or torch_loaded
        times.append(seconds)
    if pulled_torch:
        times = [_time_import(target, pre='torch')[0] for _ in range(RUNS)]
    return statistics.median(times), pulled_torch


def main():
    print(f'{"import":<24}{"median (ms)":>12}  torch pulled')
    for target in TARGETS:
        median, pulled = measure(target)
        note = 'yes (figure net of torch)' if pulled else 'no'
        print(f"{target:<24}{median * 1000:>12.1f}  {note}", flush=True)


if __name__ == '__main__':
    main()
