"""The ``mmengine`` command line (``python -m mmengine ...``).

The ``tools/train.py`` / ``tools/test.py`` scripts that every downstream
repository copies, built in once::

    python -m mmengine train CONFIG [--work-dir D] [--resume [CKPT]] [--amp]
                                    [--auto-scale-lr] [--cfg-options k=v ...]
                                    [--launcher none|pytorch|slurm|mpi]
    python -m mmengine test CONFIG CHECKPOINT [--work-dir D] [--out FILE]
                                    [--cfg-options k=v ...] [--launcher ...]
    python -m mmengine print-config CONFIG [--cfg-options k=v ...]
    python -m mmengine collect-env

Each sub-command lives in its own module; this one only dispatches.
"""
import argparse
import sys
from typing import List, Optional

from . import collect_env, print_config, test, train

__all__ = ['build_parser', 'main']

_COMMANDS = {
    'train': train,
    'test': test,
    'print-config': print_config,
    'collect-env': collect_env,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog='mmengine',
        description='Train, test and inspect MMEngine configs.')
    commands = parser.add_subparsers(
        dest='command', metavar='COMMAND', required=True)
    for name, module in _COMMANDS.items():
        sub = commands.add_parser(
            name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``python -m mmengine`` and the ``mmengine`` script.

    Returns:
        int: the process exit status.
    """
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    result = args._run(args)
    return 0 if result is None else int(result)
