"""Benchmark: building small objects from dict configs vs direct instantiation.

Run: ``python benchmarks/registry.py [--n 10000] [--repeat 20]
[--default-scope]``.

Builds ``n`` objects of a two-attribute class
- directly, ``Point(x=i, y=2)``, and
- through the registry, ``REG.build(dict(type='Point', x=i, y=2))`` (the
  config dicts are created beforehand, as they come from a parsed config),
and prints the time per object and the ratio. ``--default-scope`` builds
with a ``DefaultScope`` set, as inside a Runner (each build then checks
which registry of the tree matches the scope). ``--downstream-scope``
builds through a root registry while the default scope is that of a child
registry holding ``Point``, as when MMEngine code builds a class of a
downstream library (each build switches to the child). Design target
(issue 4): build <= 10x direct; the original engine is ~100x.

Timing: the ``n`` objects are built in chunks of ``--chunk``; direct and
registry chunks alternate, and the fastest chunk of each kind over all
repeats is kept. Short interleaved chunks keep the ratio meaningful on a
machine that is busy with other work (a long run is likely preempted).
"""
import argparse
import time

from mmengine.registry import DefaultScope, Registry


class Point:
    """A small object with two attributes."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, default=10000)
    parser.add_argument('--repeat', type=int, default=20)
    parser.add_argument('--chunk', type=int, default=500)
    scopes = parser.add_mutually_exclusive_group()
    scopes.add_argument(
        '--default-scope',
        action='store_true',
        help='build with a DefaultScope set (as inside a Runner)')
    scopes.add_argument(
        '--downstream-scope',
        action='store_true',
        help='build through a root registry with the default scope of a '
        'child registry that holds the class')
    args = parser.parse_args()

    registry = Registry('point', scope='bench')
    if args.downstream_scope:
        # siblings first, so the child is not the first one searched
        for i in range(4):
            Registry('point', parent=registry, scope=f'bench_other{i}')
        child = Registry('point', parent=registry, scope='bench_child')
        child.register_module(module=Point)
        DefaultScope.get_instance('benchmark', scope_name='bench_child')
    else:
        registry.register_module(module=Point)
    if args.default_scope:
        DefaultScope.get_instance('benchmark', scope_name='bench')
    cfgs = [dict(type='Point', x=i, y=2) for i in range(args.n)]
    build = registry.build

    built = build(cfgs[7])  # the objects are the same either way
    assert type(built) is Point and (built.x, built.y) == (7, 2)

    best_direct = best_build = float('inf')
    total_direct = total_build = 0.0
    for _ in range(args.repeat):
        for start in range(0, args.n, args.chunk):
            chunk = cfgs[start:start + args.chunk]
            t0 = time.perf_counter()
            for i in range(start, start + len(chunk)):
                Point(x=i, y=2)
            t1 = time.perf_counter()
            for cfg in chunk:
                build(cfg)
            t2 = time.perf_counter()
            best_direct = min(best_direct, (t1 - t0) / len(chunk))
            best_build = min(best_build, (t2 - t1) / len(chunk))
            total_direct += t1 - t0
            total_build += t2 - t1

    scope = 'bench (the registry\'s own)' if args.default_scope else \
        'bench_child (a child of the registry)' if args.downstream_scope \
        else 'none'
    print(f'objects: {args.n} x {args.repeat} repeats, chunks of '
          f'{args.chunk}, default scope: {scope}')
    print(f'direct instantiation : {best_direct * 1e6:7.3f} us/object '
          f'(best chunk), {total_direct / args.repeat * 1e3:7.2f} ms '
          f'per {args.n}')
    print(f'registry build       : {best_build * 1e6:7.3f} us/object '
          f'(best chunk), {total_build / args.repeat * 1e3:7.2f} ms '
          f'per {args.n}')
    print(f'ratio build/direct   : {best_build / best_direct:7.2f}x best, '
          f'{total_build / total_direct:7.2f}x mean (target <= 10x)')


if __name__ == '__main__':
    main()
